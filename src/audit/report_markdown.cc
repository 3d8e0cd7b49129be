#include "audit/report_markdown.h"

#include <boost/json.hpp>

#include <array>
#include <map>
#include <string_view>
#include <vector>

#include "common/json_text.h"

namespace herald::audit {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kSeverities = {"critical", "high", "medium", "low"};

// Inline text from the audited site or the request: one line, and every
// character Markdown (or the HTML it may contain) gives a meaning to is
// escaped, so "<script>" or "[x](javascript:...)" in a page title stays text.
std::string Inline(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      // Brackets escaped, parentheses cannot make a link; text never starts
      // a line, so #, + and - cannot make a heading or a list.
      case '\\':
      case '`':
      case '*':
      case '_':
      case '{':
      case '}':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '~':
      case '&':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Text in a code span, where backslashes are literal: one line, and no
// backtick to end the span early.
std::string Code(std::string_view text) {
  std::string out = "`";
  for (char c : text) out += (c == '`' ? '\'' : (c == '\n' || c == '\r') ? ' ' : c);
  return out + "`";
}

// A URL as a link whose target cannot break out of the angle brackets.
std::string Link(std::string_view url) {
  std::string target;
  for (char c : url) {
    if (c == '<' || c == '>' || c == ' ' || c == '\n' || c == '\r') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      target += '%';
      target += kHex[static_cast<unsigned char>(c) >> 4];
      target += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      target += c;
    }
  }
  return "[" + Inline(url) + "](<" + target + ">)";
}

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// A number as people write it (78.5, 12), or "" when absent.
std::string Num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? JsonText(*v) : std::string();
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* Arr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The findings of one severity, in the report's order, grouped by check:
// the check's first message heads the group, and the pages follow (each
// with its own message where it differs).
struct CheckGroup {
  std::string check_id;
  std::string message;
  std::string fix;
  std::vector<const json::object*> findings;
};

std::vector<CheckGroup> GroupByCheck(const json::array& findings) {
  std::vector<CheckGroup> groups;
  std::map<std::string, size_t> index;
  for (const json::value& v : findings) {
    if (!v.is_object()) continue;
    const json::object& f = v.get_object();
    std::string check(Str(f, "check_id"));
    auto [it, fresh] = index.emplace(check, groups.size());
    if (fresh) {
      groups.push_back({check, std::string(Str(f, "message")), std::string(Str(f, "fix")), {}});
    }
    groups[it->second].findings.push_back(&f);
  }
  return groups;
}

void RenderFindings(const json::object& report, std::string& out) {
  const json::object* findings = Obj(report, "findings");
  const json::object* counts = Obj(report, "issue_counts");
  int64_t total = 0;
  std::string tally;
  for (std::string_view s : kSeverities) {
    const json::array* list = findings ? Arr(*findings, s) : nullptr;
    int64_t n = list ? static_cast<int64_t>(list->size()) : 0;
    if (counts) {
      if (const json::value* c = counts->if_contains(s); c && c->is_int64()) n = c->get_int64();
    }
    total += n;
    tally += (tally.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(s);
  }
  out += "\n## Issues\n\n";
  if (total == 0) {
    out += "No issues found.\n";
    return;
  }
  out += tally + ".\n";
  for (std::string_view s : kSeverities) {
    const json::array* list = findings ? Arr(*findings, s) : nullptr;
    if (!list || list->empty()) continue;
    std::string title(s);
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
    out += "\n### " + title + "\n";
    for (const CheckGroup& g : GroupByCheck(*list)) {
      // Pages the check fired on: each finding's page, or the pages a
      // site-wide finding lists; a site-wide finding alone has none.
      struct Row {
        std::string_view page, message, evidence, fix;
        std::string line;
      };
      std::vector<Row> rows;
      bool same_message = true;
      for (const json::object* f : g.findings) {
        same_message = same_message && Str(*f, "message") == g.message;
        const std::string line = Num(*f, "line");
        if (!Str(*f, "page").empty() || !Str(*f, "evidence").empty())
          rows.push_back(
              {Str(*f, "page"), Str(*f, "message"), Str(*f, "evidence"), Str(*f, "fix"), line});
        if (const json::array* listed = Arr(*f, "pages")) {
          for (const json::value& p : *listed)
            if (p.is_string()) rows.push_back({p.get_string(), Str(*f, "message"), "", "", ""});
        }
      }
      size_t pages = 0;
      for (const Row& r : rows) pages += !r.page.empty();
      // One message for all: it heads the group. Messages that differ by
      // page (they name what is wrong there) follow each page instead.
      out += "\n#### " + (same_message ? Inline(g.message) : Code(g.check_id)) + "\n\n";
      if (same_message) out += Code(g.check_id) + ", ";
      out += pages == 0 ? std::string("site-wide")
                        : Plural(static_cast<int64_t>(pages), "page", "pages");
      out += "\n";
      if (!g.fix.empty()) out += "\n**Fix:** " + Inline(g.fix) + "\n";
      if (!rows.empty()) out += "\n";
      for (const Row& r : rows) {
        out += "- " + (r.page.empty() ? std::string("site") : Link(r.page));
        if (!same_message) out += ": " + Inline(r.message);
        if (!r.evidence.empty()) {
          out += " (" + (r.line.empty() ? std::string() : "line " + r.line + ": ") +
                 Code(r.evidence) + ")";
        }
        // A fix of its own (a robots.txt line's correction) follows it.
        if (!r.fix.empty() && r.fix != g.fix) out += " Fix: " + Inline(r.fix);
        out += "\n";
      }
    }
  }
}

void RenderPages(const json::object& report, std::string& out) {
  const json::array* pages = Arr(report, "pages");
  if (!pages || pages->empty()) return;
  out +=
      "\n## Pages\n\n| Page | Status | Title | Words | Issues |\n| --- | --- | --- | --- | --- |\n";
  for (const json::value& v : *pages) {
    if (!v.is_object()) continue;
    const json::object& p = v.get_object();
    std::string status = Num(p, "status");
    if (std::string_view e = Str(p, "error"); !e.empty()) status = Inline(e);
    out += "| " + Link(Str(p, "url")) + " | " + status + " | " + Inline(Str(p, "title")) + " | " +
           Num(p, "word_count") + " | " + Num(p, "issues") + " |\n";
  }
}

void RenderSite(const json::object& report, std::string& out) {
  const json::object* site = Obj(report, "site");
  if (!site) return;
  out += "\n## Site\n\n";
  for (auto [key, name] : {std::pair{"robots_txt", "robots.txt"}, std::pair{"llms_txt", "llms.txt"},
                           std::pair{"sitemap", "sitemap.xml"}}) {
    std::string status = Num(*site, key);
    if (!status.empty()) out += "- " + std::string(name) + ": HTTP " + status + "\n";
  }
  if (const json::object* bots = Obj(*site, "ai_crawlers"); bots && !bots->empty()) {
    out += "- AI crawlers:";
    bool first = true;
    for (const auto& [agent, state] : *bots) {
      out += std::string(first ? " " : ", ") + Inline(agent) + " " +
             Inline(state.is_string() ? std::string_view(state.get_string()) : "unknown");
      first = false;
    }
    out += "\n";
  }
  if (const json::array* skipped = Arr(*site, "skipped_by_robots"); skipped && !skipped->empty()) {
    out += "- Not crawled (robots.txt disallows Herald): " +
           Plural(static_cast<int64_t>(skipped->size()), "URL", "URLs") + "\n";
    for (const json::value& u : *skipped) {
      if (u.is_string()) out += "  - " + Link(u.get_string()) + "\n";
    }
  }
}

}  // namespace

std::string RenderReportMarkdown(const json::object& audit) {
  std::string out = "# GEO audit of " + Inline(Str(audit, "url")) + "\n\n";
  std::string meta = "Audit " + Num(audit, "id") + ", " + Inline(Str(audit, "status"));
  if (std::string_view at = Str(audit, "updated_at"); !at.empty()) meta += " " + Inline(at);
  out += meta + ".\n";
  const json::object* report = Obj(audit, "report");
  if (!report) {
    out += "\nNo report: the audit has not completed.\n";
    return out;
  }
  std::string score = Num(*report, "geo_score");
  std::string pages = Num(*report, "total_pages");
  out += "\n**GEO score: " + (score.empty() ? std::string("n/a") : score) + " / 100**";
  if (!pages.empty()) out += " over " + pages + (pages == "1" ? " page" : " pages");
  out += "\n";
  if (const json::array* breakdown = Arr(*report, "score_breakdown");
      breakdown && !breakdown->empty()) {
    out += "\n| Category | Weight | Score |\n| --- | --- | --- |\n";
    for (const json::value& v : *breakdown) {
      if (!v.is_object()) continue;
      const json::object& c = v.get_object();
      out += "| " + Inline(Str(c, "name")) + " | " + Num(c, "weight") + " | " + Num(c, "score") +
             " |\n";
    }
  }
  RenderFindings(*report, out);
  RenderPages(*report, out);
  RenderSite(*report, out);
  return out;
}

}  // namespace herald::audit
