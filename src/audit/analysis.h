#pragma once
// GEO analysis: what one HTML page says about itself, the findings for each
// page and for the site, the score, and the report. Pure functions over the
// crawl result: no network, so every check is unit-tested on strings.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/crawler.h"
#include "audit/finding.h"

namespace herald::audit {

// An element as evidence: its opening tag as written (attributes in
// document order, cut to ~200 bytes) and its line in the page.
struct ElementRef {
  std::string snippet;  // `<img src="a.png" width="10">`
  int line = 0;
};

struct Anchor {
  ElementRef where;
  std::string raw_href;  // the attribute as written ("" when absent)
  bool has_href = false;
  std::string text;  // visible text, whitespace collapsed
  std::string rel;   // lower-case
  std::string name, role, id;
  bool has_onclick = false;
  bool has_href_associated = false;  // target, download, ping, rel, hreflang, type, referrerpolicy
};

struct Image {
  ElementRef where;
  bool has_alt = false;
  std::string alt;
  bool labelled = false;        // aria-label / aria-labelledby / title not empty
  bool presentational = false;  // role="none" or "presentation"
};

struct HreflangLink {
  ElementRef where;
  std::string lang;      // as written
  std::string raw_href;  // as written
  std::string href;      // resolved, "" when it does not parse
};

struct Heading {
  int level = 1;
  ElementRef where;
  std::string text;
  bool in_main = false;      // inside <main>, role=main or <article>
  bool in_chrome = false;    // inside nav, aside, header or footer
  bool is_question = false;  // the whole text (before any cut) ends in "?", "？" or "؟"
};

// A top-level JSON-LD entity (the object, an item of a top-level array or
// of an @graph) and the properties the GEO checks read; also used for the
// entities nested in them (PageFacts::jsonld_nested), of which only types,
// same_as and where are filled.
struct JsonLdEntity {
  ElementRef where;                  // its <script type="application/ld+json"> block
  std::vector<std::string> types;    // "@type", one or many
  std::vector<std::string> same_as;  // "sameAs" URLs
  bool has_author = false;           // "author" present and not empty
  std::string date_modified;         // "dateModified" as written
  std::string date_published;        // "datePublished" as written
  bool has_main_entity = false;      // "mainEntity" (FAQPage/QAPage questions)
};

// A <meta name|property|http-equiv content>: key lower-case (name, else
// property, else http-equiv), content as written.
struct MetaTag {
  std::string key;
  std::string content;
  ElementRef where;
};

// A <script> other than JSON-LD.
struct ScriptRef {
  ElementRef where;
  bool has_src = false;
};

// The facts one page yields (libxml2's HTML parser).
struct PageFacts {
  std::string url;
  int status = 0;
  std::string title;
  ElementRef title_where;  // the first <title>
  ElementRef html_where;   // the <html> element
  std::string meta_description;
  std::string lang;
  std::string canonical;                                       // the first canonical, resolved
  std::vector<std::pair<std::string, ElementRef>> canonicals;  // every one: raw href, where
  std::vector<HreflangLink> hreflangs;
  std::vector<Anchor> anchors;
  std::vector<Image> image_list;
  std::vector<Heading> headings;  // every h1-h6, in document order
  // JSON-LD blocks that do not parse: the parser's message with the line
  // and column in the page, and the block's opening tag.
  std::vector<std::pair<std::string, ElementRef>> jsonld_errors;
  std::vector<JsonLdEntity> jsonld_entities;
  // Objects with an @type nested inside the JSON-LD (an article's
  // publisher or author), in document order: not entities of the page.
  std::vector<JsonLdEntity> jsonld_nested;
  // Every <meta name|property|http-equiv content> (the first 200), in
  // document order.
  std::vector<MetaTag> metas;
  bool has_rel_author = false;     // <a|link rel="author">
  int script_count = 0;            // <script> elements other than JSON-LD (scripts.size())
  std::vector<ScriptRef> scripts;  // those scripts, in document order
  // The first empty element where a front-end framework mounts the page:
  // a non-void element with id root, app, __next, __nuxt, ___gatsby or
  // svelte, or <app-root>, holding nothing but whitespace and comments.
  std::optional<ElementRef> empty_mount_point;
  int dl_count = 0;                         // <dl> definition lists
  int table_count = 0;                      // <table> elements
  int main_word_count = 0;                  // words inside main/article (0: none)
  std::vector<std::string> external_links;  // absolute http(s), other hosts, deduplicated
  int h1_count = 0;
  std::vector<int> heading_levels;         // in document order, 1..6
  std::vector<std::string> og_properties;  // "og:title", "og:description", ...
  std::vector<std::string> jsonld_types;   // schema.org @type values found
  int jsonld_invalid = 0;                  // JSON-LD blocks that do not parse
  int images = 0;
  int images_without_alt = 0;
  int word_count = 0;
  bool noindex = false;
  bool https = false;
  std::vector<std::string> internal_links;  // absolute, same host, no fragment
  double response_ms = 0;
  std::size_t bytes = 0;
};

PageFacts AnalyzeHtml(const FetchedPage& page);

// Findings for one page (title, description, h1, heading order, lang,
// canonical, Open Graph, JSON-LD, alt text, thin content, noindex, status,
// slowness, size, HTTPS).
std::vector<Finding> CheckPage(const PageFacts& facts, const FetchedPage& page);

// Site-wide findings: robots.txt rules for each AI crawler (GPTBot, ClaudeBot,
// PerplexityBot, Google-Extended, CCBot), llms.txt, sitemap, broken internal
// links (links to crawled pages that answered >= 400 or failed).
std::vector<Finding> CheckSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages);

// The same problem (check, severity, message, fix) found on two or more
// pages becomes one finding with `page` "" and those `pages`, in crawl
// order, placed where the first one was; the rest keep their order. A
// site-wide condition (every page over plain HTTP) is then reported once.
std::vector<Finding> MergeRepeated(std::vector<Finding> findings);

struct ScoreBreakdown {
  double geo_score = 0;  // 0-100
  // Per category ("crawler_access", "structured_data", "content", "metadata",
  // "technical"): score 0-100 and weight, as documented in docs/audit.md.
  struct Category {
    std::string name;
    double weight = 0;
    double score = 0;
  };
  std::vector<Category> categories;
};

ScoreBreakdown Score(const std::vector<Finding>& findings, int pages_analyzed);

// The report stored with the audit (JSON text): score and breakdown,
// findings grouped by severity, per-page details, issue counts.
std::string BuildReport(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                        const std::vector<Finding>& findings, const ScoreBreakdown& score);

}  // namespace herald::audit
