#pragma once
// robots.txt syntax check: the verdicts of Lighthouse 12's `robots-txt` SEO
// audit (core/audits/seo/robots-txt.js), as findings with the bad line, its
// number and a fix. What the rules *allow* is robots.h's business; this only
// says whether crawlers can read the file as written.
//
// Pure function; no network, no globals; safe to call from any thread.

#include <string_view>
#include <vector>

#include "audit/crawler.h"
#include "audit/finding.h"

namespace herald::audit {

// Findings for `robots_txt` as fetched from the site of `site_url` (any URL of
// the site; its origin is used to suggest absolute Sitemap URLs).
//
// - HTTP status >= 500: one "robots_txt.server_error" (high).
// - No response (status 0 or a transport error), 4xx, an empty body, or a body
//   that is an HTML page (a soft 404): nothing; CheckSite reports those.
// - Otherwise one "robots_txt.invalid" (medium) per bad line, in file order,
//   at most 20; the 20th then also says how many more lines are bad.
std::vector<Finding> CheckRobotsTxtSyntax(const SiteFile& robots_txt, std::string_view site_url);

}  // namespace herald::audit
