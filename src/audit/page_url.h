#pragma once
// URLs as the audit compares them, in one place for the analysis and the
// checks (analysis.cc, seo_checks.cc, geo_checks.cc): normalised (scheme
// and host lower-case, percent-encoding canonical), no fragment, "/" for an
// empty path; and the key two URLs of one page share. Boost.URL is in this
// header because its callers hold the parsed URLs; only audit/*.cc
// include it.

#include <boost/url/url.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace herald::audit {

// `text` (trimmed) as an absolute URL in the form above; nullopt when it is
// not an absolute URL.
std::optional<boost::urls::url> NormalizedUrl(std::string_view text);

// `href` (trimmed) resolved against `base`, in the same form; nullopt for
// an empty href or one that is not a URL reference.
std::optional<boost::urls::url> ResolveHref(const boost::urls::url& base, std::string_view href);

// The page a URL stands for: normalised, then crawler.h's PageKey (index
// files are their directory). `text` itself when it does not parse.
std::string UrlKey(std::string_view text);

// The host, lower-case, without a leading "www.".
std::string HostWithoutWww(const boost::urls::url& url);

}  // namespace herald::audit
