#pragma once
// Page checks that give the same verdicts as Google Lighthouse's SEO audits
// on what raw HTML and headers can decide (docs/audit.md maps each one):
// link-text, crawlable-anchors, image-alt, is-crawlable, canonical and
// hreflang; plus the checks across pages those audits imply (a canonical
// that points at a page that is not 200 or is noindex; hreflang pairs that
// do not link back). Pure functions over PageFacts; each finding carries
// the offending element and its line as evidence.

#include <vector>

#include "audit/analysis.h"
#include "audit/finding.h"

namespace herald::audit {

// Appends the page's findings of the checks above to `out`.
void CheckSeoPage(const PageFacts& facts, const FetchedPage& page, std::vector<Finding>& out);

// The cross-page parts: canonical targets that were crawled and are not a
// plain 200 indexable page; hreflang alternates that were crawled and do
// not link back.
void CheckSeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out);

// "en", "en-GB", "zh-Hant-TW", "x-default": a language tag hreflang accepts.
bool IsValidHreflang(std::string_view tag);

// Whether the X-Robots-Tag header values keep the page out of the index:
// for every crawler ("noindex", "none", "*: noindex") when `bot` is empty,
// else for that bot only ("googlebot: noindex"; compared case-insensitively).
bool HeaderBlocksIndexing(const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string* evidence, std::string_view bot = "");

}  // namespace herald::audit
