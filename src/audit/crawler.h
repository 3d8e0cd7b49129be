#pragma once
// The audit crawler: fetches a site breadth first from its start URL over
// libcurl, same host only, obeying robots.txt for its own user agent, with
// bounded redirects, timeouts, a size cap per page and a per-host delay.
//
// SSRF guard: unless `allow_private`, no connection is made to a loopback,
// private, link-local, unique-local or metadata address; the check runs on
// the address actually connected to (libcurl's open-socket callback), so a
// redirect or DNS rebinding cannot slip past it.
//
// Blocking; call from a worker thread. Cancellation is polled often enough
// that a slow fetch stops within a second.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace herald::audit {

struct CrawlOptions {
  int max_pages = 20;          // hard cap 500, enforced by the caller too
  bool allow_private = false;  // AUDIT_ALLOW_PRIVATE
  std::string user_agent;      // "HeraldAudit/<version>"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{15000};  // per request
  std::size_t max_page_bytes = 2 * 1024 * 1024;    // larger bodies are truncated
  // A truncated page is still read (and thrown away) up to this many bytes,
  // so the report gives its true size; beyond it the transfer stops and
  // `bytes` says "at least".
  std::size_t max_counted_bytes = 64 * 1024 * 1024;
  int max_redirects = 5;
  std::chrono::milliseconds per_host_delay{0};  // between requests to the host
  // robots.txt's Crawl-delay for our agent (or *) raises per_host_delay up
  // to this; a longer one is capped here and reported.
  std::chrono::milliseconds max_crawl_delay{std::chrono::seconds(30)};
  // Tests only: libcurl CURLOPT_RESOLVE entries ("public.example:8080:127.0.0.1")
  // that pin a host name to an address without DNS. Empty in production. The
  // SSRF guard still checks the pinned address when connecting.
  std::vector<std::string> resolve;
};

struct FetchedPage {
  std::string url;        // as requested
  std::string final_url;  // after redirects
  int status = 0;         // HTTP status; 0 when no response
  std::string content_type;
  std::string body;        // decompressed, at most max_page_bytes
  bool truncated = false;  // the body was larger than max_page_bytes
  double response_ms = 0;
  std::size_t bytes = 0;        // the body's true size: bytes received, or the
                                // Content-Length when larger (a cut transfer)
  bool bytes_at_least = false;  // the transfer stopped at max_counted_bytes
  // The final response's headers (after redirects), names lower-case, in
  // order; for X-Robots-Tag, Last-Modified, Link and the like.
  std::vector<std::pair<std::string, std::string>> headers;
  int redirects = 0;
  std::string error;       // transport error a person understands, or ""
  std::string error_kind;  // "", "dns", "connect", "tls", "timeout",
                           // "too_many_redirects", "blocked_private", "other"
};

// A site-level resource fetched once (robots.txt, llms.txt, sitemap.xml).
struct SiteFile {
  int status = 0;
  std::string body;
  std::string error;
};

struct CrawlResult {
  std::string start_url;
  SiteFile robots_txt;
  SiteFile llms_txt;
  SiteFile sitemap_xml;
  std::vector<FetchedPage> pages;  // in crawl order; pages[0] is the start page
  std::vector<std::string> skipped_by_robots;
  // robots.txt's Crawl-delay that applied to the crawl (0: none), and
  // whether it was capped at CrawlOptions::max_crawl_delay.
  double crawl_delay_seconds = 0;
  bool crawl_delay_capped = false;
};

// The key two URLs of one page share: "/index.html", "/index.htm" and
// "/index.php" (any directory) are that directory ("/"), as web servers
// serve them; everything else is the URL itself.
std::string PageKey(std::string_view url);

struct CrawlCallbacks {
  // After each page, with pages done and pages known so far (<= max_pages).
  std::function<void(const FetchedPage& page, int done, int known)> on_page;
  // Steps before the crawl proper ("Fetching robots.txt").
  std::function<void(std::string_view step, std::string_view message)> on_step;
  // Polled between and during transfers; true stops the crawl.
  std::function<bool()> cancelled;
};

// Crawls the site of `start_url`. Fails (kBadRequest/kUnavailable with a
// message a person understands) only when the start page cannot be fetched
// or is not HTML; problems with other pages are recorded in their FetchedPage.
// kConflict "cancelled" when cancelled.
Result<CrawlResult> Crawl(const std::string& start_url, const CrawlOptions& options,
                          const CrawlCallbacks& callbacks);

}  // namespace herald::audit
