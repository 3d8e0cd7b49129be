#include "audit/crawler.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "audit/robots.h"
#include "audit/url_guard.h"
#include "common/curl_handles.h"

namespace herald::audit {
namespace {

// The product token robots.txt rules are matched against.
constexpr std::string_view kAgentToken = "HeraldAudit";
constexpr std::string_view kDefaultUserAgent = "HeraldAudit/1.0";
constexpr int kMaxPagesLimit = 500;
// How often a blocked wait (a transfer, the per-host delay) looks at
// `cancelled`: well under the one second the contract promises.
constexpr std::chrono::milliseconds kPollSlice{50};

void GlobalInit() {
  curl::GlobalInit();
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

struct XmlDocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A URL reduced to the form the crawl compares and deduplicates: scheme and
// host lower-case, default port dropped, empty path "/", no fragment.
struct CrawlUrl {
  std::string url;     // origin + path_query
  std::string origin;  // "https://example.com:8443"
  std::string host;    // as in the URL; IPv6 literals keep their brackets
  std::string path_query;
};

std::optional<CrawlUrl> Normalise(const boost::urls::url_view& u) {
  std::string scheme = Lower(u.scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  if (!u.has_authority() || u.encoded_host().empty()) return std::nullopt;
  CrawlUrl out;
  out.host = Lower(u.encoded_host());
  out.origin = scheme + "://" + out.host;
  std::string port(u.port());
  if (!port.empty() && !(scheme == "http" && port == "80") &&
      !(scheme == "https" && port == "443")) {
    out.origin += ":" + port;
  }
  // Built by hand: Boost.URL 1.81 turns an empty path set to "/" into "/./"
  // (boostorg/url#674), see url_guard.cc.
  out.path_query = std::string(u.encoded_path());
  if (out.path_query.empty()) out.path_query = "/";
  if (u.has_query()) out.path_query += "?" + std::string(u.encoded_query());
  out.url = out.origin + out.path_query;
  return out;
}

std::optional<CrawlUrl> ParseAbsolute(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  return Normalise(*parsed);
}

// Real pages carry hrefs with spaces and raw UTF-8; percent-encode what a
// URI reference cannot hold so they still resolve.
std::string EscapeHref(std::string_view href) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(href.size());
  for (unsigned char c : href) {
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<CrawlUrl> ResolveLink(const boost::urls::url_view& base, std::string_view href) {
  while (!href.empty() && std::isspace(static_cast<unsigned char>(href.front()))) {
    href.remove_prefix(1);
  }
  while (!href.empty() && std::isspace(static_cast<unsigned char>(href.back()))) {
    href.remove_suffix(1);
  }
  if (href.empty() || href.front() == '#') return std::nullopt;
  std::string escaped = EscapeHref(href);
  auto ref = boost::urls::parse_uri_reference(escaped);
  if (!ref) return std::nullopt;
  // mailto:, javascript:, tel:, ftp: ... are not pages of the site.
  if (ref->has_scheme()) {
    std::string scheme = Lower(ref->scheme());
    if (scheme != "http" && scheme != "https") return std::nullopt;
  }
  boost::urls::url dest;
  if (!boost::urls::resolve(base, *ref, dest)) return std::nullopt;
  return Normalise(dest);
}

bool IsHtml(std::string_view content_type) {
  std::string type = Lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "text/html" || type == "application/xhtml+xml";
}

// The hrefs of every <a href> in document order, and the first <base href>.
std::vector<std::string> ExtractHrefs(const std::string& html, std::string* base_href) {
  std::vector<std::string> hrefs;
  int size = static_cast<int>(std::min<std::size_t>(html.size(), INT_MAX));
  std::unique_ptr<xmlDoc, XmlDocDeleter> doc(
      htmlReadMemory(html.data(), size, nullptr, nullptr,
                     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
  if (!doc) return hrefs;
  auto attribute = [](xmlNode* n, const char* name) -> std::optional<std::string> {
    xmlChar* value = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
    if (value == nullptr) return std::nullopt;
    std::string out(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return out;
  };
  // Iterative walk: hostile pages nest deeply, and recursion would follow them.
  xmlNode* top = reinterpret_cast<xmlNode*>(doc.get());
  xmlNode* n = doc->children;
  while (n != nullptr) {
    if (n->type == XML_ELEMENT_NODE && n->name != nullptr) {
      std::string name = Lower(reinterpret_cast<const char*>(n->name));
      if (name == "a") {
        if (auto href = attribute(n, "href")) hrefs.push_back(std::move(*href));
      } else if (name == "base" && base_href->empty()) {
        if (auto href = attribute(n, "href")) *base_href = std::move(*href);
      }
      if (n->children != nullptr) {
        n = n->children;
        continue;
      }
    }
    while (n != nullptr && n != top && n->next == nullptr) n = n->parent;
    n = (n == nullptr || n == top) ? nullptr : n->next;
  }
  return hrefs;
}

std::string FormatSeconds(std::chrono::milliseconds d) {
  char buffer[32];
  if (d.count() % 1000 == 0) {
    std::snprintf(buffer, sizeof buffer, "%lld s", static_cast<long long>(d.count() / 1000));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  }
  return buffer;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

// State shared with libcurl's callbacks for one transfer.
struct Transfer {
  const CrawlOptions* options = nullptr;
  const CrawlCallbacks* callbacks = nullptr;
  std::string body;
  std::size_t bytes = 0;
  bool truncated = false;  // the body was cut at max_page_bytes
  bool stopped = false;    // counting stopped at max_counted_bytes
  std::vector<std::pair<std::string, std::string>> headers;  // of the last response
  bool blocked = false;  // set when the SSRF guard refused an address
  std::string blocked_address;
  bool cancelled = false;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t length = size * count;
  t->bytes += length;
  size_t room = t->options->max_page_bytes - t->body.size();
  if (length > room) {
    // Keep what fits; read on (and drop) the rest to learn the true size,
    // up to max_counted_bytes. Stopping is a short count, which makes
    // libcurl fail with CURLE_WRITE_ERROR; Transfer() turns that back into
    // success.
    t->body.append(data, room);
    t->truncated = true;
    if (t->bytes >= t->options->max_counted_bytes) {
      t->stopped = true;
      return 0;
    }
    return length;
  }
  t->body.append(data, length);
  return length;
}

// One header line of a response. A status line starts a new response (a
// redirect's headers are not the page's), so the list holds the last one.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t length = size * count;
  std::string_view line(data, length);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->headers.clear();
    return length;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || t->headers.size() >= 200) return length;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->headers.emplace_back(Lower(line.substr(0, colon)), std::string(value.substr(0, 2048)));
  return length;
}

// The SSRF guard. Runs for every address libcurl is about to connect to,
// after DNS and on every redirect hop, so neither a redirect nor a DNS answer
// that changes between validation and fetch can reach a private address.
curl_socket_t OnOpenSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->options->allow_private && IsPrivateAddress(&address->addr)) {
    t->blocked = true;
    t->blocked_address = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->callbacks->cancelled && t->callbacks->cancelled()) {
    t->cancelled = true;
    return 1;
  }
  return 0;
}

bool IsCancelled(const CrawlCallbacks& callbacks) {
  return callbacks.cancelled && callbacks.cancelled();
}

std::string HostOf(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return url;
  std::string host(parsed->encoded_host());
  return host.empty() ? url : host;
}

// Turns a failed transfer into words a person understands.
void DescribeFailure(CURLcode code, CURL* easy, const Transfer& t, const char* detail,
                     const CrawlOptions& options, FetchedPage* page) {
  std::string host = HostOf(page->final_url.empty() ? page->url : page->final_url);
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  if (t.blocked && (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST)) {
    page->error_kind = "blocked_private";
    page->error = host + " resolves to a private or loopback address (" + t.blocked_address +
                  "); set AUDIT_ALLOW_PRIVATE=1 to allow";
    return;
  }
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      page->error_kind = "dns";
      page->error = "could not resolve host " + host;
      return;
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      page->error_kind = "connect";
      if (os_errno == ECONNREFUSED) {
        page->error = "connection refused by " + host;
      } else if (os_errno == ENETUNREACH) {
        page->error = "network unreachable for " + host;
      } else if (os_errno == EHOSTUNREACH) {
        page->error = "host unreachable: " + host;
      } else {
        page->error = "could not connect to " + host + ": " + why;
      }
      return;
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected = 0;
      curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
      page->error_kind = "timeout";
      page->error = connected == 0 ? "connecting to " + host + " timed out after " +
                                         FormatSeconds(options.connect_timeout)
                                   : "timed out after " + FormatSeconds(options.total_timeout);
      return;
    }
    case CURLE_TOO_MANY_REDIRECTS:
      page->error_kind = "too_many_redirects";
      page->error =
          "more than " + std::to_string(options.max_redirects) + " redirects (a redirect loop?)";
      return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      page->error_kind = "tls";
      page->error = "TLS handshake failed: " + why;
      return;
    case CURLE_UNSUPPORTED_PROTOCOL:
      page->error_kind = "other";
      page->error = "redirected to a URL that is not http or https";
      return;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      page->error_kind = "other";
      page->error = "the connection to " + host + " broke: " + why;
      return;
    default:
      page->error_kind = "other";
      page->error = why;
      return;
  }
}

// Fetches URLs one at a time for one crawl. Drives libcurl through a multi
// handle so a transfer can be abandoned within kPollSlice of a cancel, even
// while libcurl is waiting on DNS or a connect; the multi handle's connection
// cache also gives keep-alive between pages.
class Fetcher {
 public:
  Fetcher(const CrawlOptions& options, const CrawlCallbacks& callbacks)
      : options_(options), callbacks_(callbacks), multi_(curl_multi_init()) {
    for (const std::string& entry : options_.resolve) {
      curl::Append(resolve_, entry);
    }
  }

  // Returns nullopt when cancelled (before or during the transfer).
  std::optional<FetchedPage> Get(const std::string& url) {
    if (!WaitForTurn()) return std::nullopt;
    FetchedPage page;
    page.url = url;
    std::optional<FetchedPage> out = Transfer(std::move(page));
    last_request_end_ = std::chrono::steady_clock::now();
    return out;
  }

 private:
  // Honours per_host_delay in slices, so a cancel is seen within kPollSlice.
  bool WaitForTurn() {
    if (IsCancelled(callbacks_)) return false;
    if (!last_request_end_) return true;
    auto until = *last_request_end_ + options_.per_host_delay;
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      if (now >= until) return true;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(kPollSlice, until - now));
      if (IsCancelled(callbacks_)) return false;
    }
  }

  std::optional<FetchedPage> Transfer(FetchedPage page) {
    if (!multi_) {
      page.error_kind = "other";
      page.error = "could not start an HTTP client";
      return page;
    }
    curl::Easy easy(curl_easy_init());
    if (!easy) {
      page.error_kind = "other";
      page.error = "could not start an HTTP client";
      return page;
    }
    audit::Transfer t;
    t.options = &options_;
    t.callbacks = &callbacks_;
    char detail[CURL_ERROR_SIZE] = "";
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, page.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    // No proxy, whatever http_proxy/ALL_PROXY say: through a proxy the
    // connect-time address check (OnOpenSocket) would see the proxy's
    // address, not the target's, and the SSRF guard would be bypassed.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, detail);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the string forms; the bitmasks are deprecated
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, long{CURLPROTO_HTTP | CURLPROTO_HTTPS});
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, long{CURLPROTO_HTTP | CURLPROTO_HTTPS});
#endif
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(std::max(0, options_.max_redirects)));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    if (resolve_) curl_easy_setopt(e, CURLOPT_RESOLVE, resolve_.get());

    CURLcode code = RunToCompletion(e, &t);
    if (t.cancelled) return std::nullopt;

    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    page.status = static_cast<int>(status);
    const char* content_type = nullptr;
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &content_type);
    if (content_type != nullptr) page.content_type = content_type;
    const char* effective = nullptr;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
    page.final_url = effective != nullptr ? effective : page.url;
    if (auto normal = ParseAbsolute(page.final_url)) page.final_url = normal->url;
    long redirects = 0;
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
    page.redirects = static_cast<int>(redirects);
    curl_off_t total_us = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    page.response_ms = static_cast<double>(total_us) / 1000.0;
    page.bytes = t.bytes;
    page.bytes_at_least = t.stopped;
    page.truncated = t.truncated;
    page.body = std::move(t.body);
    page.headers = std::move(t.headers);

    if (code == CURLE_WRITE_ERROR && t.truncated) code = CURLE_OK;  // our size cap
    if (code != CURLE_OK) DescribeFailure(code, e, t, detail, options_, &page);
    return page;
  }

  // Runs one transfer on the multi handle; sets t->cancelled on a cancel.
  CURLcode RunToCompletion(CURL* e, audit::Transfer* t) {
    CURLM* m = multi_.get();
    if (curl_multi_add_handle(m, e) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode code = CURLE_FAILED_INIT;
    bool done = false;
    while (!done) {
      int running = 0;
      if (curl_multi_perform(m, &running) != CURLM_OK) break;
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
          code = msg->data.result;
          done = true;
        }
      }
      if (done || running == 0) break;
      if (IsCancelled(callbacks_)) {
        t->cancelled = true;
        break;
      }
      curl_multi_poll(m, nullptr, 0, static_cast<int>(kPollSlice.count()), nullptr);
    }
    curl_multi_remove_handle(m, e);
    if (code == CURLE_ABORTED_BY_CALLBACK) t->cancelled = true;
    return code;
  }

  const std::string& user_agent() {
    if (user_agent_.empty()) {
      user_agent_ =
          options_.user_agent.empty() ? std::string(kDefaultUserAgent) : options_.user_agent;
    }
    return user_agent_;
  }

  const CrawlOptions& options_;
  const CrawlCallbacks& callbacks_;
  curl::Multi multi_;
  curl::Slist resolve_;
  std::string user_agent_;
  std::optional<std::chrono::steady_clock::time_point> last_request_end_;
};

SiteFile ToSiteFile(const FetchedPage& page) {
  SiteFile file;
  file.status = page.status;
  file.error = page.error;
  if (page.error.empty()) file.body = page.body;
  return file;
}

Error Cancelled() { return MakeError(Errc::kConflict, "cancelled"); }

void Step(const CrawlCallbacks& callbacks, std::string_view step, std::string_view message) {
  if (callbacks.on_step) callbacks.on_step(step, message);
}

}  // namespace

Result<CrawlResult> Crawl(const std::string& start_url, const CrawlOptions& options_in,
                          const CrawlCallbacks& callbacks) {
  GlobalInit();
  CrawlOptions options = options_in;
  options.max_pages = std::clamp(options.max_pages, 1, kMaxPagesLimit);
  if (options.max_page_bytes == 0) options.max_page_bytes = 1;

  std::optional<CrawlUrl> start = ParseAbsolute(start_url);
  if (!start) return MakeError(Errc::kBadRequest, "the start URL is not an absolute http(s) URL");

  Fetcher fetcher(options, callbacks);
  CrawlResult result;
  result.start_url = start->url;

  // Site files first: robots.txt decides what the crawl may fetch.
  Step(callbacks, "robots", "Fetching robots.txt");
  std::optional<FetchedPage> robots = fetcher.Get(start->origin + "/robots.txt");
  if (!robots) return Cancelled();
  result.robots_txt = ToSiteFile(*robots);
  // Only a successful robots.txt restricts the crawl; a 404 (or any other
  // failure) means no rules. RFC 9309 would treat 5xx as "disallow all", but
  // an audit the site owner asked for is better served by crawling and
  // reporting the broken robots.txt.
  RobotsTxt rules("");
  if (robots->error.empty() && robots->status >= 200 && robots->status < 300) {
    rules = RobotsTxt(robots->body);
  }
  // Crawl-delay (for our agent, else *): honoured between requests, up to
  // max_crawl_delay so that an audit of 20 pages ends in minutes.
  if (std::optional<double> delay = rules.CrawlDelay(kAgentToken); delay && *delay > 0) {
    result.crawl_delay_seconds = *delay;
    auto wanted = std::chrono::milliseconds(static_cast<int64_t>(std::min(*delay, 86400.0) * 1000));
    result.crawl_delay_capped = wanted > options.max_crawl_delay;
    // The fetcher holds a reference to `options` and reads this.
    options.per_host_delay =
        std::max(options.per_host_delay, std::min(wanted, options.max_crawl_delay));
  }

  if (robots->status == 0 && !robots->error.empty()) {
    // The host is unreachable; don't spend two more timeouts on it before
    // the start page reports the same failure.
    result.llms_txt.error = result.sitemap_xml.error =
        "not fetched: robots.txt failed (" + robots->error + ")";
  } else {
    Step(callbacks, "llms", "Fetching llms.txt");
    std::optional<FetchedPage> llms = fetcher.Get(start->origin + "/llms.txt");
    if (!llms) return Cancelled();
    result.llms_txt = ToSiteFile(*llms);
    Step(callbacks, "sitemap", "Fetching sitemap.xml");
    std::optional<FetchedPage> sitemap = fetcher.Get(start->origin + "/sitemap.xml");
    if (!sitemap) return Cancelled();
    result.sitemap_xml = ToSiteFile(*sitemap);
  }

  if (!rules.IsAllowed(kAgentToken, start->path_query)) {
    return MakeError(Errc::kBadRequest, "robots.txt does not allow " + std::string(kAgentToken) +
                                            " to fetch the start page");
  }

  std::string origin = start->origin;  // becomes the start page's final origin
  std::deque<CrawlUrl> queue{*start};
  // Keyed by PageKey: "/" and "/index.html" are one page, fetched once.
  std::unordered_set<std::string> seen{PageKey(start->url)};
  auto known = [&] {
    return static_cast<int>(
        std::min<std::size_t>(result.pages.size() + queue.size(), options.max_pages));
  };

  while (!queue.empty() && result.pages.size() < static_cast<std::size_t>(options.max_pages)) {
    if (IsCancelled(callbacks)) return Cancelled();
    CrawlUrl next = std::move(queue.front());
    queue.pop_front();
    std::optional<FetchedPage> page = fetcher.Get(next.url);
    if (!page) return Cancelled();
    std::optional<CrawlUrl> final_url = ParseAbsolute(page->final_url);

    if (result.pages.empty()) {
      if (!page->error.empty()) return MakeError(Errc::kUnavailable, page->error);
      if (page->status >= 400) {
        return MakeError(Errc::kBadRequest,
                         "the start page answered HTTP " + std::to_string(page->status));
      }
      if (!IsHtml(page->content_type)) {
        return MakeError(
            Errc::kBadRequest,
            "the start page is not HTML (content-type: " +
                (page->content_type.empty() ? std::string("none") : page->content_type) + ")");
      }
      // A start page that redirects (http → https, apex → www) moves the site.
      if (final_url) origin = final_url->origin;
    }
    if (final_url) seen.insert(PageKey(final_url->url));

    bool follow = page->error.empty() && page->status >= 200 && page->status < 300 &&
                  IsHtml(page->content_type) && final_url && final_url->origin == origin;
    if (follow) {
      std::string base_href;
      std::vector<std::string> hrefs = ExtractHrefs(page->body, &base_href);
      boost::urls::url base(page->final_url);  // normalised above, so it parses
      if (!base_href.empty()) {
        if (auto resolved = ResolveLink(base, base_href)) base = boost::urls::url(resolved->url);
      }
      for (const std::string& href : hrefs) {
        std::optional<CrawlUrl> link = ResolveLink(base, href);
        if (!link || link->origin != origin || !seen.insert(PageKey(link->url)).second) continue;
        if (!rules.IsAllowed(kAgentToken, link->path_query)) {
          result.skipped_by_robots.push_back(link->url);
          continue;
        }
        queue.push_back(std::move(*link));
      }
    }
    result.pages.push_back(std::move(*page));
    if (callbacks.on_page) {
      callbacks.on_page(result.pages.back(), static_cast<int>(result.pages.size()), known());
    }
  }
  return result;
}

std::string PageKey(std::string_view url) {
  const size_t query = std::min(url.find('?'), url.find('#'));
  std::string_view path = url.substr(0, query);
  for (std::string_view index : {"/index.html", "/index.htm", "/index.php"}) {
    if (path.size() > index.size() && path.ends_with(index) &&
        path.find("://") != std::string_view::npos) {
      std::string key(path.substr(0, path.size() - index.size() + 1));
      if (query != std::string_view::npos) key += url.substr(query);
      return key;
    }
  }
  return std::string(url);
}

}  // namespace herald::audit
