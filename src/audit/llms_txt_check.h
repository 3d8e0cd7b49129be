#pragma once
// llms.txt format check against the llmstxt.org proposal: an H1 naming the
// site first (the only required element, and the only H1), then optionally a
// "> summary" blockquote and any Markdown but headings, then zero or more
// "## Section" parts, each a Markdown list of "[name](url)" links, each
// optionally followed by ": notes".
//
// Pure function; no network, no globals; safe to call from any thread.

#include <string_view>
#include <vector>

#include "audit/crawler.h"
#include "audit/finding.h"

namespace herald::audit {

// Findings for `llms_txt` as fetched from the site of `site_url` (any URL of
// the site; its origin is used in the example links of the fixes).
//
// Only a file that is there is judged: a 2xx answer without a transport error
// whose body is not an HTML page (a soft 404); anything else yields nothing
// (CheckSite reports llms_txt.missing). An empty or blank file yields one
// finding; otherwise one "llms_txt.invalid" (low) per problem, in file order,
// at most one per line and at most 20; the 20th then also says how many more
// problems there are.
std::vector<Finding> CheckLlmsTxtFormat(const SiteFile& llms_txt, std::string_view site_url);

}  // namespace herald::audit
