#include "cli/progress_view.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>
#include <vector>

namespace herald::cli {
namespace json = boost::json;

namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026, one column
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

struct Decoded {
  char32_t cp;
  size_t len;
  bool valid;
};

// One UTF-8 sequence at `s[i]`; an invalid or truncated one is one byte.
Decoded DecodeAt(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return {b, 1, true};
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return {0xFFFD, 1, false};
  }
  if (i + len > s.size()) return {0xFFFD, 1, false};
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return {0xFFFD, 1, false};
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0xFFFD, 1, false};
  return {cp, len, true};
}

// A small wcwidth: enough for messages with accents, CJK and emoji.
size_t CodePointWidth(char32_t cp) {
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F))
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

std::optional<double> NumberField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  if (v->is_double()) return v->as_double();
  return std::nullopt;
}

int Percent(const json::object& payload) {
  double p = NumberField(payload, "progress").value_or(0);
  if (!std::isfinite(p)) p = 0;
  return static_cast<int>(std::clamp(p, 0.0, 100.0));
}

// The message, or the status when there is none ("pending", "completed").
std::string MessageOf(const json::object& payload) {
  std::string message = OneLine(StringField(payload, "message"));
  if (message.empty()) message = StringField(payload, "status");
  return message;
}

std::string FormatScore(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", score);
  std::string s = buf;
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    width += d.valid ? CodePointWidth(d.cp) : 1;
    i += d.len;
  }
  return width;
}

std::string TruncateToWidth(std::string_view text, size_t columns) {
  bool fits = DisplayWidth(text) <= columns;
  size_t budget = fits ? columns : (columns == 0 ? 0 : columns - 1);  // room for "…"
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    size_t w = d.valid ? CodePointWidth(d.cp) : 1;
    if (used + w > budget) break;
    if (d.valid) {
      out.append(text.substr(i, d.len));
    } else {
      out.append(kReplacement);
    }
    used += w;
    i += d.len;
  }
  if (!fits && columns > 0) out.append(kEllipsis);
  return out;
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string RenderBarLine(const json::object& payload, int width) {
  int pct = Percent(payload);
  int cells = std::clamp(width / 4, 10, 30);
  int filled = pct * cells / 100;
  std::string line = "[";
  line.append(static_cast<size_t>(filled), '#');
  line.append(static_cast<size_t>(cells - filled), '.');
  char buf[16];
  std::snprintf(buf, sizeof buf, "] %3d%%", pct);
  line += buf;

  // Everything after the percentage shares what is left of the line.
  size_t limit = width > 1 ? static_cast<size_t>(width - 1) : 0;
  size_t used = line.size();
  std::string step = OneLine(StringField(payload, "step"));
  std::string message = MessageOf(payload);
  for (const std::string* part : {&step, &message}) {
    if (part->empty() || used + 3 > limit) continue;  // "  " and one column at least
    std::string fitted = TruncateToWidth(*part, limit - used - 2);
    line += "  ";
    line += fitted;
    used += 2 + DisplayWidth(fitted);
  }
  return line;
}

std::string RenderPlainLine(const json::object& payload) {
  std::string line = std::to_string(Percent(payload)) + "%";
  std::string step = OneLine(StringField(payload, "step"));
  std::string message = MessageOf(payload);
  if (!step.empty()) line += " " + step;
  if (!message.empty()) line += (step.empty() ? " " : ": ") + message;
  return line;
}

std::string RenderAuditSummary(const json::object& job) {
  static constexpr std::array<std::string_view, 4> kSeverities = {"critical", "high", "medium",
                                                                  "low"};
  const json::object* report = nullptr;
  if (const json::value* r = job.if_contains("report"); r && r->is_object())
    report = &r->as_object();

  std::string out;
  std::optional<double> score;
  if (report) score = NumberField(*report, "geo_score");
  if (!score) score = NumberField(job, "geo_score");
  if (score) out += "GEO score " + FormatScore(*score) + " / 100\n";

  // Counts: the report's issue_counts, else the payload's *_issues fields.
  std::array<std::optional<double>, 4> counts;
  const json::object* issue_counts = nullptr;
  if (report) {
    if (const json::value* c = report->if_contains("issue_counts"); c && c->is_object())
      issue_counts = &c->as_object();
  }
  bool any_count = false;
  for (size_t i = 0; i < kSeverities.size(); ++i) {
    if (issue_counts) counts[i] = NumberField(*issue_counts, kSeverities[i]);
    if (!counts[i]) counts[i] = NumberField(job, std::string(kSeverities[i]) + "_issues");
    any_count = any_count || counts[i].has_value();
  }
  if (any_count) {
    std::string line = "Issues:";
    double total = 0;
    for (size_t i = 0; i < kSeverities.size(); ++i) {
      double n = counts[i].value_or(0);
      total += n;
      line += (i == 0 ? " " : ", ") + std::to_string(static_cast<int64_t>(n)) + " " +
              std::string(kSeverities[i]);
    }
    out += total == 0 ? "Issues: none\n" : line + "\n";
  }

  // Up to five findings, worst severity first, in the report's order within
  // a severity.
  constexpr size_t kMaxFindings = 5;
  std::string findings;
  size_t shown = 0;
  const json::value* all = report ? report->if_contains("findings") : nullptr;
  for (std::string_view severity : kSeverities) {
    if (!all || shown >= kMaxFindings) break;
    std::vector<const json::object*> list;
    if (all->is_object()) {
      if (const json::value* arr = all->as_object().if_contains(severity); arr && arr->is_array())
        for (const json::value& f : arr->as_array())
          if (f.is_object()) list.push_back(&f.as_object());
    } else if (all->is_array()) {
      for (const json::value& f : all->as_array())
        if (f.is_object() && StringField(f.as_object(), "severity") == severity)
          list.push_back(&f.as_object());
    }
    for (const json::object* f : list) {
      if (shown >= kMaxFindings) break;
      ++shown;
      std::string page = OneLine(StringField(*f, "page"));
      std::string check = OneLine(StringField(*f, "check_id"));
      std::string message = OneLine(StringField(*f, "message"));
      std::string fix = OneLine(StringField(*f, "fix"));
      findings += "  [" + std::string(severity) + "] " + (message.empty() ? check : message);
      if (!check.empty() && !message.empty()) findings += " (" + check + ")";
      findings += "\n";
      if (!page.empty()) findings += "      page: " + page + "\n";
      // A problem found on many pages is one finding listing them.
      if (const json::value* pages = f->if_contains("pages"); pages && pages->is_array()) {
        const json::array& list = pages->get_array();
        std::string line;
        for (std::size_t i = 0; i < list.size() && i < 2; ++i) {
          if (list[i].is_string()) line += (i ? ", " : "") + OneLine(list[i].get_string());
        }
        if (list.size() > 2) line += " and " + std::to_string(list.size() - 2) + " more";
        if (!line.empty()) {
          findings += "      pages (" + std::to_string(list.size()) + "): " + line + "\n";
        }
      }
      if (!fix.empty()) findings += "      fix:  " + fix + "\n";
    }
  }
  if (shown > 0) out += "Worst findings:\n" + findings;
  if (out.empty()) out = "Audit completed.\n";
  return out;
}

std::string RenderFailure(bool audit, int64_t id, const json::object& payload) {
  std::string error = OneLine(StringField(payload, "error_message"));
  if (error.empty()) error = OneLine(StringField(payload, "error"));
  if (error.empty()) error = "no reason given";
  return std::string(audit ? "Audit " : "Job ") + std::to_string(id) + " failed: " + error + "\n";
}

std::string RenderJobCompleted(int64_t id, const json::object& payload) {
  std::string message = OneLine(StringField(payload, "message"));
  return "Job " + std::to_string(id) + " completed" + (message.empty() ? "" : ": " + message) +
         "\n";
}

ProgressView::ProgressView(std::ostream& out, bool tty, int width)
    : out_(out), tty_(tty), width_(width) {}

void ProgressView::Update(const json::object& payload) {
  if (tty_) {
    std::string line = RenderBarLine(payload, width_);
    if (line_open_ && line == last_) return;
    out_ << '\r' << line << "\x1b[K" << std::flush;  // erase what a longer line left
    line_open_ = true;
    last_ = std::move(line);
  } else {
    std::string line = RenderPlainLine(payload);
    if (line == last_) return;
    out_ << line << '\n' << std::flush;
    last_ = std::move(line);
  }
}

void ProgressView::Finish() {
  if (tty_ && line_open_) out_ << '\n' << std::flush;
  line_open_ = false;
}

}  // namespace herald::cli
