// The audit on fixture sites built for its checks, crawled for real over
// loopback: tests/fixtures/seo has one page per Lighthouse SEO failure mode
// (and pages that must pass), tests/fixtures/geo one per GEO check. Each
// test pins the exact findings of the checks it is about: check, page,
// evidence and line; what Lighthouse passes must not appear.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "audit/analysis.h"
#include "audit/crawler.h"
#include "support/fixture_site.h"

namespace herald::audit {
namespace {

using namespace std::chrono_literals;

std::string FixtureDir(const std::string& name) {
#ifdef HERALD_SOURCE_DIR
  return std::string(HERALD_SOURCE_DIR) + "/tests/fixtures/" + name;
#else
  return "../tests/fixtures/" + name;
#endif
}

// What the audit found on a site: every finding, merged as the report is.
std::vector<Finding> AuditSite(test::FixtureSite& site) {
  CrawlOptions options;
  options.allow_private = true;
  options.user_agent = "HeraldAudit/test";
  options.max_pages = 50;
  auto crawl = Crawl(site.url("/"), options, {});
  EXPECT_TRUE(crawl.has_value()) << crawl.error().message;
  if (!crawl) return {};
  std::vector<PageFacts> facts;
  std::vector<Finding> findings;
  for (const FetchedPage& page : crawl->pages) {
    facts.push_back(AnalyzeHtml(page));
    auto found = CheckPage(facts.back(), page);
    findings.insert(findings.end(), found.begin(), found.end());
  }
  auto site_findings = CheckSite(*crawl, facts);
  findings.insert(findings.end(), site_findings.begin(), site_findings.end());
  return MergeRepeated(std::move(findings));
}

// (check, page path, evidence, line) of the findings whose check is in
// `checks`, sorted; a merged finding gives one row per page.
using Row = std::tuple<std::string, std::string, std::string, int>;
std::vector<Row> Rows(const std::vector<Finding>& findings, const std::set<std::string>& checks,
                      const test::FixtureSite& site) {
  const std::string origin = site.url("");
  auto path = [&](const std::string& url) {
    return url.starts_with(origin) ? url.substr(origin.size()) : url;
  };
  std::vector<Row> rows;
  for (const Finding& f : findings) {
    if (!checks.contains(f.check_id)) continue;
    if (f.pages.empty()) rows.emplace_back(f.check_id, path(f.page), f.evidence, f.line);
    for (const std::string& p : f.pages) rows.emplace_back(f.check_id, path(p), "", 0);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

const std::set<std::string> kLighthouseChecks = {"title.missing",
                                                 "meta_description.missing",
                                                 "page.http_error",
                                                 "links.text_not_descriptive",
                                                 "links.not_crawlable",
                                                 "page.noindex",
                                                 "robots_txt.invalid",
                                                 "images.alt_missing",
                                                 "hreflang.invalid",
                                                 "hreflang.not_reciprocal",
                                                 "canonical.invalid",
                                                 "canonical.bad_target",
                                                 "canonical.other_site",
                                                 "page.noindex_google",
                                                 "structured_data.invalid",
                                                 "headings.skipped_level",
                                                 "links.broken"};

TEST(AuditFixturesTest, LighthouseFailureModesFireExactlyWhereLighthouseFails) {
  test::FixtureSite site(FixtureDir("seo"));
  const std::vector<Finding> findings = AuditSite(site);
  const std::string origin = site.url("");
  const std::vector<Row> want = {
      {"canonical.bad_target", "/canonical-to-404.html",
       "<link rel=\"canonical\" href=\"" + origin + "/gone.html\">", 6},
      {"canonical.invalid", "/canonical-relative.html",
       "<link rel=\"canonical\" href=\"/canonical-relative.html\">", 6},
      {"canonical.other_site", "/canonical-other-site.html",
       "<link rel=\"canonical\" href=\"https://elsewhere.example/page\">", 6},
      {"hreflang.invalid", "/hreflang-bad.html",
       "<link rel=\"alternate\" hreflang=\"de\" href=\"/de/hreflang-bad.html\">", 8},
      {"hreflang.invalid", "/hreflang-bad.html",
       "<link rel=\"alternate\" hreflang=\"english\" href=\"" + origin + "/hreflang-bad.html\">",
       7},
      {"hreflang.not_reciprocal", "/hreflang-a.html",
       "<link rel=\"alternate\" hreflang=\"fr\" href=\"" + origin + "/hreflang-b.html\">", 8},
      {"images.alt_missing", "/image-alt.html", "<img src=\"/no-alt.png\">", 9},
      {"links.broken", "/canonical-to-404.html", "<a href=\"/gone.html\">preferred version</a>", 7},
      {"links.not_crawlable", "/anchors.html", "<a href=\"javascript:void(0)\">", 9},
      {"links.text_not_descriptive", "/link-text.html", "<a href=\"/\">", 9},
      {"page.http_error", "/gone.html", "", 0},
      {"page.noindex", "/meta-noindex.html", "<meta name=\"robots\" content=\"noindex\">", 6},
      {"page.noindex", "/x-robots.html", "X-Robots-Tag: noindex, nofollow", 0},
      {"page.noindex_google", "/googlebot-noindex.html",
       "<meta name=\"googlebot\" content=\"noindex\">", 6},
      {"robots_txt.invalid", "", "Sitemap: /sitemap.xml", 6},
      {"structured_data.invalid", "/jsonld-bad.html", "<script type=\"application/ld+json\">", 7},
  };
  EXPECT_EQ(Rows(findings, kLighthouseChecks, site), want);

  // The messages say what is wrong, with the rest of the evidence.
  auto message = [&](const std::string& check, const std::string& page) {
    for (const Finding& f : findings)
      if (f.check_id == check && f.page == site.url(page)) return f.message;
    return std::string();
  };
  EXPECT_EQ(message("images.alt_missing", "/image-alt.html"),
            "2 images have no alt text: <img src=\"/no-alt.png\"> (line 9), <img "
            "src=\"/spaces.png\" alt=\"   \"> (line 11).");
  EXPECT_EQ(message("links.not_crawlable", "/anchors.html"),
            "2 links have no address a crawler can follow: <a href=\"javascript:void(0)\"> (line "
            "9), <a onclick=\"location.href='/'\"> (line 9).");
  EXPECT_EQ(message("canonical.bad_target", "/canonical-to-404.html"),
            "The canonical URL " + origin +
                "/gone.html answers HTTP 404, so search engines "
                "cannot use it.");
  const std::string jsonld = message("structured_data.invalid", "/jsonld-bad.html");
  EXPECT_NE(jsonld.find("at line 12"), std::string::npos) << jsonld;
  // A sidebar's headings are not the document's outline: docs-template.html
  // (aside h3 → h5) has no skipped level.
  // /index.html is the home page: crawled once.
  for (const Finding& f : findings) {
    EXPECT_EQ(f.page, PageKey(f.page)) << f.check_id;
    for (const std::string& p : f.pages) EXPECT_EQ(p, PageKey(p)) << f.check_id;
  }
}

}  // namespace
}  // namespace herald::audit
