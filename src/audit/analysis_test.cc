#include "audit/analysis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

namespace herald::audit {
namespace {

namespace json = boost::json;

std::string Words(int n, std::string_view word = "word") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += word;
    out += ' ';
  }
  return out;
}

// A page that passes every page check.
std::string GoodHtml(std::string_view extra_body = "") {
  return R"(<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Acme widgets for every workshop</title>
<meta name="description" content="Acme makes durable widgets for workshops and factories.">
<link rel="canonical" href="https://example.com/widgets">
<meta property="og:title" content="Acme widgets">
<meta property="og:description" content="Durable widgets.">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"Acme"}</script>
</head><body>
<h1>Widgets</h1><h2>Why Acme</h2><h3>Details</h3><h2>Pricing</h2>
<img src="a.png" alt="A widget">
<p>)" + Words(210) +
         R"(</p>)" + std::string(extra_body) + R"(
</body></html>)";
}

FetchedPage Page(std::string html, std::string url = "https://example.com/widgets") {
  FetchedPage page;
  page.url = url;
  page.final_url = url;
  page.status = 200;
  page.content_type = "text/html; charset=utf-8";
  page.body = std::move(html);
  page.response_ms = 120;
  page.bytes = page.body.size();
  return page;
}

std::vector<std::string> Ids(const std::vector<Finding>& findings) {
  std::vector<std::string> ids;
  for (const auto& f : findings) ids.push_back(f.check_id);
  return ids;
}

// The findings without the GEO checks (geo_checks_test.cc pins those):
// the pages here are built for the SEO and site checks.
std::vector<Finding> WithoutGeo(std::vector<Finding> findings) {
  std::erase_if(findings, [](const Finding& f) {
    for (std::string_view geo : {"entity.", "answers.", "freshness.", "authorship.", "citations.",
                                 "ai_directives.", "content.js_only"}) {
      if (f.check_id.starts_with(geo)) return true;
    }
    return false;
  });
  return findings;
}

bool Has(const std::vector<Finding>& findings, std::string_view id) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.check_id == id; });
}

std::vector<Finding> CheckHtml(const std::string& html,
                               std::string url = "https://example.com/widgets") {
  FetchedPage page = Page(html, url);
  return CheckPage(AnalyzeHtml(page), page);
}

// A page with `needle` replaced by `replacement` in GoodHtml().
std::string GoodWith(std::string_view needle, std::string_view replacement) {
  std::string html = GoodHtml();
  auto pos = html.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  if (pos != std::string::npos) html.replace(pos, needle.size(), replacement);
  return html;
}

// ---------------------------------------------------------------------------
// Severity names

TEST(FindingTest, SeverityNames) {
  EXPECT_EQ(ToString(Severity::kCritical), "critical");
  EXPECT_EQ(ToString(Severity::kHigh), "high");
  EXPECT_EQ(ToString(Severity::kMedium), "medium");
  EXPECT_EQ(ToString(Severity::kLow), "low");
}

// ---------------------------------------------------------------------------
// AnalyzeHtml

TEST(AnalyzeHtmlTest, ExtractsFactsFromAGoodPage) {
  PageFacts f = AnalyzeHtml(Page(GoodHtml()));
  EXPECT_EQ(f.url, "https://example.com/widgets");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.title, "Acme widgets for every workshop");
  EXPECT_EQ(f.meta_description, "Acme makes durable widgets for workshops and factories.");
  EXPECT_EQ(f.lang, "en");
  EXPECT_EQ(f.canonical, "https://example.com/widgets");
  EXPECT_EQ(f.h1_count, 1);
  EXPECT_EQ(f.heading_levels, (std::vector<int>{1, 2, 3, 2}));
  EXPECT_EQ(f.og_properties, (std::vector<std::string>{"og:title", "og:description"}));
  EXPECT_EQ(f.jsonld_types, (std::vector<std::string>{"Organization"}));
  EXPECT_EQ(f.jsonld_invalid, 0);
  EXPECT_EQ(f.images, 1);
  EXPECT_EQ(f.images_without_alt, 0);
  // 210 words + "Widgets", "Why Acme", "Details", "Pricing".
  EXPECT_EQ(f.word_count, 215);
  EXPECT_FALSE(f.noindex);
  EXPECT_TRUE(f.https);
  EXPECT_DOUBLE_EQ(f.response_ms, 120);
}

TEST(AnalyzeHtmlTest, GoodPageHasNoFindings) {
  EXPECT_EQ(Ids(CheckHtml(GoodHtml())), std::vector<std::string>{});
}

TEST(AnalyzeHtmlTest, TitleIsTrimmedAndWhitespaceCollapsed) {
  PageFacts f =
      AnalyzeHtml(Page("<html><head><title>\n   Hello \t\n  world  </title></head></html>"));
  EXPECT_EQ(f.title, "Hello world");
}

TEST(AnalyzeHtmlTest, PreservesNonAsciiText) {
  const std::string html =
      "<html lang=\"ja\"><head><title>東京のおすすめカフェ — Café Ümlaut</title>"
      "<meta name=\"description\" content=\"Ça va très bien, 日本語テキスト\"></head>"
      "<body><h1>Grüße</h1></body></html>";
  // Undeclared charset both in the header and in the document.
  FetchedPage page = Page(html);
  page.content_type = "text/html";
  PageFacts f = AnalyzeHtml(page);
  EXPECT_EQ(f.title, "東京のおすすめカフェ — Café Ümlaut");
  EXPECT_EQ(f.meta_description, "Ça va très bien, 日本語テキスト");
  EXPECT_EQ(f.lang, "ja");

  // And it survives the JSON report.
  CrawlResult crawl;
  crawl.pages.push_back(page);
  std::string report = BuildReport(crawl, {f}, {}, Score({}, 1));
  json::value v = json::parse(report);
  EXPECT_EQ(v.at("pages").at(0).at("title").as_string(), "東京のおすすめカフェ — Café Ümlaut");
}

TEST(AnalyzeHtmlTest, HonoursDeclaredLatin1Charset) {
  FetchedPage page = Page(
      "<html><head><meta charset=\"iso-8859-1\"><title>Caf\xE9 menu "
      "today</title></head></html>");
  page.content_type = "text/html";
  EXPECT_EQ(AnalyzeHtml(page).title, "Café menu today");
}

TEST(AnalyzeHtmlTest, TitleLengthCountsCharactersNotBytes) {
  // 30 three-byte characters: 90 bytes, 30 characters.
  std::string title;
  for (int i = 0; i < 30; ++i) title += "語";
  auto findings = CheckHtml(GoodWith("Acme widgets for every workshop", title));
  EXPECT_FALSE(Has(findings, "title.length"));
}

TEST(AnalyzeHtmlTest, JsonLdTypesFromArraysAndGraph) {
  const std::string html = R"(<html><head>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
  {"@type":"WebSite","name":"x"},
  {"@type":["Organization","Corporation"],"author":{"@type":"Person"}},
  {"@type":"WebSite"}]}</script>
<script type="application/ld+json">[{"@type":"BreadcrumbList"},{"@type":"FAQPage"}]</script>
<script type="Application/LD+JSON; charset=utf-8">{"@type":"Product"}</script>
<script type="application/ld+json">{"@type": "Broken",}</script>
<script type="application/ld+json">   </script>
<script type="text/javascript">var x = {"@type":"NotJsonLd"};</script>
</head><body></body></html>)";
  PageFacts f = AnalyzeHtml(Page(html));
  EXPECT_EQ(f.jsonld_types, (std::vector<std::string>{"WebSite", "Organization", "Corporation",
                                                      "BreadcrumbList", "FAQPage", "Product"}));
  EXPECT_EQ(f.jsonld_invalid, 2);  // trailing comma, and an empty block
}

TEST(AnalyzeHtmlTest, JsonLdWithHtmlSpecialCharactersInStrings) {
  const std::string html =
      R"(<html><head><script type="application/ld+json">{"@type":"Article","headline":"a < b && c > d"}</script></head></html>)";
  PageFacts f = AnalyzeHtml(Page(html));
  EXPECT_EQ(f.jsonld_types, (std::vector<std::string>{"Article"}));
  EXPECT_EQ(f.jsonld_invalid, 0);
}

TEST(AnalyzeHtmlTest, ImagesWithoutOrWithEmptyAlt) {
  PageFacts f = AnalyzeHtml(Page(
      R"(<body><img src=a alt="ok"><img src=b><img src=c alt=""><img src=d alt="  "></body>)"));
  EXPECT_EQ(f.images, 4);
  EXPECT_EQ(f.images_without_alt, 3);
}

TEST(AnalyzeHtmlTest, WordCountSkipsScriptStyleNoscriptTemplateAndHead) {
  PageFacts f = AnalyzeHtml(Page(
      R"(<html><head><title>Not counted at all</title><style>p { color: red }</style></head>
<body><p>one two</p><p>three</p><script>var a = "four five";</script>
<noscript>six seven</noscript><template><p>eight</p></template>
<p>nine <b>ten</b>eleven | — 12</p></body></html>)"));
  // one two three nine ten+eleven(one token) — 12  => 7 ("|" is not a word).
  EXPECT_EQ(f.word_count, 7);
}

TEST(AnalyzeHtmlTest, NoindexFromRobotsOrGooglebotMeta) {
  EXPECT_TRUE(AnalyzeHtml(Page(R"(<meta name="robots" content="noindex, follow">)")).noindex);
  EXPECT_TRUE(AnalyzeHtml(Page(R"(<meta name="GoogleBot" content="NOINDEX">)")).noindex);
  EXPECT_TRUE(AnalyzeHtml(Page(R"(<meta name="robots" content="none">)")).noindex);
  EXPECT_FALSE(AnalyzeHtml(Page(R"(<meta name="robots" content="index, follow">)")).noindex);
  EXPECT_FALSE(AnalyzeHtml(Page(R"(<meta name="description" content="noindex">)")).noindex);
}

TEST(AnalyzeHtmlTest, HttpsFromFinalUrl) {
  FetchedPage page = Page("<p>x</p>", "http://example.com/");
  EXPECT_FALSE(AnalyzeHtml(page).https);
  page.final_url = "https://example.com/";
  EXPECT_TRUE(AnalyzeHtml(page).https);
}

TEST(AnalyzeHtmlTest, InternalLinksResolvedSameHostNoFragmentDeduplicated) {
  const std::string html = R"html(<body>
<a href="/about">About</a>
<a href="about#team">Team</a>
<a href="https://EXAMPLE.com/about#x">Again</a>
<a href="https://example.com">Home</a>
<a href="//example.com/blog/?p=1">Blog</a>
<a href="https://other.com/x">Other</a>
<a href="https://sub.example.com/x">Sub</a>
<a href="mailto:a@example.com">Mail</a>
<a href="javascript:void(0)">JS</a>
<a href="#top">Top</a>
<a href="">Empty</a>
<a>No href</a>
</body>)html";
  PageFacts f = AnalyzeHtml(Page(html, "https://example.com/docs/"));
  EXPECT_EQ(f.internal_links,
            (std::vector<std::string>{"https://example.com/about", "https://example.com/docs/about",
                                      "https://example.com/", "https://example.com/blog/?p=1",
                                      "https://example.com/docs/"}));
}

TEST(AnalyzeHtmlTest, BaseHrefAppliesToLinksAndCanonical) {
  PageFacts f = AnalyzeHtml(Page(
      R"(<head><base href="https://example.com/en/"><link rel="canonical" href="page"></head><body><a href="x">x</a></body>)",
      "https://example.com/other/page"));
  EXPECT_EQ(f.canonical, "https://example.com/en/page");
  EXPECT_EQ(f.internal_links, (std::vector<std::string>{"https://example.com/en/x"}));
}

TEST(AnalyzeHtmlTest, CanonicalRelIsATokenList) {
  PageFacts f =
      AnalyzeHtml(Page(R"(<link rel="alternate Canonical" href="https://example.com/c">)"));
  EXPECT_EQ(f.canonical, "https://example.com/c");
  EXPECT_EQ(AnalyzeHtml(Page(R"(<link rel="canonicalish" href="/c">)")).canonical, "");
}

TEST(AnalyzeHtmlTest, NonHtmlAndEmptyBodiesYieldOnlyTransportFacts) {
  FetchedPage page = Page("%PDF-1.4 ...");
  page.content_type = "application/pdf";
  PageFacts f = AnalyzeHtml(page);
  EXPECT_EQ(f.title, "");
  EXPECT_EQ(f.word_count, 0);
  EXPECT_TRUE(CheckPage(f, page).empty());

  FetchedPage empty = Page("");
  EXPECT_EQ(AnalyzeHtml(empty).word_count, 0);
}

TEST(AnalyzeHtmlTest, SurvivesBrokenMarkup) {
  PageFacts f = AnalyzeHtml(Page("<html><title>Broken <b>page</title><h1>Hi<h2>there</p></div>"));
  EXPECT_EQ(f.h1_count, 1);
  EXPECT_FALSE(f.title.empty());
}

// ---------------------------------------------------------------------------
// CheckPage: each check fires when it should and not otherwise.

TEST(CheckPageTest, HttpErrorStopsOtherChecks) {
  FetchedPage page = Page("<html></html>");
  page.status = 404;
  auto findings = CheckPage(AnalyzeHtml(page), page);
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"page.http_error"});
  EXPECT_EQ(findings[0].severity, Severity::kHigh);
  EXPECT_EQ(findings[0].page, "https://example.com/widgets");
  EXPECT_NE(findings[0].message.find("404"), std::string::npos);
  EXPECT_FALSE(findings[0].fix.empty());
}

TEST(CheckPageTest, FetchFailureIsReportedButRedirectLoopIsLeftToSite) {
  FetchedPage page = Page("");
  page.status = 0;
  page.error = "Connection timed out";
  page.error_kind = "timeout";
  EXPECT_EQ(Ids(CheckPage(AnalyzeHtml(page), page)), std::vector<std::string>{"page.fetch_failed"});
  page.error_kind = "too_many_redirects";
  EXPECT_TRUE(CheckPage(AnalyzeHtml(page), page).empty());
}

TEST(CheckPageTest, Noindex) {
  auto findings = CheckHtml(GoodWith("<head>", R"(<head><meta name="robots" content="noindex">)"));
  EXPECT_EQ(Ids(findings), std::vector<std::string>{"page.noindex"});
  EXPECT_EQ(findings[0].severity, Severity::kHigh);
}

// Lighthouse's is-crawlable fails only when every crawler is kept out; a
// noindex for Googlebot alone is page.noindex_google.
TEST(CheckPageTest, NoindexForEveryoneOrForGooglebotAlone) {
  auto google = CheckHtml(GoodWith("<head>", R"(<head><meta name="GoogleBot" content="NOINDEX">)"));
  ASSERT_EQ(Ids(google), std::vector<std::string>{"page.noindex_google"});
  EXPECT_EQ(google[0].severity, Severity::kMedium);
  EXPECT_EQ(google[0].evidence, R"(<meta name="GoogleBot" content="NOINDEX">)");

  auto with_headers = [](std::vector<std::pair<std::string, std::string>> headers) {
    FetchedPage page = Page(GoodHtml());
    page.headers = std::move(headers);
    return CheckPage(AnalyzeHtml(page), page);
  };
  auto header = with_headers({{"x-robots-tag", "otherbot: noindex"}, {"x-robots-tag", "none"}});
  ASSERT_EQ(Ids(header), std::vector<std::string>{"page.noindex"});
  EXPECT_EQ(header[0].evidence, "X-Robots-Tag: none");
  auto scoped = with_headers({{"x-robots-tag", "Googlebot: noindex"}});
  ASSERT_EQ(Ids(scoped), std::vector<std::string>{"page.noindex_google"});
  EXPECT_EQ(scoped[0].evidence, "X-Robots-Tag: Googlebot: noindex");
  EXPECT_TRUE(with_headers({{"x-robots-tag", "otherbot: noindex"},
                            {"x-robots-tag", "unavailable_after: 25 Jun 2010 15:00:00 PST"}})
                  .empty());
}

TEST(CheckPageTest, TitleMissingAndLength) {
  auto missing = CheckHtml(GoodWith("<title>Acme widgets for every workshop</title>", ""));
  EXPECT_EQ(Ids(missing), std::vector<std::string>{"title.missing"});
  EXPECT_EQ(missing[0].severity, Severity::kHigh);

  EXPECT_EQ(Ids(CheckHtml(
                GoodWith("<title>Acme widgets for every workshop</title>", "<title>   </title>"))),
            std::vector<std::string>{"title.missing"});

  auto short_title = CheckHtml(GoodWith("Acme widgets for every workshop", "Acme"));
  EXPECT_EQ(Ids(short_title), std::vector<std::string>{"title.length"});
  EXPECT_EQ(short_title[0].severity, Severity::kLow);

  auto long_title = CheckHtml(GoodWith("Acme widgets for every workshop", std::string(71, 'x')));
  EXPECT_EQ(Ids(long_title), std::vector<std::string>{"title.length"});
  EXPECT_EQ(long_title[0].evidence, "<title>" + std::string(71, 'x') + "</title>");
  EXPECT_EQ(long_title[0].line, 4);

  // Boundaries are inclusive: 10 and 70 characters are fine.
  EXPECT_TRUE(CheckHtml(GoodWith("Acme widgets for every workshop", std::string(10, 'x'))).empty());
  EXPECT_TRUE(CheckHtml(GoodWith("Acme widgets for every workshop", std::string(70, 'x'))).empty());
}

TEST(CheckPageTest, MetaDescriptionMissing) {
  auto findings = CheckHtml(GoodWith(
      R"(<meta name="description" content="Acme makes durable widgets for workshops and factories.">)",
      R"(<meta name="description" content="  ">)"));
  EXPECT_EQ(Ids(findings), std::vector<std::string>{"meta_description.missing"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);
}

TEST(CheckPageTest, H1MissingAndMultiple) {
  auto missing = CheckHtml(GoodWith("<h1>Widgets</h1>", ""));
  EXPECT_EQ(Ids(missing), std::vector<std::string>{"h1.missing"});
  EXPECT_EQ(missing[0].severity, Severity::kMedium);

  auto multiple = CheckHtml(GoodWith("<h1>Widgets</h1>", "<h1>Widgets</h1><h1>More</h1>"));
  EXPECT_EQ(Ids(multiple), std::vector<std::string>{"h1.multiple"});
  EXPECT_EQ(multiple[0].severity, Severity::kLow);
  EXPECT_NE(multiple[0].message.find('2'), std::string::npos);
}

TEST(CheckPageTest, HeadingSkippedLevel) {
  auto findings = CheckHtml(GoodWith("<h2>Why Acme</h2><h3>Details</h3>", "<h3>Details</h3>"));
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"headings.skipped_level"});
  EXPECT_EQ(findings[0].severity, Severity::kLow);
  EXPECT_NE(findings[0].message.find("h1 → h3"), std::string::npos);
  // Going back up any number of levels is fine: h1 h2 h3 h2 in GoodHtml.
  EXPECT_FALSE(Has(CheckHtml(GoodWith("<h2>Pricing</h2>", "<h4>x</h4><h2>Pricing</h2>")),
                   "headings.skipped_level"));
}

TEST(CheckPageTest, LangMissing) {
  auto findings = CheckHtml(GoodWith(R"(<html lang="en">)", "<html>"));
  EXPECT_EQ(Ids(findings), std::vector<std::string>{"html.lang_missing"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);
  EXPECT_EQ(findings[0].evidence, "<html>");
  EXPECT_EQ(findings[0].line, 2);
}

TEST(CheckPageTest, CanonicalMissing) {
  auto findings =
      CheckHtml(GoodWith(R"(<link rel="canonical" href="https://example.com/widgets">)", ""));
  EXPECT_EQ(Ids(findings), std::vector<std::string>{"canonical.missing"});
  EXPECT_EQ(findings[0].severity, Severity::kLow);
}

TEST(CheckPageTest, OpenGraphMissingTitleOrDescription) {
  auto none = CheckHtml(GoodWith(
      R"(<meta property="og:title" content="Acme widgets">
<meta property="og:description" content="Durable widgets.">)",
      ""));
  ASSERT_EQ(Ids(none), std::vector<std::string>{"open_graph.missing"});
  EXPECT_EQ(none[0].severity, Severity::kLow);
  EXPECT_NE(none[0].message.find("og:title and og:description"), std::string::npos);

  auto no_description =
      CheckHtml(GoodWith(R"(<meta property="og:description" content="Durable widgets.">)", ""));
  ASSERT_EQ(Ids(no_description), std::vector<std::string>{"open_graph.missing"});
  EXPECT_NE(no_description[0].message.find("og:description"), std::string::npos);
}

TEST(CheckPageTest, StructuredDataMissingAndInvalid) {
  const std::string block =
      R"(<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"Acme"}</script>)";
  auto missing = CheckHtml(GoodWith(block, ""));
  ASSERT_EQ(Ids(missing), std::vector<std::string>{"structured_data.missing"});
  EXPECT_EQ(missing[0].severity, Severity::kMedium);

  // Invalid only: reported as invalid, not also as missing.
  auto invalid =
      CheckHtml(GoodWith(block, R"(<script type="application/ld+json">{"@type":}</script>)"));
  ASSERT_EQ(Ids(invalid), std::vector<std::string>{"structured_data.invalid"});
  EXPECT_EQ(invalid[0].severity, Severity::kHigh);

  // One valid and one invalid block: only invalid.
  auto both =
      CheckHtml(GoodWith(block, block + R"(<script type="application/ld+json">{nope</script>)"));
  EXPECT_EQ(Ids(both), std::vector<std::string>{"structured_data.invalid"});
}

// Lighthouse's image-alt (axe-core): alt="" is decoration and passes, as do
// a title, an aria-label and role=presentation; no alt, or alt of spaces, fails.
TEST(CheckPageTest, ImagesAltMissingAsLighthouseJudgesIt) {
  auto findings = CheckHtml(GoodWith(R"(<img src="a.png" alt="A widget">)",
                                     "<img src=\"a.png\" alt=\"A widget\">\n<img src=b>\n"
                                     "<img src=c alt=\"\"><img src=d alt=\"  \">"
                                     "<img src=e title=\"Logo\"><img src=f role=presentation>"
                                     "<img src=g aria-label=\"Chart\">"));
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"images.alt_missing"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);
  EXPECT_EQ(findings[0].message,
            "2 images have no alt text: <img src=\"b\"> (line 13), <img src=\"d\" alt=\"  \"> "
            "(line 14).");
  EXPECT_EQ(findings[0].evidence, "<img src=\"b\">");
  EXPECT_EQ(findings[0].line, 13);
}

TEST(CheckPageTest, ThinContent) {
  auto findings = CheckHtml(GoodWith(Words(210), Words(150)));
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"content.thin"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);
  EXPECT_NE(findings[0].message.find("155"), std::string::npos);  // + 5 heading words
  // 195 + 5 heading words = 200: not thin.
  EXPECT_TRUE(CheckHtml(GoodWith(Words(210), Words(195))).empty());
}

TEST(CheckPageTest, SlowAndHeavy) {
  FetchedPage page = Page(GoodHtml());
  page.response_ms = 2500;
  auto slow = CheckPage(AnalyzeHtml(page), page);
  ASSERT_EQ(Ids(slow), std::vector<std::string>{"performance.slow"});
  EXPECT_EQ(slow[0].severity, Severity::kMedium);
  EXPECT_NE(slow[0].message.find("2500 ms"), std::string::npos);

  page.response_ms = 2000;  // the limit itself is fine
  EXPECT_TRUE(CheckPage(AnalyzeHtml(page), page).empty());

  page.bytes = 1024 * 1024 + 1;
  auto heavy = CheckPage(AnalyzeHtml(page), page);
  ASSERT_EQ(Ids(heavy), std::vector<std::string>{"performance.heavy"});
  EXPECT_EQ(heavy[0].severity, Severity::kLow);

  page.bytes = 1000;
  page.truncated = true;
  EXPECT_EQ(Ids(CheckPage(AnalyzeHtml(page), page)), std::vector<std::string>{"performance.heavy"});
}

TEST(CheckPageTest, NoHttps) {
  auto findings = CheckHtml(GoodHtml(), "http://example.com/widgets");
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"security.no_https"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);
}

TEST(CheckPageTest, EmptyDocumentFiresEveryContentCheckOnce) {
  auto findings = CheckHtml("<html><body></body></html>");
  EXPECT_EQ(Ids(findings), (std::vector<std::string>{"title.missing", "meta_description.missing",
                                                     "h1.missing", "html.lang_missing",
                                                     "canonical.missing", "open_graph.missing",
                                                     "structured_data.missing", "content.thin"}));
  for (const auto& f : findings) {
    EXPECT_FALSE(f.message.empty()) << f.check_id;
    EXPECT_FALSE(f.fix.empty()) << f.check_id;
    EXPECT_EQ(f.page, "https://example.com/widgets");
  }
}

// ---------------------------------------------------------------------------
// CheckSite

CrawlResult GoodCrawl() {
  CrawlResult crawl;
  crawl.start_url = "https://example.com/";
  crawl.robots_txt = {200, "User-agent: *\nAllow: /\nSitemap: https://example.com/sitemap.xml\n",
                      ""};
  crawl.llms_txt = {200, "# Example\n> A site.\n", ""};
  crawl.sitemap_xml = {200, "<?xml version=\"1.0\"?><urlset></urlset>", ""};
  return crawl;
}

TEST(CheckSiteTest, GoodSiteHasNoFindings) { EXPECT_TRUE(CheckSite(GoodCrawl(), {}).empty()); }

TEST(CheckSiteTest, RobotsBlockingEachAiCrawler) {
  CrawlResult crawl = GoodCrawl();
  crawl.robots_txt.body =
      "User-agent: GPTBot\nDisallow: /\n\nUser-agent: ClaudeBot\nDisallow: /\n\n"
      "User-agent: PerplexityBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /\n\n"
      "User-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
      "Sitemap: https://example.com/sitemap.xml\n";
  auto findings = CheckSite(crawl, {});
  ASSERT_EQ(Ids(findings),
            (std::vector<std::string>{"robots.blocks_gptbot", "robots.blocks_claudebot",
                                      "robots.blocks_perplexitybot",
                                      "robots.blocks_google_extended", "robots.blocks_ccbot"}));
  EXPECT_EQ(findings[0].severity, Severity::kCritical);
  EXPECT_EQ(findings[1].severity, Severity::kCritical);
  EXPECT_EQ(findings[2].severity, Severity::kCritical);
  EXPECT_EQ(findings[3].severity, Severity::kHigh);
  EXPECT_EQ(findings[4].severity, Severity::kMedium);
  for (const auto& f : findings) EXPECT_EQ(f.page, "");
  EXPECT_NE(findings[0].fix.find("User-agent: GPTBot"), std::string::npos);
}

TEST(CheckSiteTest, RobotsBlockingEveryoneBlocksAiCrawlers) {
  CrawlResult crawl = GoodCrawl();
  crawl.robots_txt.body = "User-agent: *\nDisallow: /\nSitemap: https://example.com/s.xml\n";
  EXPECT_EQ(CheckSite(crawl, {}).size(), 5u);
}

TEST(CheckSiteTest, RobotsBlockingOnlyASubfolderIsFine) {
  CrawlResult crawl = GoodCrawl();
  crawl.robots_txt.body = "User-agent: GPTBot\nDisallow: /private/\n";
  EXPECT_TRUE(CheckSite(crawl, {}).empty());
}

TEST(CheckSiteTest, RobotsMissingAndUnreachable) {
  CrawlResult crawl = GoodCrawl();
  crawl.robots_txt = {404, "<html>not found</html>", ""};
  auto missing = CheckSite(crawl, {});
  ASSERT_EQ(Ids(missing), std::vector<std::string>{"robots.missing"});
  EXPECT_EQ(missing[0].severity, Severity::kLow);

  crawl.robots_txt = {503, "", ""};
  auto unreachable = CheckSite(crawl, {});
  ASSERT_EQ(Ids(unreachable), std::vector<std::string>{"robots.unreachable"});
  EXPECT_EQ(unreachable[0].severity, Severity::kHigh);
}

TEST(CheckSiteTest, LlmsTxtMissingOrSoft404) {
  CrawlResult crawl = GoodCrawl();
  crawl.llms_txt = {404, "", ""};
  auto findings = CheckSite(crawl, {});
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"llms_txt.missing"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);

  crawl.llms_txt = {200, "<!DOCTYPE html><html><body>Not found</body></html>", ""};
  EXPECT_EQ(Ids(CheckSite(crawl, {})), std::vector<std::string>{"llms_txt.missing"});
}

TEST(CheckSiteTest, SitemapMissingUnlessRobotsNamesOne) {
  CrawlResult crawl = GoodCrawl();
  crawl.sitemap_xml = {404, "", ""};
  EXPECT_TRUE(CheckSite(crawl, {}).empty());  // robots.txt has a Sitemap: line

  crawl.robots_txt.body = "User-agent: *\nAllow: /\n";
  auto findings = CheckSite(crawl, {});
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"sitemap.missing"});
  EXPECT_EQ(findings[0].severity, Severity::kMedium);

  crawl.sitemap_xml = {200, "<html><body>soft 404</body></html>", ""};
  EXPECT_EQ(Ids(CheckSite(crawl, {})), std::vector<std::string>{"sitemap.missing"});

  crawl.sitemap_xml = {200, "<?xml version=\"1.0\"?><sitemapindex></sitemapindex>", ""};
  EXPECT_TRUE(CheckSite(crawl, {}).empty());
}

TEST(CheckSiteTest, BrokenInternalLinksAggregatedPerSourcePage) {
  CrawlResult crawl = GoodCrawl();
  FetchedPage home = Page(R"(<a href="/gone">a</a><a href="/down">b</a><a href="/ok">c</a>
<a href="/not-crawled">d</a><a href="/gone#again">e</a>)",
                          "https://example.com/");
  FetchedPage gone = Page("", "https://example.com/gone");
  gone.status = 404;
  FetchedPage down = Page("", "https://example.com/down");
  down.status = 0;
  down.error = "Connection refused";
  down.error_kind = "connect";
  FetchedPage ok = Page(R"(<a href="/">home</a>)", "https://example.com/ok");
  crawl.pages = {home, gone, down, ok};
  std::vector<PageFacts> facts;
  for (const auto& p : crawl.pages) facts.push_back(AnalyzeHtml(p));

  auto findings = WithoutGeo(CheckSite(crawl, facts));
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"links.broken"});
  EXPECT_EQ(findings[0].severity, Severity::kHigh);
  EXPECT_EQ(findings[0].page, "https://example.com/");
  EXPECT_NE(findings[0].message.find("2 broken"), std::string::npos);
  EXPECT_NE(findings[0].message.find("https://example.com/gone (HTTP 404)"), std::string::npos);
  EXPECT_NE(findings[0].message.find("https://example.com/down (Connection refused)"),
            std::string::npos);
  EXPECT_EQ(findings[0].message.find("/ok"), std::string::npos);
}

TEST(CheckSiteTest, LinkToRedirectedPageMatchesRequestedUrl) {
  CrawlResult crawl = GoodCrawl();
  FetchedPage home = Page(R"(<a href="/old">old</a>)", "https://example.com/");
  FetchedPage old_page = Page("", "https://example.com/old");
  old_page.final_url = "https://example.com/new";
  old_page.status = 410;
  crawl.pages = {home, old_page};
  auto findings = WithoutGeo(CheckSite(crawl, {AnalyzeHtml(home)}));
  EXPECT_EQ(Ids(findings), std::vector<std::string>{"links.broken"});
}

TEST(CheckSiteTest, RedirectLoop) {
  CrawlResult crawl = GoodCrawl();
  FetchedPage loop = Page("", "https://example.com/loop");
  loop.status = 0;
  loop.error = "Too many redirects";
  loop.error_kind = "too_many_redirects";
  crawl.pages = {Page(GoodHtml(), "https://example.com/"), loop};
  auto findings = WithoutGeo(CheckSite(crawl, {AnalyzeHtml(crawl.pages[0])}));
  ASSERT_EQ(Ids(findings), std::vector<std::string>{"links.redirect_loop"});
  EXPECT_EQ(findings[0].severity, Severity::kHigh);
  EXPECT_EQ(findings[0].page, "https://example.com/loop");
}

// ---------------------------------------------------------------------------
// Score

Finding F(std::string id, Severity s, std::string page = "") {
  return Finding{std::move(id), s, std::move(page), "m", "f"};
}

TEST(ScoreTest, WeightsSumToOneAndCategoriesAreFixed) {
  ScoreBreakdown score = Score({}, 1);
  ASSERT_EQ(score.categories.size(), 5u);
  std::vector<std::string> names;
  double sum = 0;
  for (const auto& c : score.categories) {
    names.push_back(c.name);
    sum += c.weight;
    EXPECT_DOUBLE_EQ(c.score, 100);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"crawler_access", "structured_data", "content",
                                             "metadata", "technical"}));
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(score.geo_score, 100);
}

// The worked example in docs/audit.md.
TEST(ScoreTest, WorkedExampleIsExact) {
  const std::string a = "https://example.com/";
  const std::string b = "https://example.com/b";
  std::vector<Finding> findings = {
      F("robots.blocks_gptbot", Severity::kCritical),      // crawler_access −40
      F("title.missing", Severity::kHigh, a),              // metadata −20/2
      F("content.thin", Severity::kMedium, b),             // content −8/2
      F("structured_data.missing", Severity::kMedium, a),  // structured_data −8/2
      F("structured_data.missing", Severity::kMedium, b),  // structured_data −8/2
      F("links.broken", Severity::kHigh, a),               // technical −20/2
  };
  ScoreBreakdown score = Score(findings, 2);
  EXPECT_DOUBLE_EQ(score.categories[0].score, 60);
  EXPECT_DOUBLE_EQ(score.categories[1].score, 92);
  EXPECT_DOUBLE_EQ(score.categories[2].score, 96);
  EXPECT_DOUBLE_EQ(score.categories[3].score, 90);
  EXPECT_DOUBLE_EQ(score.categories[4].score, 90);
  // 0.30·60 + 0.20·92 + 0.20·96 + 0.15·90 + 0.15·90 = 82.6
  EXPECT_DOUBLE_EQ(score.geo_score, 82.6);
  // Deterministic: same input, same output, regardless of finding order.
  std::reverse(findings.begin(), findings.end());
  EXPECT_DOUBLE_EQ(Score(findings, 2).geo_score, 82.6);
}

TEST(ScoreTest, PageLevelPenaltiesAreScaledByPageCount) {
  // One bad page in 20 costs 1/20 of a site-wide finding.
  ScoreBreakdown score = Score({F("title.missing", Severity::kHigh, "https://e.com/x")}, 20);
  EXPECT_DOUBLE_EQ(score.categories[3].score, 99);
  EXPECT_DOUBLE_EQ(score.geo_score, 99.9);  // 100 − 0.15·1 = 99.85 → 99.9
  // The same finding on every page costs the full penalty.
  std::vector<Finding> all;
  for (int i = 0; i < 20; ++i) {
    all.push_back(F("title.missing", Severity::kHigh, "https://e.com/" + std::to_string(i)));
  }
  EXPECT_DOUBLE_EQ(Score(all, 20).categories[3].score, 80);
}

TEST(ScoreTest, CategoryScoresClampAtZero) {
  std::vector<Finding> findings;
  for (std::string bot : {"gptbot", "claudebot", "perplexitybot"})
    findings.push_back(F("robots.blocks_" + bot, Severity::kCritical));
  ScoreBreakdown score = Score(findings, 1);
  EXPECT_DOUBLE_EQ(score.categories[0].score, 0);
  EXPECT_DOUBLE_EQ(score.geo_score, 70);
}

// Twenty bad robots.txt lines are one bad robots.txt.
TEST(ScoreTest, ASiteWideCheckCountsOnceHoweverManyLinesItNames) {
  std::vector<Finding> findings;
  for (int i = 0; i < 20; ++i) findings.push_back(F("robots_txt.invalid", Severity::kMedium));
  ScoreBreakdown score = Score(findings, 1);
  EXPECT_DOUBLE_EQ(score.categories[0].score, 92);
}

TEST(ScoreTest, ZeroPagesIsTreatedAsOne) {
  EXPECT_DOUBLE_EQ(Score({F("h1.missing", Severity::kMedium, "p")}, 0).categories[2].score, 92);
}

TEST(ScoreTest, EachCheckIdLandsInItsCategory) {
  struct Case {
    std::string id;
    std::size_t category;
  };
  const std::vector<Case> cases = {
      {"robots.blocks_ccbot", 0},
      {"robots.missing", 0},
      {"llms_txt.missing", 0},
      {"sitemap.missing", 0},
      {"page.noindex", 0},
      {"structured_data.missing", 1},
      {"structured_data.invalid", 1},
      {"content.thin", 2},
      {"headings.skipped_level", 2},
      {"h1.missing", 2},
      {"h1.multiple", 2},
      {"title.missing", 3},
      {"title.length", 3},
      {"meta_description.missing", 3},
      {"open_graph.missing", 3},
      {"canonical.missing", 3},
      {"html.lang_missing", 3},
      {"page.http_error", 4},
      {"links.broken", 4},
      {"links.redirect_loop", 4},
      {"security.no_https", 4},
      {"performance.slow", 4},
      {"performance.heavy", 4},
      {"images.alt_missing", 4},
      {"page.fetch_failed", 4},
  };
  for (const auto& c : cases) {
    ScoreBreakdown score = Score({F(c.id, Severity::kLow)}, 1);
    for (std::size_t i = 0; i < score.categories.size(); ++i) {
      EXPECT_DOUBLE_EQ(score.categories[i].score, i == c.category ? 97 : 100) << c.id;
    }
  }
}

// ---------------------------------------------------------------------------
// BuildReport

TEST(BuildReportTest, HasTheDocumentedShape) {
  CrawlResult crawl = GoodCrawl();
  crawl.robots_txt.body = "User-agent: GPTBot\nDisallow: /\n";
  crawl.skipped_by_robots = {"https://example.com/private"};
  FetchedPage home = Page(GoodHtml(), "https://example.com/");
  FetchedPage gone = Page("", "https://example.com/gone");
  gone.status = 404;
  crawl.pages = {home, gone};
  std::vector<PageFacts> facts = {AnalyzeHtml(home), AnalyzeHtml(gone)};
  std::vector<Finding> findings = CheckSite(crawl, facts);
  for (std::size_t i = 0; i < crawl.pages.size(); ++i) {
    auto page_findings = CheckPage(facts[i], crawl.pages[i]);
    findings.insert(findings.end(), page_findings.begin(), page_findings.end());
  }
  findings = WithoutGeo(std::move(findings));
  ScoreBreakdown score = Score(findings, 2);
  json::value v = json::parse(BuildReport(crawl, facts, findings, score));
  const json::object& r = v.as_object();

  EXPECT_DOUBLE_EQ(r.at("geo_score").to_number<double>(), score.geo_score);
  ASSERT_EQ(r.at("score_breakdown").as_array().size(), 5u);
  const auto& first = r.at("score_breakdown").as_array()[0].as_object();
  EXPECT_EQ(first.at("name").as_string(), "crawler_access");
  EXPECT_DOUBLE_EQ(first.at("weight").to_number<double>(), 0.30);
  EXPECT_DOUBLE_EQ(first.at("score").to_number<double>(), 60);

  const auto& counts = r.at("issue_counts").as_object();
  EXPECT_EQ(counts.at("critical").to_number<int>(), 1);
  EXPECT_EQ(counts.at("high").to_number<int>(), 1);  // page.http_error on /gone
  EXPECT_EQ(counts.at("medium").to_number<int>(), 0);
  EXPECT_EQ(counts.at("low").to_number<int>(), 0);
  EXPECT_EQ(r.at("total_pages").to_number<int>(), 2);

  const auto& grouped = r.at("findings").as_object();
  for (const char* s : {"critical", "high", "medium", "low"}) {
    ASSERT_TRUE(grouped.contains(s)) << s;
    EXPECT_TRUE(grouped.at(s).is_array());
  }
  const auto& critical = grouped.at("critical").as_array()[0].as_object();
  EXPECT_EQ(critical.at("check_id").as_string(), "robots.blocks_gptbot");
  EXPECT_EQ(critical.at("page").as_string(), "");
  EXPECT_FALSE(critical.at("message").as_string().empty());
  EXPECT_FALSE(critical.at("fix").as_string().empty());
  EXPECT_EQ(grouped.at("high").as_array()[0].at("check_id").as_string(), "page.http_error");

  const auto& pages = r.at("pages").as_array();
  ASSERT_EQ(pages.size(), 2u);
  const auto& p0 = pages[0].as_object();
  EXPECT_EQ(p0.at("url").as_string(), "https://example.com/");
  EXPECT_EQ(p0.at("status").to_number<int>(), 200);
  EXPECT_EQ(p0.at("title").as_string(), "Acme widgets for every workshop");
  EXPECT_EQ(p0.at("word_count").to_number<int>(), 215);
  EXPECT_DOUBLE_EQ(p0.at("response_ms").to_number<double>(), 120);
  EXPECT_EQ(p0.at("bytes").to_number<std::size_t>(), home.bytes);
  EXPECT_EQ(p0.at("h1_count").to_number<int>(), 1);
  EXPECT_EQ(p0.at("jsonld_types").as_array().size(), 1u);
  EXPECT_EQ(p0.at("issues").to_number<int>(), 0);
  EXPECT_EQ(pages[1].at("status").to_number<int>(), 404);
  EXPECT_EQ(pages[1].at("issues").to_number<int>(), 1);

  const auto& site = r.at("site").as_object();
  EXPECT_EQ(site.at("robots_txt").to_number<int>(), 200);
  EXPECT_EQ(site.at("llms_txt").to_number<int>(), 200);
  EXPECT_EQ(site.at("sitemap").to_number<int>(), 200);
  const auto& bots = site.at("ai_crawlers").as_object();
  EXPECT_EQ(bots.size(), 5u);
  EXPECT_EQ(bots.at("GPTBot").as_string(), "blocked");
  EXPECT_EQ(bots.at("ClaudeBot").as_string(), "allowed");
  EXPECT_EQ(bots.at("PerplexityBot").as_string(), "allowed");
  EXPECT_EQ(bots.at("Google-Extended").as_string(), "allowed");
  EXPECT_EQ(bots.at("CCBot").as_string(), "allowed");
  ASSERT_EQ(site.at("skipped_by_robots").as_array().size(), 1u);
  EXPECT_EQ(site.at("skipped_by_robots").as_array()[0].as_string(), "https://example.com/private");
}

TEST(BuildReportTest, EmptyCrawlStillHasEveryKey) {
  CrawlResult crawl;
  crawl.robots_txt.status = 404;
  json::value v = json::parse(BuildReport(crawl, {}, {}, Score({}, 0)));
  for (const char* key : {"geo_score", "score_breakdown", "issue_counts", "total_pages", "findings",
                          "pages", "site"}) {
    EXPECT_TRUE(v.as_object().contains(key)) << key;
  }
  EXPECT_EQ(v.at("site").at("ai_crawlers").at("GPTBot").as_string(), "allowed");
}

TEST(BuildReportTest, UnreachableRobotsMarksCrawlersUnknown) {
  CrawlResult crawl;
  crawl.robots_txt = {0, "", "timeout"};
  json::value v = json::parse(BuildReport(crawl, {}, {}, Score({}, 0)));
  EXPECT_EQ(v.at("site").at("ai_crawlers").at("ClaudeBot").as_string(), "unknown");
}

TEST(AnalyzeHtmlTest, FactsTheGeoChecksRead) {
  PageFacts f = AnalyzeHtml(Page(R"(<html><head>
<meta name="Author" content="Maya Okafor"><meta property="og:type" content="article">
<meta http-equiv="X-Robots-Tag" content="noai">
<link rel="author" href="/maya">
<script type="application/ld+json">{"@graph":[
  {"@type":"Organization","name":"Acme","sameAs":["https://en.wikipedia.org/wiki/Acme","https://x.com/acme"]},
  {"@type":["Article","NewsArticle"],"author":{"@type":"Person","name":"Maya"},
   "dateModified":"2026-11-30","datePublished":"2026-11-01"},
  {"@type":"FAQPage","mainEntity":[]}]}</script>
<script src="/app.js"></script><script>var x = 1;</script>
</head><body><nav>menu words here</nav>
<main><p>one two three</p><dl><dt>a</dt><dd>b</dd></dl><table><tr><td>c</td></tr></table>
<a href="https://other.example/paper">source</a><a href="https://other.example/paper">again</a>
<a href="/local">local</a></main></body></html>)"));
  ASSERT_EQ(f.jsonld_entities.size(), 3u);
  EXPECT_EQ(f.jsonld_entities[0].types, std::vector<std::string>{"Organization"});
  EXPECT_EQ(f.jsonld_entities[0].same_as.size(), 2u);
  EXPECT_EQ(f.jsonld_entities[1].types, (std::vector<std::string>{"Article", "NewsArticle"}));
  EXPECT_TRUE(f.jsonld_entities[1].has_author);
  EXPECT_EQ(f.jsonld_entities[1].date_modified, "2026-11-30");
  EXPECT_EQ(f.jsonld_entities[1].date_published, "2026-11-01");
  EXPECT_TRUE(f.jsonld_entities[2].has_main_entity);
  std::vector<std::pair<std::string, std::string>> metas;
  for (const MetaTag& m : f.metas) metas.emplace_back(m.key, m.content);
  EXPECT_EQ(metas,
            (std::vector<std::pair<std::string, std::string>>{
                {"author", "Maya Okafor"}, {"og:type", "article"}, {"x-robots-tag", "noai"}}));
  ASSERT_EQ(f.metas.size(), 3u);
  EXPECT_EQ(f.metas[0].where.snippet, "<meta name=\"Author\" content=\"Maya Okafor\">");
  EXPECT_EQ(f.metas[0].where.line, 2);
  EXPECT_EQ(f.metas[1].where.snippet, "<meta property=\"og:type\" content=\"article\">");
  EXPECT_EQ(f.metas[2].where.snippet, "<meta http-equiv=\"X-Robots-Tag\" content=\"noai\">");
  EXPECT_EQ(f.metas[2].where.line, 3);
  for (const JsonLdEntity& e : f.jsonld_entities) {
    EXPECT_EQ(e.where.snippet, "<script type=\"application/ld+json\">");
    EXPECT_EQ(e.where.line, 5);
  }
  // The article's author, nested: not an entity of the page.
  ASSERT_EQ(f.jsonld_nested.size(), 1u);
  EXPECT_EQ(f.jsonld_nested[0].types, std::vector<std::string>{"Person"});
  EXPECT_EQ(f.jsonld_nested[0].where.line, 5);
  EXPECT_TRUE(f.has_rel_author);
  EXPECT_EQ(f.script_count, 2);
  ASSERT_EQ(f.scripts.size(), 2u);
  EXPECT_EQ(f.scripts[0].where.snippet, "<script src=\"/app.js\">");
  EXPECT_EQ(f.scripts[0].where.line, 10);
  EXPECT_TRUE(f.scripts[0].has_src);
  EXPECT_EQ(f.scripts[1].where.snippet, "<script>");
  EXPECT_FALSE(f.scripts[1].has_src);
  EXPECT_FALSE(f.empty_mount_point);
  EXPECT_EQ(f.dl_count, 1);
  EXPECT_EQ(f.table_count, 1);
  EXPECT_EQ(f.main_word_count, 9);  // one two three a b c source again local: not the nav
  EXPECT_EQ(f.external_links, std::vector<std::string>{"https://other.example/paper"});
}

TEST(AnalyzeHtmlTest, EmptyMountPoint) {
  PageFacts f = AnalyzeHtml(Page(R"(<html><body>
<input id="app">
<div id="root"><p>not empty</p></div>
<div class="shell" id=" App ">
  <!-- filled by the bundle -->
</div>
<div id="__next"></div>
<script src="/bundle.js"></script></body></html>)"));
  ASSERT_TRUE(f.empty_mount_point);
  EXPECT_EQ(f.empty_mount_point->snippet, "<div class=\"shell\" id=\" App \">");
  EXPECT_EQ(f.empty_mount_point->line, 4);

  EXPECT_EQ(AnalyzeHtml(Page("<html><body><app-root></app-root></body></html>"))
                .empty_mount_point->snippet,
            "<app-root>");
  EXPECT_FALSE(
      AnalyzeHtml(Page("<html><body><div id=\"root\">text</div></body></html>")).empty_mount_point);
}

TEST(AnalyzeHtmlTest, NestedJsonLdEntities) {
  PageFacts f = AnalyzeHtml(Page(R"(<html><head>
<script type="application/ld+json">[{"@type":"BlogPosting",
 "publisher":{"@type":["Organization"],"sameAs":"https://www.wikidata.org/wiki/Q1",
   "logo":{"@type":"ImageObject"}},
 "author":[{"@type":"Person","sameAs":["https://github.com/maya"]}]}]</script>
<script type="application/ld+json">{"@context":"https://schema.org","name":"no type",
 "publisher":{"@type":"Corporation"}}</script>
</head><body></body></html>)"));
  ASSERT_EQ(f.jsonld_entities.size(), 1u);
  ASSERT_EQ(f.jsonld_nested.size(), 4u);
  EXPECT_EQ(f.jsonld_nested[0].types, std::vector<std::string>{"Organization"});
  EXPECT_EQ(f.jsonld_nested[0].same_as,
            std::vector<std::string>{"https://www.wikidata.org/wiki/Q1"});
  EXPECT_EQ(f.jsonld_nested[0].where.line, 2);
  EXPECT_EQ(f.jsonld_nested[1].types, std::vector<std::string>{"ImageObject"});
  EXPECT_EQ(f.jsonld_nested[2].types, std::vector<std::string>{"Person"});
  EXPECT_EQ(f.jsonld_nested[2].same_as, std::vector<std::string>{"https://github.com/maya"});
  // Inside an object without @type: still nested, in the second block.
  EXPECT_EQ(f.jsonld_nested[3].types, std::vector<std::string>{"Corporation"});
  EXPECT_EQ(f.jsonld_nested[3].where.line, 6);
}

TEST(AnalyzeHtmlTest, QuestionHeadingsJudgedBeforeTheCut) {
  const std::string long_question(90, 'x');
  PageFacts f =
      AnalyzeHtml(Page("<html><body><h2>" + long_question +
                       "?</h2><h2>Why\xEF\xBC\x9F</h2><h3>Not a question</h3></body></html>"));
  ASSERT_EQ(f.headings.size(), 3u);
  EXPECT_TRUE(f.headings[0].text.ends_with("..."));
  EXPECT_TRUE(f.headings[0].is_question);
  EXPECT_TRUE(f.headings[1].is_question);
  EXPECT_FALSE(f.headings[2].is_question);
}

}  // namespace
}  // namespace herald::audit
