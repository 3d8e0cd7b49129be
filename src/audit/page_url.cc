#include "audit/page_url.h"

#include <boost/url.hpp>

#include "audit/crawler.h"
#include "audit/site_text.h"

namespace herald::audit {
namespace urls = boost::urls;

namespace {

// set_path_absolute(true), not set_path("/"): Boost.URL 1.81 turns the
// latter into "/./" on an empty path.
void Canonicalise(urls::url& u) {
  u.remove_fragment();
  u.normalize();
  if (u.has_authority() && u.encoded_path().empty()) u.set_path_absolute(true);
}

}  // namespace

std::optional<urls::url> NormalizedUrl(std::string_view text) {
  auto parsed = urls::parse_uri(site_text::Trim(text));
  if (!parsed) return std::nullopt;
  urls::url u(*parsed);
  Canonicalise(u);
  return u;
}

std::optional<urls::url> ResolveHref(const urls::url& base, std::string_view href) {
  href = site_text::Trim(href);
  if (href.empty()) return std::nullopt;
  auto ref = urls::parse_uri_reference(href);
  if (!ref) return std::nullopt;
  urls::url out;
  if (!urls::resolve(base, *ref, out)) return std::nullopt;
  Canonicalise(out);
  return out;
}

std::string UrlKey(std::string_view text) {
  auto u = NormalizedUrl(text);
  return PageKey(u ? std::string_view(u->buffer()) : text);
}

std::string HostWithoutWww(const urls::url& url) {
  std::string host = site_text::Lower(url.encoded_host());
  if (host.starts_with("www.")) host.erase(0, 4);
  return host;
}

}  // namespace herald::audit
