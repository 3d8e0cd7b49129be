#pragma once
// How the terminal client shows a job: the one-line progress bar, the plain
// per-change lines used when stdout is not a terminal, and the summaries
// printed when a job ends. The Render* functions are pure; ProgressView
// only remembers what it last drew.

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace herald::cli {

// Display columns of UTF-8 `text` (East Asian wide characters count 2,
// combining marks 0; an invalid byte counts 1).
size_t DisplayWidth(std::string_view text);

// `text` cut to at most `columns` display columns, ending in "…" when cut.
// Never splits a UTF-8 sequence; invalid bytes become U+FFFD.
std::string TruncateToWidth(std::string_view text, size_t columns);

// Control characters (newlines, tabs, escapes) replaced by spaces, so a
// message cannot move the cursor or break the line.
std::string OneLine(std::string_view text);

// `[#########.........]  45%  crawl  Crawling pages (7/20)` fitted into
// `width` - 1 columns (the last column is left free so the terminal never
// wraps). The bar has width/4 cells, 10 to 30.
std::string RenderBarLine(const boost::json::object& payload, int width);

// `45% crawl: Crawling pages (7/20)` (no truncation).
std::string RenderPlainLine(const boost::json::object& payload);

// After a completed audit: "GEO score 72.5 / 100", the issue counts by
// severity, and up to 5 findings (critical first) with page and fix.
// `job` is the GET /api/v1/audits/{id} body (with "report"); without a
// report the payload's geo_score and *_issues fields are used.
std::string RenderAuditSummary(const boost::json::object& job);

// "Audit 12 failed: <error_message>" / "Job 12 failed: ...", with newline.
std::string RenderFailure(bool audit, int64_t id, const boost::json::object& payload);

// "Job 12 completed: <message>" for generic jobs, with newline.
std::string RenderJobCompleted(int64_t id, const boost::json::object& payload);

// Draws progress payloads to `out`. In TTY mode each update rewrites one
// line (\r, erase to end of line) and Finish() ends it with a newline; in
// plain mode a line is printed only when progress, step or message changed.
// `out` must outlive the view. Not thread-safe.
class ProgressView {
 public:
  ProgressView(std::ostream& out, bool tty, int width);

  void Update(const boost::json::object& payload);
  // Ends the TTY line (if one was drawn). Safe to call more than once.
  void Finish();

 private:
  std::ostream& out_;
  bool tty_;
  int width_;
  std::string last_;  // the last line drawn or printed
  bool line_open_ = false;
};

}  // namespace herald::cli
