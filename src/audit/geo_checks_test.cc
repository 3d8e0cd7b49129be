#include "audit/geo_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "audit/analysis.h"
#include "support/fixture_files.h"

namespace herald::audit {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

// 3 December 2026, 12:00 UTC: "now" for every freshness test.
const std::chrono::system_clock::time_point kNow =
    sys_days{std::chrono::year{2026} / std::chrono::December / 3} + 12h;

std::string Words(int n, std::string_view word = "word") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += word;
    out += ' ';
  }
  return out;
}

FetchedPage Page(std::string html, std::string url = "https://example.com/guide",
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  FetchedPage page;
  page.url = url;
  page.final_url = url;
  page.status = 200;
  page.content_type = "text/html; charset=utf-8";
  page.body = std::move(html);
  page.response_ms = 120;
  page.bytes = page.body.size();
  page.headers = std::move(headers);
  return page;
}

std::vector<Finding> GeoPage(const FetchedPage& page) {
  std::vector<Finding> out;
  CheckGeoPage(AnalyzeHtml(page), page, out);
  return out;
}

// The site's findings for these pages (crawled in this order) and sitemap.
std::vector<Finding> GeoSite(std::vector<FetchedPage> pages, std::string sitemap = "",
                             std::chrono::system_clock::time_point now = kNow) {
  CrawlResult crawl;
  crawl.start_url = pages.empty() ? "" : pages.front().url;
  crawl.robots_txt = SiteFile{200, "User-agent: *\nAllow: /\n", ""};
  crawl.sitemap_xml = sitemap.empty() ? SiteFile{404, "", ""} : SiteFile{200, sitemap, ""};
  crawl.pages = std::move(pages);
  std::vector<PageFacts> facts;
  for (const FetchedPage& p : crawl.pages) facts.push_back(AnalyzeHtml(p));
  std::vector<Finding> out;
  CheckGeoSite(crawl, facts, out, now);
  return out;
}

std::vector<Finding> Only(const std::vector<Finding>& findings, std::string_view id) {
  std::vector<Finding> out;
  for (const Finding& f : findings)
    if (f.check_id == id) out.push_back(f);
  return out;
}

std::vector<std::string> Ids(const std::vector<Finding>& findings) {
  std::vector<std::string> ids;
  for (const Finding& f : findings) ids.push_back(f.check_id);
  return ids;
}

// The freshness findings' ids (the site checks fire beside them).
std::vector<std::string> FreshnessIds(const std::vector<Finding>& findings) {
  std::vector<std::string> ids;
  for (const Finding& f : findings)
    if (f.check_id.starts_with("freshness.")) ids.push_back(f.check_id);
  return ids;
}

// A page with nothing for the page checks to report: 120 words, a source
// link, a plain WebPage.
std::string PlainHtml(std::string_view head = "", std::string_view body = "") {
  return R"(<!doctype html>
<html lang="en"><head><title>Roasting guide</title>
)" + std::string(head) +
         R"(
</head><body>
<h1>Roasting guide</h1>
<p>)" + Words(120) +
         R"(</p>
<p>See <a href="https://coffee-research.example/roast-study">the roast study</a>.</p>
)" + std::string(body) +
         R"(
</body></html>)";
}

// ---------------------------------------------------------------------------
// content.js_only

TEST(GeoChecksJsOnlyTest, EmptyMountPointWithScriptIsAnAppShell) {
  const auto found = GeoPage(Page(R"(<!doctype html>
<html lang="en"><head><title>Northwind app</title>
<script type="application/ld+json">{"@type":"WebSite","name":"Northwind"}</script>
</head><body>
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div>
<script src="/static/js/main.3f2a.js"></script>
</body></html>)"));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"content.js_only"});
  const Finding& f = found[0];
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.page, "https://example.com/guide");
  EXPECT_EQ(f.message,
            "The page is an app shell: without JavaScript it shows no text, and its content is "
            "drawn by a script into an empty <div id=\"root\">. AI crawlers such as GPTBot, "
            "ClaudeBot and PerplexityBot do not run JavaScript, so they see an empty page and "
            "cannot quote or cite it.");
  EXPECT_EQ(f.evidence, "<div id=\"root\">");
  EXPECT_EQ(f.line, 6);
  EXPECT_NE(f.fix.find("server-side rendering"), std::string::npos);
}

TEST(GeoChecksJsOnlyTest, FewWordsAndAScriptWithoutAMountPoint) {
  const auto found = GeoPage(Page(R"(<!doctype html>
<html lang="en"><head><title>Catalogue</title>
<script>window.dataLayer = [];</script>
</head><body>
<p>Loading the catalogue</p>
<div class="catalogue" data-mount></div>
<script defer
        src="/bundle.js"></script>
</body></html>)"));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"content.js_only"});
  EXPECT_EQ(found[0].severity, Severity::kHigh);
  EXPECT_EQ(found[0].message,
            "Without JavaScript the page shows only 3 words; its content is produced by its 2 "
            "scripts. AI crawlers such as GPTBot, ClaudeBot and PerplexityBot do not run "
            "JavaScript, so they see an empty page and cannot quote or cite it.");
  // The bundle (a script with src) rather than the inline snippet: its
  // opening tag rebuilt from its attributes as the parser read them (a bare
  // defer is defer="defer"), on the line where that tag ends.
  EXPECT_EQ(found[0].evidence, "<script defer=\"defer\" src=\"/bundle.js\">");
  EXPECT_EQ(found[0].line, 8);
}

TEST(GeoChecksJsOnlyTest, MountPointMakesAThinPageAnAppShellUpTo200Words) {
  const std::string html = R"(<html><body><header><p>)" + Words(150) +
                           R"(</p></header><div id="app">
  <!-- rendered on the client -->
</div><script src="/app.js"></script></body></html>)";
  const auto found = GeoPage(Page(html));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"content.js_only"});
  EXPECT_EQ(found[0].evidence, "<div id=\"app\">");
  EXPECT_NE(found[0].message.find("shows only 150 words"), std::string::npos);
  // With 200 words around it, the empty mount is a widget on a real page.
  const std::string full =
      R"(<html><body><p>)" + Words(200) +
      R"(</p><div id="app"></div><script src="/app.js"></script></body></html>)";
  EXPECT_TRUE(Only(GeoPage(Page(full)), "content.js_only").empty());
}

TEST(GeoChecksJsOnlyTest, ServerRenderedOrScriptlessPagesPass) {
  // Next.js with its content rendered into the mount point.
  const std::string next =
      R"(<html><body><div id="__next"><main><p>)" + Words(80) +
      R"(</p></main></div><script src="/_next/main.js"></script></body></html>)";
  EXPECT_TRUE(Only(GeoPage(Page(next)), "content.js_only").empty());
  // Few words, but no script: thin, not JavaScript-only.
  EXPECT_TRUE(Only(GeoPage(Page("<html><body><p>Opening hours: 9 to 5</p></body></html>")),
                   "content.js_only")
                  .empty());
  // Only JSON-LD: data, not a script that draws the page.
  EXPECT_TRUE(
      Only(
          GeoPage(Page(
              R"(<html><head><script type="application/ld+json">{"@type":"WebPage"}</script></head><body><div id="root"></div></body></html>)")),
          "content.js_only")
          .empty());
}

// ---------------------------------------------------------------------------
// authorship.missing

TEST(GeoChecksAuthorshipTest, ArticleInJsonLdWithoutAuthor) {
  const auto found = GeoPage(Page(PlainHtml(
      R"(<script type="application/ld+json">
{"@context": "https://schema.org",
 "@type": "BlogPosting", "headline": "How we roast"}
</script>)")));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"authorship.missing"});
  const Finding& f = found[0];
  EXPECT_EQ(f.severity, Severity::kLow);
  EXPECT_EQ(
      f.message,
      "The page is an article (JSON-LD \"BlogPosting\") but names no author: no \"author\" in "
      "its JSON-LD, no <meta name=\"author\"> and no rel=\"author\" link.");
  // The JSON-LD block that names the article type.
  EXPECT_EQ(f.evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(f.line, 3);
}

TEST(GeoChecksAuthorshipTest, OpenGraphArticleWithoutAuthor) {
  const auto found = GeoPage(Page(PlainHtml(R"(<meta property="og:type" content="article">)")));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"authorship.missing"});
  EXPECT_EQ(found[0].message,
            "The page is an article (og:type \"article\") but names no author: no \"author\" in "
            "its JSON-LD, no <meta name=\"author\"> and no rel=\"author\" link.");
  EXPECT_EQ(found[0].evidence, "<meta property=\"og:type\" content=\"article\">");
  EXPECT_EQ(found[0].line, 3);
}

TEST(GeoChecksAuthorshipTest, AnyAuthorSignalOrANonArticlePasses) {
  const std::string article =
      R"(<script type="application/ld+json">{"@type":"NewsArticle","headline":"x"}</script>)";
  for (const std::string& author : {
           std::string(R"(<meta name="author" content="Maya Okafor">)"),
           std::string(R"(<link rel="author" href="/team/maya">)"),
           std::string(R"(<meta property="article:author" content="https://example.com/maya">)"),
       }) {
    EXPECT_TRUE(GeoPage(Page(PlainHtml(article + author))).empty()) << author;
  }
  EXPECT_TRUE(
      GeoPage(
          Page(PlainHtml(
              R"(<script type="application/ld+json">{"@type":"Article","author":{"@type":"Person","name":"Maya"}}</script>)")))
          .empty());
  // A byline link with rel=author in the body.
  EXPECT_TRUE(
      GeoPage(Page(PlainHtml(article, R"(<p>By <a rel="author" href="/maya">Maya</a></p>)")))
          .empty());
  // An empty author meta is no author.
  EXPECT_EQ(Ids(GeoPage(Page(PlainHtml(article + R"(<meta name="author" content=" ">)")))),
            std::vector<std::string>{"authorship.missing"});
  // Not an article: a product page, og:type website.
  EXPECT_TRUE(
      GeoPage(
          Page(PlainHtml(
              R"(<meta property="og:type" content="website"><script type="application/ld+json">{"@type":"Product","name":"Kettle"}</script>)")))
          .empty());
}

// ---------------------------------------------------------------------------
// citations.none

TEST(GeoChecksCitationsTest, LongPageWithoutOutboundLinks) {
  const std::string html = R"(<html lang="en"><body>
<nav><a href="/">Home</a> <a href="https://twitter.com/northwind">Twitter</a></nav>
<main><h1>Roast levels</h1><p>)" +
                           Words(320) +
                           R"(</p><a href="/beans">Our beans</a></main>
</body></html>)";
  const auto found = GeoPage(Page(html, "https://example.com/roast-levels"));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"citations.none"});
  const Finding& f = found[0];
  EXPECT_EQ(f.severity, Severity::kLow);
  EXPECT_EQ(f.page, "https://example.com/roast-levels");
  // 320 words + "Roast levels" + "Our beans".
  EXPECT_EQ(f.message,
            "The page has 324 words in its main content but links only to social networks "
            "(twitter.com): it cites no source, so answer engines have nothing to corroborate its "
            "claims with and may prefer pages that do.");
  EXPECT_EQ(f.evidence, "");
  EXPECT_EQ(f.line, 0);
}

TEST(GeoChecksCitationsTest, WithoutMainTheWholePageCounts) {
  const auto found = GeoPage(Page("<html><body><p>" + Words(300) + "</p></body></html>"));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"citations.none"});
  EXPECT_EQ(found[0].message,
            "The page has 300 words but links to no other site: it cites no source, so answer "
            "engines have nothing to corroborate its claims with and may prefer pages that do.");
}

TEST(GeoChecksCitationsTest, SourcesShortPagesAndTheHomePagePass) {
  const std::string sourced =
      "<html><body><p>" + Words(400) +
      R"(</p><a href="https://doi.org/10.1000/182">study</a></body></html>)";
  EXPECT_TRUE(GeoPage(Page(sourced)).empty());
  EXPECT_TRUE(GeoPage(Page("<html><body><p>" + Words(299) + "</p></body></html>")).empty());
  // 400 words, but only 250 in <main>: the content is short.
  const std::string chrome = "<html><body><footer><p>" + Words(150) + "</p></footer><main><p>" +
                             Words(250) + "</p></main></body></html>";
  EXPECT_TRUE(GeoPage(Page(chrome)).empty());
  // The home page is a hub, not a source of claims.
  EXPECT_TRUE(
      GeoPage(Page("<html><body><p>" + Words(400) + "</p></body></html>", "https://example.com/"))
          .empty());
}

// ---------------------------------------------------------------------------
// ai_directives.*

TEST(GeoChecksAiDirectivesTest, NoaiInTheRobotsMetaTag) {
  const auto found =
      GeoPage(Page(PlainHtml(R"(<meta name="robots" content="index, follow, noai, noimageai">)")));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"ai_directives.noai"});
  const Finding& f = found[0];
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.message,
            "The page's robots meta tag says \"noai\" and \"noimageai\": it asks AI systems not to "
            "use its text or its images, so AI crawlers that honour it leave the page out of "
            "training and of AI answers, and will not quote or cite it.");
  EXPECT_EQ(f.evidence, "<meta name=\"robots\" content=\"index, follow, noai, noimageai\">");
  EXPECT_EQ(f.line, 3);
  EXPECT_NE(f.fix.find("Remove \"noai\"/\"noimageai\" from the robots meta tag"),
            std::string::npos);
}

TEST(GeoChecksAiDirectivesTest, NoaiForOneBotInTheHeader) {
  const auto found = GeoPage(
      Page(PlainHtml(), "https://example.com/guide",
           {{"x-robots-tag", "googlebot: nosnippet"}, {"x-robots-tag", "GPTBot: noimageai"}}));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"ai_directives.noai"});
  EXPECT_EQ(found[0].message,
            "The page's X-Robots-Tag header says \"noimageai\": it asks GPTBot (OpenAI's crawler "
            "for training its models) not to use its images, so AI crawlers that honour it leave "
            "the page out of training and of AI answers, and will not quote or cite it.");
  EXPECT_EQ(found[0].evidence, "X-Robots-Tag: GPTBot: noimageai");
  EXPECT_EQ(found[0].line, 0);
}

TEST(GeoChecksAiDirectivesTest, TdmReservationMetaOrHeader) {
  const auto meta = GeoPage(Page(PlainHtml(R"(<meta name="tdm-reservation" content="1">)")));
  ASSERT_EQ(Ids(meta), std::vector<std::string>{"ai_directives.tdm_reserved"});
  EXPECT_EQ(meta[0].severity, Severity::kMedium);
  EXPECT_EQ(meta[0].message,
            "The page reserves its text and data mining rights (<meta name=\"tdm-reservation\" "
            "content=\"1\">, the W3C TDMRep protocol): under the EU copyright directive (DSM "
            "Article 4) AI systems that honour it may not mine the page without a licence, so they "
            "may not use or cite it.");
  EXPECT_EQ(meta[0].evidence, "<meta name=\"tdm-reservation\" content=\"1\">");
  EXPECT_EQ(meta[0].line, 3);

  const auto header =
      GeoPage(Page(PlainHtml(), "https://example.com/guide", {{"tdm-reservation", "1"}}));
  ASSERT_EQ(Ids(header), std::vector<std::string>{"ai_directives.tdm_reserved"});
  EXPECT_NE(header[0].message.find("(the tdm-reservation: 1 header, the W3C TDMRep protocol)"),
            std::string::npos);
  EXPECT_EQ(header[0].evidence, "tdm-reservation: 1");

  // 0 reserves nothing.
  EXPECT_TRUE(GeoPage(Page(PlainHtml(R"(<meta name="tdm-reservation" content="0">)"))).empty());
}

TEST(GeoChecksAiDirectivesTest, NoindexForAnAiBot) {
  const auto found = GeoPage(Page(PlainHtml(R"(<meta name="GPTBot" content="noindex">)")));
  ASSERT_EQ(Ids(found), std::vector<std::string>{"ai_directives.bot_noindex"});
  const Finding& f = found[0];
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.message,
            "The page's GPTBot meta tag tells GPTBot (OpenAI's crawler for training its models) "
            "\"noindex\": not to index the page, so GPTBot leaves it out and the answers it feeds "
            "will not show or cite it.");
  EXPECT_EQ(f.evidence, "<meta name=\"GPTBot\" content=\"noindex\">");
  EXPECT_EQ(f.line, 3);

  const auto header = GeoPage(
      Page(PlainHtml(), "https://example.com/guide", {{"x-robots-tag", "PerplexityBot: none"}}));
  ASSERT_EQ(Ids(header), std::vector<std::string>{"ai_directives.bot_noindex"});
  EXPECT_NE(header[0].message.find("tells PerplexityBot (Perplexity's search) \"none\""),
            std::string::npos);
  EXPECT_EQ(header[0].evidence, "X-Robots-Tag: PerplexityBot: none");
}

TEST(GeoChecksAiDirectivesTest, OtherDirectivesDoNotFire) {
  for (const std::string& head : {
           // Googlebot's and everyone's noindex are page.noindex's business.
           std::string(R"(<meta name="robots" content="noindex">)"),
           std::string(R"(<meta name="googlebot" content="noindex, nosnippet">)"),
           // GPTBot may index; max-snippet is no bot name.
           std::string(R"(<meta name="GPTBot" content="index, follow">)"),
           std::string(
               R"(<meta name="robots" content="max-snippet: 50, max-image-preview: large">)"),
           // "noai" as a description, not a directive.
           std::string(R"(<meta name="description" content="noai">)"),
       }) {
    EXPECT_TRUE(GeoPage(Page(PlainHtml(head))).empty()) << head;
  }
  // A bot nobody knows.
  EXPECT_TRUE(GeoPage(Page(PlainHtml(), "https://example.com/guide",
                           {{"x-robots-tag", "examplebot: noai, noindex"}}))
                  .empty());
}

TEST(GeoChecksAiDirectivesTest, HeadersOnlyForNonHtmlAndNothingForFailedPages) {
  FetchedPage pdf = Page("%PDF-1.4", "https://example.com/report.pdf", {{"x-robots-tag", "noai"}});
  pdf.content_type = "application/pdf";
  const auto found = GeoPage(pdf);
  ASSERT_EQ(Ids(found), std::vector<std::string>{"ai_directives.noai"});
  EXPECT_EQ(found[0].evidence, "X-Robots-Tag: noai");

  FetchedPage gone = Page(
      "<html><body><div id=\"root\"></div><script src=\"/a.js\"></script>"
      "</body></html>",
      "https://example.com/gone", {{"x-robots-tag", "noai"}});
  gone.status = 404;
  EXPECT_TRUE(GeoPage(gone).empty());
}

// ---------------------------------------------------------------------------
// entity.unclear

TEST(GeoChecksEntityTest, NoOrganizationOrPersonAnywhere) {
  const auto found = Only(GeoSite({Page(PlainHtml(), "https://example.com/"), Page(PlainHtml())}),
                          "entity.unclear");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kMedium);
  EXPECT_EQ(found[0].page, "");
  EXPECT_EQ(found[0].message,
            "No page of the site says who is behind it: none of the 2 pages analysed has a "
            "schema.org Organization or Person in JSON-LD with sameAs links to its profiles "
            "elsewhere, so answer engines cannot tell which company or person the site belongs "
            "to and may confuse it with namesakes.");
  EXPECT_EQ(found[0].evidence, "");
}

TEST(GeoChecksEntityTest, OrganizationWithoutSameAs) {
  const auto found = Only(GeoSite({Page(PlainHtml(), "https://example.com/"),
                                   Page(PlainHtml(R"(<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "LocalBusiness",
 "name": "Northwind Roasters", "url": "https://example.com/"}
</script>)"),
                                        "https://example.com/about")}),
                          "entity.unclear");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kMedium);
  EXPECT_EQ(found[0].page, "");
  EXPECT_EQ(found[0].message,
            "The site describes itself as \"LocalBusiness\" (JSON-LD on https://example.com/about) "
            "but gives no sameAs links, so answer engines cannot tie it to a known entity "
            "(Wikipedia, Wikidata, LinkedIn) and may confuse it with namesakes.");
  EXPECT_EQ(found[0].evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(found[0].line, 3);
  EXPECT_NE(found[0].fix.find("Add \"sameAs\" to that LocalBusiness"), std::string::npos);
}

TEST(GeoChecksEntityTest, SameAsOnTheSiteItselfIsNoProfile) {
  const auto found = Only(
      GeoSite({Page(
          PlainHtml(
              R"(<script type="application/ld+json">{"@type":"Person","name":"Maya","sameAs":["https://www.example.com/about","/maya"]}</script>)"),
          "https://example.com/")}),
      "entity.unclear");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(
      found[0].message,
      "The site describes itself as \"Person\" (JSON-LD on https://example.com/) but its "
      "sameAs names no profile on another site (\"https://www.example.com/about\"), so answer "
      "engines cannot tie it to a known entity (Wikipedia, Wikidata, LinkedIn) and may "
      "confuse it with namesakes.");
  EXPECT_EQ(found[0].evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(found[0].line, 3);
}

TEST(GeoChecksEntityTest, AnEntityWithAProfileAnywhereIdentifiesTheSite) {
  const std::string org =
      R"(<script type="application/ld+json">{"@type":"Organization","name":"Northwind"}</script>)";
  const std::vector<std::string> identified = {
      // A subtype, written with the vocabulary URL, on a later page.
      R"(<script type="application/ld+json">{"@type":"https://schema.org/Corporation","sameAs":"https://en.wikipedia.org/wiki/Northwind"}</script>)",
      // In an @graph, a Person.
      R"(<script type="application/ld+json">{"@graph":[{"@type":"WebSite"},{"@type":"Person","sameAs":["https://www.linkedin.com/in/maya"]}]}</script>)",
      // Nested: an article's publisher.
      R"(<script type="application/ld+json">{"@type":"Article","author":{"@type":"Person","name":"Maya"},"publisher":{"@type":"NewsMediaOrganization","sameAs":["https://www.wikidata.org/wiki/Q42"]}}</script>)",
  };
  for (const std::string& jsonld : identified) {
    EXPECT_TRUE(Only(GeoSite({Page(PlainHtml(org), "https://example.com/"),
                              Page(PlainHtml(jsonld), "https://example.com/b")}),
                     "entity.unclear")
                    .empty())
        << jsonld;
  }
}

TEST(GeoChecksEntityTest, ANestedOrganizationIsNamedWithItsBlock) {
  // The first block has no Organization; the second nests one in an Article.
  const auto found = Only(
      GeoSite(
          {Page(PlainHtml(
                    R"(<script type="application/ld+json">{"@type":"WebSite","name":"x"}</script>
<script type="application/ld+json">{"@type":"Article","author":{"@type":"Person","name":"Maya"},
  "publisher":{"@type":"Organization","name":"Northwind"}}</script>)"),
                "https://example.com/")}),
      "entity.unclear");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "The site describes itself as \"Organization\" (JSON-LD on https://example.com/, "
            "inside another entity) but gives no sameAs links, so answer engines cannot tie it to "
            "a known entity (Wikipedia, Wikidata, LinkedIn) and may confuse it with namesakes.");
  EXPECT_EQ(found[0].evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(found[0].line, 4);
}

TEST(GeoChecksEntityTest, NothingToJudgeWithoutAnHtmlPage) {
  FetchedPage failed = Page("", "https://example.com/");
  failed.status = 0;
  failed.error = "connection refused";
  EXPECT_TRUE(GeoSite({failed}).empty());
}

// ---------------------------------------------------------------------------
// answers.none

TEST(GeoChecksAnswersTest, NoAnswerShapedContentOnAnyPage) {
  const auto found = Only(
      GeoSite(
          {Page(PlainHtml("", "<footer><h2>Questions?</h2><p>Mail us.</p></footer>"),
                "https://example.com/"),
           Page(PlainHtml(
               R"(<script type="application/ld+json">{"@type":"FAQPage","name":"FAQ"}</script>)"))}),
      "answers.none");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::kMedium);
  EXPECT_EQ(found[0].page, "");
  EXPECT_EQ(found[0].message,
            "None of the 2 pages analysed has content shaped like an answer: no FAQPage or QAPage "
            "structured data with questions (mainEntity), no question headings (ending in \"?\"), "
            "no definition lists (<dl>) and no tables. Answer engines quote such passages "
            "directly.");
  EXPECT_EQ(found[0].evidence, "");
}

TEST(GeoChecksAnswersTest, AnyAnswerShapeOnAnyPagePasses) {
  const std::vector<std::string> shapes = {
      "<h2>How long do roasted beans keep?</h2><p>Four weeks.</p>",
      "<h3>焙煎した豆はどのくらい持ちますか？</h3>",
      "<dl><dt>Crema</dt><dd>The foam on an espresso.</dd></dl>",
      "<table><tr><th>Roast</th><th>Minutes</th></tr><tr><td>Light</td><td>9</td></tr></table>",
      R"(<script type="application/ld+json">{"@type":"FAQPage","mainEntity":[{"@type":"Question","name":"Why?"}]}</script>)",
  };
  for (const std::string& shape : shapes) {
    EXPECT_TRUE(
        Only(GeoSite({Page(PlainHtml(), "https://example.com/"), Page(PlainHtml("", shape))}),
             "answers.none")
            .empty())
        << shape;
  }
}

TEST(GeoChecksAnswersTest, ALongQuestionHeadingIsStillAQuestion) {
  // PageFacts cuts heading text at 80 bytes ("..."); the question mark at
  // the end of a longer heading still counts.
  const std::string heading =
      "<h2>" + Words(20, "roasting") + "how long should beans rest before brewing?</h2>";
  EXPECT_TRUE(Only(GeoSite({Page(PlainHtml("", heading))}), "answers.none").empty());
}

// ---------------------------------------------------------------------------
// freshness.no_date, freshness.stale

TEST(GeoChecksFreshnessTest, NoMachineReadableDate) {
  const auto found = GeoSite({Page(PlainHtml())});
  const auto no_date = Only(found, "freshness.no_date");
  ASSERT_EQ(no_date.size(), 1u);
  EXPECT_EQ(no_date[0].severity, Severity::kLow);
  EXPECT_EQ(no_date[0].page, "https://example.com/guide");
  EXPECT_EQ(no_date[0].message,
            "The page gives no machine-readable date: no dateModified or datePublished in its "
            "JSON-LD, no article:modified_time or article:published_time meta tag, no "
            "Last-Modified header and no <lastmod> for it in the sitemap. Answer engines weigh how "
            "recent a source is and cannot tell.");
  EXPECT_EQ(no_date[0].evidence, "");
  EXPECT_TRUE(Only(found, "freshness.stale").empty());
}

TEST(GeoChecksFreshnessTest, AnUnreadableDateIsNoDate) {
  const auto found = Only(GeoSite({Page(PlainHtml(
                              R"(<script type="application/ld+json">{"@type":"WebPage",
  "dateModified": "last Tuesday"}</script>)"))}),
                          "freshness.no_date");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("in the sitemap (its JSON-LD dateModified \"last Tuesday\" is "
                                  "not an ISO 8601 date). Answer"),
            std::string::npos)
      << found[0].message;
  EXPECT_EQ(found[0].evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(found[0].line, 3);
}

TEST(GeoChecksFreshnessTest, StaleWhenTheNewestDateIsOverTwoYearsOld) {
  const auto found = GeoSite({Page(PlainHtml(
      R"(<meta property="article:published_time" content="2018-06-01T08:00:00+02:00">
<meta property="article:modified_time" content="2024-12-02T23:59:59Z">)"))});
  const auto stale = Only(found, "freshness.stale");
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].severity, Severity::kLow);
  EXPECT_EQ(stale[0].page, "https://example.com/guide");
  EXPECT_EQ(stale[0].message,
            "The newest date the page gives is 2024-12-02 (article:modified_time meta tag), more "
            "than 2 years ago, so answer engines may treat its content as out of date and prefer "
            "fresher sources.");
  EXPECT_EQ(stale[0].evidence,
            "<meta property=\"article:modified_time\" content=\"2024-12-02T23:59:59Z\">");
  EXPECT_EQ(stale[0].line, 4);
  EXPECT_TRUE(Only(found, "freshness.no_date").empty());
}

TEST(GeoChecksFreshnessTest, TwoYearsToTheSecondIsNotStale) {
  // now is 2026-12-03 12:00 UTC.
  auto with = [](std::string_view date) {
    return GeoSite({Page(PlainHtml("<meta property=\"article:modified_time\" content=\"" +
                                   std::string(date) + "\">"))});
  };
  EXPECT_EQ(FreshnessIds(with("2024-12-03T12:00:00Z")), std::vector<std::string>{});
  EXPECT_EQ(FreshnessIds(with("2024-12-03T11:59:59Z")),
            std::vector<std::string>{"freshness.stale"});
  // 13:00+02:00 is 11:00 UTC.
  EXPECT_EQ(FreshnessIds(with("2024-12-03T13:00:00+02:00")),
            std::vector<std::string>{"freshness.stale"});
}

TEST(GeoChecksFreshnessTest, LastModifiedHeaderCounts) {
  const auto fresh = GeoSite({Page(PlainHtml(), "https://example.com/guide",
                                   {{"last-modified", "Mon, 30 Nov 2026 09:00:00 GMT"}})});
  EXPECT_EQ(FreshnessIds(fresh), std::vector<std::string>{});
  const auto old = Only(GeoSite({Page(PlainHtml(), "https://example.com/guide",
                                      {{"last-modified", "Tue, 15 Nov 1994 08:12:31 GMT"}})}),
                        "freshness.stale");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_NE(old[0].message.find("is 1994-11-15 (Last-Modified header)"), std::string::npos);
  EXPECT_EQ(old[0].evidence, "Last-Modified: Tue, 15 Nov 1994 08:12:31 GMT");
  EXPECT_EQ(old[0].line, 0);
}

TEST(GeoChecksFreshnessTest, JsonLdDatesAndTheNewestWins) {
  const auto found = GeoSite({Page(PlainHtml(
      R"(<script type="application/ld+json">{"@type":"WebPage","datePublished":"2015-01-01","dateModified":"2026-10-01T10:00:00+01:00"}</script>)"))});
  EXPECT_EQ(FreshnessIds(found), std::vector<std::string>{});
  const auto old = Only(
      GeoSite({Page(PlainHtml(
          R"(<script type="application/ld+json">{"@type":"WebPage","datePublished":"2015-01-01"}</script>)"))}),
      "freshness.stale");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].evidence, "<script type=\"application/ld+json\">");
  EXPECT_EQ(old[0].line, 3);
}

TEST(GeoChecksFreshnessTest, SitemapLastmodForThePage) {
  const std::string sitemap = R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.com/</loc><lastmod>2026-11-01</lastmod></url>
  <url>
    <loc>https://example.com/guide?lang=en&amp;v=2</loc>
    <lastmod>2019-04-01T10:00:00+00:00</lastmod>
  </url>
  <url><loc>http://www.example.com/story/index.html</loc><lastmod>2026-11-20</lastmod></url>
</urlset>)";
  // The home page, and a page named with another scheme, www and its index
  // file: fresh.
  EXPECT_EQ(FreshnessIds(GeoSite({Page(PlainHtml(), "https://example.com/"),
                                  Page(PlainHtml(), "https://example.com/story/")},
                                 sitemap)),
            std::vector<std::string>{});
  // Entities decoded, query kept: stale.
  const auto stale =
      Only(GeoSite({Page(PlainHtml(), "https://example.com/guide?lang=en&v=2")}, sitemap),
           "freshness.stale");
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_NE(stale[0].message.find("is 2019-04-01 (sitemap <lastmod>)"), std::string::npos);
  EXPECT_EQ(stale[0].evidence, "<lastmod>2019-04-01T10:00:00+00:00</lastmod>");
  // A page the sitemap does not list.
  EXPECT_EQ(FreshnessIds(GeoSite({Page(PlainHtml(), "https://example.com/other")}, sitemap)),
            std::vector<std::string>{"freshness.no_date"});
}

TEST(GeoChecksFreshnessTest, FailedPagesAreNotJudged) {
  FetchedPage missing = Page("<html><body>Not found</body></html>", "https://example.com/x");
  missing.status = 404;
  FetchedPage pdf = Page("%PDF-1.4", "https://example.com/a.pdf");
  pdf.content_type = "application/pdf";
  EXPECT_EQ(FreshnessIds(GeoSite({Page(PlainHtml("<meta property=\"article:modified_time\" "
                                                 "content=\"2026-12-01\">"),
                                       "https://example.com/"),
                                  missing, pdf})),
            std::vector<std::string>{});
}

TEST(GeoChecksFreshnessTest, WithoutNowTheClockDecides) {
  CrawlResult crawl;
  crawl.pages = {
      Page(PlainHtml("<meta property=\"article:modified_time\" content=\"2001-01-01\">"))};
  std::vector<PageFacts> facts = {AnalyzeHtml(crawl.pages[0])};
  std::vector<Finding> out;
  CheckGeoSite(crawl, facts, out);
  EXPECT_EQ(Ids(Only(out, "freshness.stale")), std::vector<std::string>{"freshness.stale"});
}

TEST(GeoChecksDatesTest, Iso8601) {
  auto at = [](int y, unsigned m, unsigned d, std::chrono::seconds s = 0s) {
    return std::chrono::sys_seconds(sys_days{std::chrono::year{y} / m / d}) + s;
  };
  EXPECT_EQ(ParseIsoDate("2026-11-30"), at(2026, 11, 30));
  EXPECT_EQ(ParseIsoDate(" 2026-11-30T09:15 "), at(2026, 11, 30, 9h + 15min));
  EXPECT_EQ(ParseIsoDate("2026-11-30T09:15:07Z"), at(2026, 11, 30, 9h + 15min + 7s));
  EXPECT_EQ(ParseIsoDate("2026-11-30T09:15:07.123456+02:00"), at(2026, 11, 30, 7h + 15min + 7s));
  EXPECT_EQ(ParseIsoDate("2026-11-30 09:15:07-0530"), at(2026, 11, 30, 14h + 45min + 7s));
  EXPECT_EQ(ParseIsoDate("2026-11-30T23:00:00-02"), at(2026, 12, 1, 1h));
  EXPECT_EQ(ParseIsoDate("2024-02-29"), at(2024, 2, 29));
  for (const char* bad :
       {"", "2026", "2026-11", "2026-13-01", "2025-02-29", "2026-11-31", "26-11-30", "2026/11/30",
        "2026-11-30T25:00", "2026-11-30T09", "2026-11-30T09:15:07.", "2026-11-30T09:15+2",
        "2026-11-30Z", "2026-11-30T09:15:07 GMT", "30 November 2026",
        "Mon, 30 Nov 2026 09:00:00 GMT"}) {
    EXPECT_EQ(ParseIsoDate(bad), std::nullopt) << bad;
  }
}

TEST(GeoChecksDatesTest, HttpDate) {
  EXPECT_EQ(
      ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"),
      std::chrono::sys_seconds(sys_days{std::chrono::year{1994} / 11 / 6}) + 8h + 49min + 37s);
  EXPECT_EQ(ParseHttpDate("mon, 30 nov 2026 09:00:00 gmt"),
            std::chrono::sys_seconds(sys_days{std::chrono::year{2026} / 11 / 30}) + 9h);
  for (const char* bad :
       {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT", "2026-11-30"}) {
    EXPECT_EQ(ParseHttpDate(bad), std::nullopt) << bad;
  }
}

TEST(GeoChecksDatesTest, SitemapLastmods) {
  const auto entries = SitemapLastmods(R"(<?xml version="1.0"?>
<URLSET xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc> https://a.example/x?a=1&amp;b=2 </loc><lastmod>2026-01-02</lastmod></url>
<url><loc>https://a.example/no-date</loc><changefreq>daily</changefreq></url>
<url ><lastmod> 2025-05-05T10:00:00Z </lastmod><loc><![CDATA[https://a.example/cdata]]></loc></url>
<url><loc>https://a.example/empty</loc><lastmod></lastmod></url>
</URLSET>)");
  EXPECT_EQ(entries, (std::vector<std::pair<std::string, std::string>>{
                         {"https://a.example/x?a=1&b=2", "2026-01-02"},
                         {"https://a.example/cdata", "2025-05-05T10:00:00Z"}}));
  EXPECT_TRUE(SitemapLastmods("").empty());
  EXPECT_TRUE(SitemapLastmods("<sitemapindex><sitemap><loc>https://a.example/s.xml</loc>"
                              "<lastmod>2026-01-01</lastmod></sitemap></sitemapindex>")
                  .empty());
}

// A page that passes every GEO page check, and a site that passes every
// site check, so each check above is what fires.
TEST(GeoChecksSiteTest, AGoodSiteHasNoGeoFindings) {
  const std::string home = PlainHtml(
      R"(<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"Northwind","sameAs":["https://en.wikipedia.org/wiki/Northwind"],"dateModified":"2026-11-30"}</script>)");
  const std::string article =
      R"(<!doctype html><html lang="en"><head><title>Roast levels</title>
<meta name="author" content="Maya Okafor">
<script type="application/ld+json">{"@type":"BlogPosting","author":{"@type":"Person","name":"Maya Okafor"},"datePublished":"2026-10-01","dateModified":"2026-11-02"}</script>
</head><body><main><h1>Roast levels</h1><h2>Which roast is strongest?</h2><p>)" +
      Words(400) +
      R"(</p><p>Source: <a href="https://coffee-research.example/caffeine">caffeine study</a></p></main></body></html>)";
  std::vector<FetchedPage> pages = {Page(home, "https://example.com/"),
                                    Page(article, "https://example.com/roast-levels")};
  std::vector<Finding> found;
  for (const FetchedPage& p : pages) CheckGeoPage(AnalyzeHtml(p), p, found);
  const auto site = GeoSite(pages);
  found.insert(found.end(), site.begin(), site.end());
  EXPECT_EQ(Ids(found), std::vector<std::string>{});
}

// ---------------------------------------------------------------------------
// tests/fixtures/geo: each page fires one check, as its README lists. Read
// from disk as FixtureSite would serve it ({{origin}} replaced, FILE.headers
// as headers), in the order the crawler reaches the pages.

// The fixture's bytes with {{origin}} filled in as the fixture site would.
std::string ReadFixture(std::string_view name, bool required = true) {
  std::string out = test::ReadFixture("geo", name, required);
  const std::string origin = "http://127.0.0.1:8080";
  for (std::size_t at = out.find("{{origin}}"); at != std::string::npos;
       at = out.find("{{origin}}", at + origin.size())) {
    out.replace(at, 10, origin);
  }
  return out;
}

TEST(GeoChecksFixtureTest, EachPageFiresItsCheckOnce) {
  const std::vector<std::string> files = {"index.html",
                                          "about.html",
                                          "contact.html",
                                          "shop.html",
                                          "app-shell.html",
                                          "article-no-author.html",
                                          "long-no-sources.html",
                                          "no-date.html",
                                          "stale.html",
                                          "noai.html",
                                          "tdm.html",
                                          "gptbot-noindex.html"};
  CrawlResult crawl;
  crawl.start_url = "http://127.0.0.1:8080/";
  crawl.robots_txt = SiteFile{200, ReadFixture("robots.txt"), ""};
  crawl.sitemap_xml = SiteFile{200, ReadFixture("sitemap.xml"), ""};
  crawl.llms_txt = SiteFile{404, "", ""};
  for (const std::string& file : files) {
    FetchedPage page = Page(ReadFixture(file), "http://127.0.0.1:8080/" +
                                                   (file == "index.html" ? std::string() : file));
    std::istringstream headers(ReadFixture(file + ".headers", false));
    for (std::string line; std::getline(headers, line);) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      value.erase(0, std::min(value.find_first_not_of(' '), value.size()));
      page.headers.emplace_back(name, value);
    }
    crawl.pages.push_back(std::move(page));
  }
  std::vector<PageFacts> facts;
  std::vector<Finding> found;
  for (const FetchedPage& page : crawl.pages) {
    facts.push_back(AnalyzeHtml(page));
    CheckGeoPage(facts.back(), page, found);
  }
  CheckGeoSite(crawl, facts, found, kNow);

  using Row = std::tuple<std::string, std::string, std::string, std::string, int>;
  std::vector<Row> rows;
  for (const Finding& f : found) {
    const std::string path =
        f.page.empty() ? "" : f.page.substr(std::string("http://127.0.0.1:8080").size());
    rows.emplace_back(f.check_id, std::string(ToString(f.severity)), path, f.evidence, f.line);
  }
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows,
            (std::vector<Row>{
                {"ai_directives.bot_noindex", "high", "/gptbot-noindex.html",
                 "<meta name=\"GPTBot\" content=\"noindex\">", 6},
                {"ai_directives.noai", "high", "/noai.html",
                 "<meta name=\"robots\" content=\"noai, noimageai\">", 6},
                {"ai_directives.tdm_reserved", "medium", "/tdm.html", "tdm-reservation: 1", 0},
                {"answers.none", "medium", "", "", 0},
                {"authorship.missing", "low", "/article-no-author.html",
                 "<script type=\"application/ld+json\">", 6},
                {"citations.none", "low", "/long-no-sources.html", "", 0},
                {"content.js_only", "high", "/app-shell.html", "<div id=\"root\">", 10},
                {"entity.unclear", "medium", "", "<script type=\"application/ld+json\">", 7},
                {"freshness.no_date", "low", "/no-date.html", "", 0},
                {"freshness.stale", "low", "/stale.html",
                 "<meta property=\"article:modified_time\" content=\"2019-03-01T09:00:00Z\">", 7},
            }));
  // The messages the README quotes for the site-wide checks and the
  // citation count.
  for (const Finding& f : found) {
    if (f.check_id == "entity.unclear") {
      EXPECT_EQ(f.message,
                "The site describes itself as \"Organization\" (JSON-LD on "
                "http://127.0.0.1:8080/) but gives no sameAs links (nor does the site's other "
                "Organization or Person entity), so answer engines cannot tie it to a known "
                "entity (Wikipedia, Wikidata, LinkedIn) and may confuse it with namesakes.");
    } else if (f.check_id == "answers.none") {
      EXPECT_NE(f.message.find("None of the 12 pages analysed"), std::string::npos);
    } else if (f.check_id == "citations.none") {
      EXPECT_NE(f.message.find("The page has 326 words in its main content but links only to "
                               "social networks (instagram.com)"),
                std::string::npos);
    }
  }
}

}  // namespace
}  // namespace herald::audit
