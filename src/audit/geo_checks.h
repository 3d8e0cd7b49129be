#pragma once
// GEO checks: what decides whether an AI answer engine (ChatGPT, Claude,
// Perplexity, Gemini) can read a page without running its scripts, knows who
// is behind the site, can date and attribute what it quotes, finds content
// shaped like answers and sources to check claims against, and is allowed to
// use the page at all (noai, TDM reservation, AI-bot noindex). No SEO tool
// or Lighthouse audit has these; docs/audit.md ("GEO checks") gives each
// rule and why it matters. Pure functions over PageFacts and the crawl; a
// finding quotes what on the page shows it (the tag, the header line, the
// JSON-LD block, as PageFacts records them) with its line where the page has one.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/analysis.h"
#include "audit/crawler.h"
#include "audit/finding.h"

namespace herald::audit {

// Appends the page's findings: content.js_only, authorship.missing,
// citations.none, ai_directives.noai, ai_directives.tdm_reserved,
// ai_directives.bot_noindex. Nothing for a page that failed or did not
// answer 2xx; a page that is not HTML gets only what its headers say
// (X-Robots-Tag noai, tdm-reservation).
void CheckGeoPage(const PageFacts& facts, const FetchedPage& page, std::vector<Finding>& out);

// Appends the site's findings: entity.unclear and answers.none (site-wide),
// and, per page, freshness.no_date and freshness.stale (a page's dates
// include the sitemap's <lastmod>, so they are judged here). `now` decides
// what is stale; the overload without it uses the system clock.
void CheckGeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out, std::chrono::system_clock::time_point now);
void CheckGeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out);

// ISO 8601 as schema.org and Open Graph dates are written: YYYY-MM-DD, then
// optionally T (or a space) HH:MM[:SS[.fraction]] and Z, ±HH:MM, ±HHMM or
// ±HH. No zone means UTC. nullopt for anything else (including impossible
// dates such as 2025-02-30).
std::optional<std::chrono::sys_seconds> ParseIsoDate(std::string_view text);

// An HTTP date in RFC 7231's preferred format (IMF-fixdate):
// "Sun, 06 Nov 1994 08:49:37 GMT". nullopt for anything else.
std::optional<std::chrono::sys_seconds> ParseHttpDate(std::string_view text);

// The sitemap's <url> entries that have a <lastmod>: (loc, lastmod), both
// trimmed, XML entities and CDATA undone, in document order.
std::vector<std::pair<std::string, std::string>> SitemapLastmods(std::string_view xml);

}  // namespace herald::audit
