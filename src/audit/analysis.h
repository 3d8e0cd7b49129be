#pragma once
// GEO analysis: what one HTML page says about itself, the findings for each
// page and for the site, the score, and the report. Pure functions over the
// crawl result: no network, so every check is unit-tested on strings.

#include <string>
#include <vector>

#include "audit/crawler.h"
#include "audit/finding.h"

namespace herald::audit {

// The facts one page yields (libxml2's HTML parser).
struct PageFacts {
  std::string url;
  int status = 0;
  std::string title;
  std::string meta_description;
  std::string lang;
  std::string canonical;
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
