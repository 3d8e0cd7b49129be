#include "audit/report_markdown.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace herald::audit {
namespace {

namespace json = boost::json;

json::object Audit(std::string_view report) {
  json::object audit = json::parse(R"({"id": 7, "url": "https://example.com/",
      "status": "completed", "updated_at": "2026-12-03T10:00:00Z"})")
                           .as_object();
  audit["report"] = json::parse(report);
  return audit;
}

TEST(ReportMarkdownTest, HeadingScoreAndCategories) {
  std::string md = RenderReportMarkdown(Audit(R"({"geo_score": 78.5, "total_pages": 1,
      "score_breakdown": [{"name": "content", "weight": 0.2, "score": 100}],
      "issue_counts": {"critical": 0, "high": 0, "medium": 0, "low": 0}, "findings": {}})"));
  EXPECT_TRUE(
      md.starts_with("# GEO audit of https://example.com/\n\nAudit 7, completed "
                     "2026-12-03T10:00:00Z.\n\n**GEO score: 78.5 / 100** over 1 page\n"))
      << md;
  EXPECT_NE(md.find("| content | 0.2 | 100 |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## Issues\n\nNo issues found.\n"), std::string::npos) << md;
}

TEST(ReportMarkdownTest, OneEntryPerCheckWithItsPages) {
  std::string md = RenderReportMarkdown(Audit(R"({"findings": {
      "critical": [{"check_id": "robots.blocks_gptbot", "page": "", "message": "Blocked.",
                    "fix": "Allow it."}],
      "medium": [
        {"check_id": "security.no_https", "page": "http://a/1", "message": "Plain HTTP.", "fix": "TLS."},
        {"check_id": "links.broken", "page": "http://a/1", "message": "Links to /x.", "fix": "Fix."},
        {"check_id": "security.no_https", "page": "http://a/2", "message": "Plain HTTP.", "fix": "TLS."},
        {"check_id": "links.broken", "page": "http://a/2", "message": "Links to /y.", "fix": "Fix.",
         "evidence": "<a href=\"/y\">"}]}})"));
  EXPECT_NE(md.find("1 critical, 0 high, 4 medium, 0 low."), std::string::npos) << md;
  EXPECT_NE(md.find("### Critical\n\n#### Blocked.\n\n`robots.blocks_gptbot`, site-wide\n\n"
                    "**Fix:** Allow it.\n"),
            std::string::npos)
      << md;
  // The same message on every page: it heads the group, the pages follow.
  EXPECT_NE(md.find("#### Plain HTTP.\n\n`security.no_https`, 2 pages\n\n**Fix:** TLS.\n\n"
                    "- [http://a/1](<http://a/1>)\n- [http://a/2](<http://a/2>)\n"),
            std::string::npos)
      << md;
  // Messages that differ: the check heads it, each page says its own.
  EXPECT_NE(md.find("#### `links.broken`\n\n2 pages\n\n**Fix:** Fix.\n\n"
                    "- [http://a/1](<http://a/1>): Links to /x.\n"
                    "- [http://a/2](<http://a/2>): Links to /y. (`<a href=\"/y\">`)\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("### High"), std::string::npos) << "empty severities are left out";
}

TEST(ReportMarkdownTest, SiteWideFindingsListTheirPagesAndEvidenceItsLine) {
  std::string md = RenderReportMarkdown(Audit(R"({"findings": {"medium": [
      {"check_id": "security.no_https", "page": "", "message": "Plain HTTP.", "fix": "TLS.",
       "pages": ["http://a/", "http://a/b"]},
      {"check_id": "robots_txt.invalid", "page": "", "message": "Bad line.", "fix": "Fix it.",
       "evidence": "Sitemap: /sitemap.xml", "line": 4}]}})"));
  EXPECT_NE(md.find("#### Plain HTTP.\n\n`security.no_https`, 2 pages\n\n**Fix:** TLS.\n\n"
                    "- [http://a/](<http://a/>)\n- [http://a/b](<http://a/b>)\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("`robots_txt.invalid`, site-wide\n\n**Fix:** Fix it.\n\n"
                    "- site (line 4: `Sitemap: /sitemap.xml`)\n"),
            std::string::npos)
      << md;
}

TEST(ReportMarkdownTest, TextFromTheSiteCannotInjectMarkdownOrHtml) {
  std::string md = RenderReportMarkdown(Audit(R"j({"findings": {}, "pages": [
      {"url": "http://a/x> [y](javascript:alert(1))", "status": 200,
       "title": "<script>alert(1)</script> | *bold* [link](http://evil/)\n# heading",
       "word_count": 12, "issues": 0}]})j"));
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_NE(md.find("\\<script\\>alert(1)\\</script\\> \\| \\*bold\\* \\[link\\](http://evil/) # "
                    "heading"),
            std::string::npos)
      << md;
  // The link target stays inside its angle brackets.
  EXPECT_NE(md.find("(<http://a/x%3E%20[y](javascript:alert(1))>)"), std::string::npos) << md;
}

TEST(ReportMarkdownTest, NotCompletedSaysSo) {
  json::object audit =
      json::parse(R"({"id": 3, "url": "https://e/", "status": "running"})").as_object();
  EXPECT_EQ(RenderReportMarkdown(audit),
            "# GEO audit of https://e/\n\nAudit 3, running.\n\nNo report: the audit has not "
            "completed.\n");
}

}  // namespace
}  // namespace herald::audit
