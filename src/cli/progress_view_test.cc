#include "cli/progress_view.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

namespace herald::cli {
namespace {

namespace json = boost::json;

json::object Payload(std::string_view text) { return json::parse(text).as_object(); }

const json::object kCrawl = Payload(
    R"js({"audit_id":12,"status":"running","progress":45,"step":"crawl","message":"Crawling pages (7/20)"})js");

TEST(ProgressViewTest, BarAt80ColumnsHas20Cells) {
  EXPECT_EQ(RenderBarLine(kCrawl, 80), "[#########...........]  45%  crawl  Crawling pages (7/20)");
}

TEST(ProgressViewTest, BarAt40ColumnsShrinksAndTruncatesTheMessage) {
  std::string line = RenderBarLine(kCrawl, 40);
  EXPECT_EQ(line, "[####......]  45%  crawl  Crawling pag\xE2\x80\xA6");
  EXPECT_EQ(DisplayWidth(line), 39u);
}

TEST(ProgressViewTest, BarAt120ColumnsHas30Cells) {
  std::string line = RenderBarLine(kCrawl, 120);
  EXPECT_EQ(line, "[#############.................]  45%  crawl  Crawling pages (7/20)");
  EXPECT_LE(DisplayWidth(line), 119u);
}

TEST(ProgressViewTest, BarNeverExceedsTheWidth) {
  json::object p = kCrawl;
  p["message"] = std::string(300, 'x');
  for (int width : {20, 30, 40, 60, 80, 120, 200}) {
    EXPECT_LE(DisplayWidth(RenderBarLine(p, width)), static_cast<size_t>(width - 1)) << width;
  }
}

TEST(ProgressViewTest, BarShowsFullAndEmptyAndStatusWhenNoMessage) {
  EXPECT_EQ(RenderBarLine(Payload(R"({"status":"completed","progress":100})"), 80),
            "[####################] 100%  completed");
  EXPECT_EQ(RenderBarLine(Payload(R"({"status":"pending","progress":0})"), 80),
            "[....................]   0%  pending");
}

TEST(ProgressViewTest, MessageNewlinesCannotBreakTheLine) {
  auto p = Payload(R"({"progress":5,"message":"two\nlines\r\u001b[2J"})");
  EXPECT_EQ(RenderBarLine(p, 80), "[#...................]   5%  two lines  [2J");
}

TEST(ProgressViewTest, TruncationNeverSplitsAUtf8Sequence) {
  // "é" is 2 bytes and 1 column; "日本" are 3 bytes and 2 columns each.
  EXPECT_EQ(TruncateToWidth("\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9", 5),
            "\xC3\xA9t\xC3\xA9 \xE2\x80\xA6");
  EXPECT_EQ(TruncateToWidth("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 4), "\xE6\x97\xA5\xE2\x80\xA6");
  EXPECT_EQ(TruncateToWidth("\xE6\x97\xA5\xE6\x9C\xAC", 4), "\xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(DisplayWidth("\xE6\x97\xA5\xE6\x9C\xAC"), 4u);
  EXPECT_EQ(TruncateToWidth("abc", 0), "");
  // Invalid bytes become U+FFFD, not half characters.
  EXPECT_EQ(TruncateToWidth("a\xC3", 5), "a\xEF\xBF\xBD");
}

TEST(ProgressViewTest, MultibyteMessageTruncatedInTheBar) {
  json::object p = kCrawl;
  p["message"] =
      "Analyse des pages \xC3\xA9l\xC3\xA9ments \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E "
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
  for (int width = 30; width <= 80; ++width) {
    std::string line = RenderBarLine(p, width);
    EXPECT_LE(DisplayWidth(line), static_cast<size_t>(width - 1)) << width;
    // Valid UTF-8 throughout: re-truncating at full width changes nothing.
    EXPECT_EQ(TruncateToWidth(line, 1000), line) << width;
  }
}

TEST(ProgressViewTest, PlainLine) {
  EXPECT_EQ(RenderPlainLine(kCrawl), "45% crawl: Crawling pages (7/20)");
  EXPECT_EQ(RenderPlainLine(Payload(R"({"progress":10,"message":"Working"})")), "10% Working");
  EXPECT_EQ(RenderPlainLine(Payload(R"({"status":"pending","progress":0})")), "0% pending");
}

TEST(ProgressViewTest, PlainModePrintsOnlyChanges) {
  std::ostringstream out;
  ProgressView view(out, /*tty=*/false, 80);
  view.Update(kCrawl);
  view.Update(kCrawl);  // a heartbeat-like repeat
  json::object same = kCrawl;
  same["total_pages"] = 20;  // a field that is not shown
  view.Update(same);
  json::object next = kCrawl;
  next["progress"] = 50;
  view.Update(next);
  view.Finish();
  EXPECT_EQ(out.str(), "45% crawl: Crawling pages (7/20)\n50% crawl: Crawling pages (7/20)\n");
}

TEST(ProgressViewTest, TtyModeRedrawsOneLineAndEndsWithNewline) {
  std::ostringstream out;
  ProgressView view(out, /*tty=*/true, 40);
  auto a = Payload(R"({"progress":10,"message":"a"})");
  auto b = Payload(R"({"progress":20,"message":"b"})");
  view.Update(a);
  view.Update(a);
  view.Update(b);
  view.Finish();
  view.Finish();
  EXPECT_EQ(out.str(),
            "\r[#.........]  10%  a\x1b[K"
            "\r[##........]  20%  b\x1b[K\n");
}

TEST(ProgressViewTest, AuditSummaryShowsScoreCountsAndWorstFindings) {
  auto job = Payload(R"({
    "id": 12, "status": "completed", "progress": 100,
    "report": {
      "geo_score": 72.5,
      "issue_counts": {"critical": 1, "high": 2, "medium": 3, "low": 4},
      "findings": {
        "low": [{"check_id": "l1", "page": "https://e.com/", "message": "low one", "fix": "fl"}],
        "medium": [{"check_id": "m1", "page": "https://e.com/m", "message": "med one", "fix": "fm"},
                   {"check_id": "m2", "page": "https://e.com/m2", "message": "med two", "fix": "fm2"},
                   {"check_id": "m3", "page": "https://e.com/m3", "message": "med three", "fix": "fm3"}],
        "high": [{"check_id": "h1", "page": "https://e.com/h", "message": "high one", "fix": "fh"}],
        "critical": [{"check_id": "llms_txt", "page": "https://e.com/", "message": "No llms.txt", "fix": "Add /llms.txt"}]
      }
    }})");
  EXPECT_EQ(RenderAuditSummary(job),
            "GEO score 72.5 / 100\n"
            "Issues: 1 critical, 2 high, 3 medium, 4 low\n"
            "Worst findings:\n"
            "  [critical] No llms.txt (llms_txt)\n"
            "      page: https://e.com/\n"
            "      fix:  Add /llms.txt\n"
            "  [high] high one (h1)\n"
            "      page: https://e.com/h\n"
            "      fix:  fh\n"
            "  [medium] med one (m1)\n"
            "      page: https://e.com/m\n"
            "      fix:  fm\n"
            "  [medium] med two (m2)\n"
            "      page: https://e.com/m2\n"
            "      fix:  fm2\n"
            "  [medium] med three (m3)\n"
            "      page: https://e.com/m3\n"
            "      fix:  fm3\n");
}

TEST(ProgressViewTest, AuditSummaryNamesThePagesOfAMergedFinding) {
  auto job = Payload(R"({"report": {"geo_score": 80, "findings": {"high": [
      {"check_id": "page.http_error", "page": "", "message": "HTTP 404.", "fix": "Fix it.",
       "pages": ["https://e.com/a", "https://e.com/b", "https://e.com/c", "https://e.com/d"]}]}}})");
  EXPECT_EQ(RenderAuditSummary(job),
            "GEO score 80 / 100\n"
            "Worst findings:\n"
            "  [high] HTTP 404. (page.http_error)\n"
            "      pages (4): https://e.com/a, https://e.com/b and 2 more\n"
            "      fix:  Fix it.\n");
}

TEST(ProgressViewTest, AuditSummaryFallsBackToThePayload) {
  auto payload = Payload(R"({"audit_id":3,"status":"completed","progress":100,"geo_score":90,
                             "critical_issues":0,"high_issues":0,"medium_issues":0,"low_issues":0})");
  EXPECT_EQ(RenderAuditSummary(payload), "GEO score 90 / 100\nIssues: none\n");
}

TEST(ProgressViewTest, FailureAndCompletionLines) {
  auto failed = Payload(R"({"audit_id":12,"status":"failed","error_message":"DNS lookup failed"})");
  EXPECT_EQ(RenderFailure(true, 12, failed), "Audit 12 failed: DNS lookup failed\n");
  EXPECT_EQ(RenderFailure(false, 4, Payload(R"({"status":"failed"})")),
            "Job 4 failed: no reason given\n");
  EXPECT_EQ(RenderJobCompleted(4, Payload(R"({"status":"completed","message":"Done"})")),
            "Job 4 completed: Done\n");
}

}  // namespace
}  // namespace herald::cli
