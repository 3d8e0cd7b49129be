#include "audit/robots_txt_check.h"

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/site_text.h"

namespace herald::audit {
namespace {

using namespace site_text;

// The rules below are those of Lighthouse 12's robots-txt audit,
// GoogleChrome/lighthouse core/audits/seo/robots-txt.js (v12.x: validateRobots,
// parseLine, verifyDirective and RobotsTxt.audit):
//
// - status >= 500: the audit fails on the status alone; 4xx or an empty body:
//   not applicable. (Lighthouse also fails when nothing could be fetched;
//   here CheckSite's robots.unreachable says that.)
// - the body is split on /\r\n|\r|\n/; on each line everything from the first
//   '#' is dropped and the rest trimmed (JavaScript's String.prototype.trim);
//   empty lines are skipped;
// - no ':' -> "Syntax not understood";
// - the name (before the first ':', trimmed, lower-cased) not in
//   DIRECTIVE_SAFELIST -> "Unknown directive";
// - sitemap: `new URL(value)` throws -> "Invalid sitemap URL"; a protocol
//   other than http:, https:, ftp: -> "Invalid sitemap URL protocol";
// - user-agent with an empty value -> "No user-agent specified";
// - allow/disallow: a value not empty and not starting with '/' or '*' ->
//   'Pattern should either be empty, start with "/" or "*"'; a '$' anywhere
//   but last -> '"$" should only be used at the end of the pattern';
// - at most one error per line: the first that applies, in that order; a line
//   without one that is an allow/disallow before any *valid* user-agent line
//   -> "No user-agent specified". A User-agent line with no value does not
//   open a group.
//
// Lighthouse has no cap on the errors and judges an HTML body line by line;
// here the findings stop at 20 and an HTML body (a soft 404) is not judged.

constexpr std::string_view kInvalid = "robots_txt.invalid";
constexpr std::string_view kServerError = "robots_txt.server_error";
constexpr std::size_t kMaxFindings = 20;
constexpr std::size_t kMaxEvidence = 200;

struct Directive {
  std::string_view lower;
  std::string_view canonical;
};

// DIRECTIVE_SAFELIST of Lighthouse 12. (Later Lighthouse versions added
// content-signal and license.)
constexpr std::array<Directive, 10> kDirectives = {{
    {"user-agent", "User-agent"},
    {"disallow", "Disallow"},
    {"allow", "Allow"},
    {"sitemap", "Sitemap"},
    {"crawl-delay", "Crawl-delay"},
    {"clean-param", "Clean-param"},
    {"host", "Host"},
    {"request-rate", "Request-rate"},
    {"visit-time", "Visit-time"},
    {"noindex", "Noindex"},
}};

// What String.prototype.trim removes, UTF-8 encoded: ECMAScript WhiteSpace
// (tab, VT, FF, space, U+00A0, U+FEFF, Unicode Zs) and LineTerminator.
constexpr std::array<std::string_view, 25> kJsSpaces = {
    "\t",           "\n",           "\v",           "\f",           "\r",           " ",
    "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
    "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89",
    "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80",
    "\xEF\xBB\xBF",
};

std::string_view TrimJs(std::string_view s) {
  for (bool again = true; again;) {
    again = false;
    for (std::string_view space : kJsSpaces) {
      if (s.starts_with(space)) {
        s.remove_prefix(space.size());
        again = true;
        break;
      }
    }
  }
  for (bool again = true; again;) {
    again = false;
    for (std::string_view space : kJsSpaces) {
      if (s.ends_with(space)) {
        s.remove_suffix(space.size());
        again = true;
        break;
      }
    }
  }
  return s;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The known directive an unknown name is probably a misspelling of.
const Directive* Misspelled(std::string_view lower_name) {
  const Directive* best = nullptr;
  std::size_t best_distance = 3;
  for (const Directive& d : kDirectives) {
    const std::size_t distance = EditDistance(lower_name, d.lower);
    if (distance < best_distance && distance * 3 <= d.lower.size()) {
      best = &d;
      best_distance = distance;
    }
  }
  return best;
}

const Directive* Known(std::string_view lower_name) {
  for (const Directive& d : kDirectives) {
    if (d.lower == lower_name) return &d;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Sitemap URLs, judged as `new URL(value)` (the WHATWG URL parser) would:
// Boost.URL's RFC 3986 parser does the work, after the WHATWG leniencies are
// applied to the text (slashes after a special scheme, '\' as '/', characters
// WHATWG percent-encodes itself) and WHATWG's host rules are checked.

enum class UrlVerdict { kOk, kInvalid, kBadProtocol };

bool IsHex(char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int HexValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  return LowerAscii(c) - 'a' + 10;
}

bool IsUnreserved(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsSubDelim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}

void AppendPercent(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(c);
  out += '%';
  out += kHex[byte >> 4];
  out += kHex[byte & 0x0F];
}

// Path, query and fragment made acceptable to RFC 3986, as the WHATWG parser
// accepts them: '\' is '/' in a special URL's path, other characters outside
// RFC 3986 are percent-encoded, a '%' not starting an escape is kept as %25.
std::string EncodeTail(std::string_view tail, bool special) {
  std::string out;
  bool in_path = true;
  bool in_fragment = false;
  for (std::size_t i = 0; i < tail.size(); ++i) {
    const char c = tail[i];
    if (c == '%') {
      if (i + 2 < tail.size() && IsHex(tail[i + 1]) && IsHex(tail[i + 2])) {
        out += c;
      } else {
        out += "%25";
      }
      continue;
    }
    if (c == '\\' && special && in_path) {
      out += '/';
      continue;
    }
    if (c == '?' && !in_fragment) in_path = false;
    if (c == '#' && !in_fragment) {
      in_path = false;
      in_fragment = true;
      out += c;
      continue;
    }
    if (IsUnreserved(c) || IsSubDelim(c) || c == ':' || c == '@' || c == '/' || c == '?') {
      out += c;
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

// WHATWG "IPv4 number": decimal, 0x-hex or 0-octal.
std::optional<std::uint64_t> Ipv4Number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int radix = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    radix = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    radix = 8;
    s.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (char c : s) {
    int digit = -1;
    if (radix == 16 && IsHex(c)) digit = HexValue(c);
    if (radix != 16 && IsAsciiDigit(c)) digit = c - '0';
    if (digit < 0 || digit >= radix) return std::nullopt;
    value = value * static_cast<std::uint64_t>(radix) + static_cast<std::uint64_t>(digit);
    if (value > 0xFFFFFFFFull) return value;  // too big either way; stop growing
  }
  return value;
}

std::vector<std::string_view> SplitDots(std::string_view host) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t dot = host.find('.'); dot != std::string_view::npos;
       dot = host.find('.', start)) {
    parts.push_back(host.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(host.substr(start));
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  return parts;
}

// WHATWG "ends in a number": such a host must be an IPv4 address.
bool EndsInNumber(std::string_view host) {
  const std::vector<std::string_view> parts = SplitDots(host);
  const std::string_view last = parts.back();
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), IsAsciiDigit)) return true;
  return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
         Ipv4Number(last).has_value();
}

bool IsWhatwgIpv4(std::string_view host) {
  const std::vector<std::string_view> parts = SplitDots(host);
  if (parts.size() > 4) return false;
  std::vector<std::uint64_t> numbers;
  for (std::string_view part : parts) {
    std::optional<std::uint64_t> n = Ipv4Number(part);
    if (!n) return false;
    numbers.push_back(*n);
  }
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) {
    if (numbers[i] > 255) return false;
  }
  return numbers.back() < (1ull << (8 * (5 - numbers.size())));
}

// A special URL's host (not an IPv6 literal) as WHATWG parses it: percent-
// decoded, no forbidden domain code point, a numeric ending only as IPv4.
// Non-ASCII goes through IDNA there; it is taken as valid here.
bool WhatwgHostOk(std::string_view host) {
  std::string decoded;
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (host[i] == '%' && i + 2 < host.size() && IsHex(host[i + 1]) && IsHex(host[i + 2])) {
      decoded += static_cast<char>(HexValue(host[i + 1]) * 16 + HexValue(host[i + 2]));
      i += 2;
    } else {
      decoded += host[i];
    }
  }
  if (decoded.empty()) return false;
  for (char c : decoded) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return false;
    if (std::string_view("#%/:<>?@[\\]^|").find(c) != std::string_view::npos) return false;
  }
  const std::string lower = Lower(decoded);
  if (EndsInNumber(lower)) return IsWhatwgIpv4(lower);
  return true;
}

bool IsSpecialScheme(std::string_view lower_scheme) {
  return lower_scheme == "http" || lower_scheme == "https" || lower_scheme == "ftp" ||
         lower_scheme == "ws" || lower_scheme == "wss" || lower_scheme == "file";
}

// The scheme of `value` ("https"), or "" when it has none.
std::string_view SchemeOf(std::string_view value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAsciiAlpha(value[0])) return {};
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = value[i];
    if (!IsAsciiAlpha(c) && !IsAsciiDigit(c) && c != '+' && c != '-' && c != '.') return {};
  }
  return value.substr(0, colon);
}

UrlVerdict JudgeSitemapUrl(std::string_view raw) {
  // WHATWG: ASCII tab and newlines are removed, C0 controls and spaces trimmed.
  std::string value;
  for (char c : raw) {
    if (c != '\t' && c != '\n' && c != '\r') value += c;
  }
  while (!value.empty() && static_cast<unsigned char>(value.back()) <= 0x20) value.pop_back();
  std::size_t first = 0;
  while (first < value.size() && static_cast<unsigned char>(value[first]) <= 0x20) ++first;
  value.erase(0, first);

  const std::string scheme = Lower(SchemeOf(value));
  if (scheme.empty()) return UrlVerdict::kInvalid;  // relative: no base to resolve against
  std::string_view rest = std::string_view(value).substr(scheme.size() + 1);
  std::string uri = scheme + ":";
  const bool special = IsSpecialScheme(scheme);
  if (special) {
    // "https:example.com", "https:/example.com" and "https:\\example.com"
    // all name the host example.com.
    while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);
    const std::size_t end = rest.find_first_of("/\\?#");
    std::string_view authority = rest.substr(0, end);
    const std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
    std::string encoded_authority;
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      // WHATWG percent-encodes the user info itself.
      std::string userinfo = EncodeTail(authority.substr(0, at), false);
      for (char c : userinfo) {
        if (c == '/' || c == '?' || c == '#' || c == '@') {
          AppendPercent(encoded_authority, c);
        } else {
          encoded_authority += c;
        }
      }
      encoded_authority += '@';
      authority.remove_prefix(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.starts_with('[')) {
      if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
      }
      if (scheme != "file" || !host.empty()) {
        if (!WhatwgHostOk(host)) return UrlVerdict::kInvalid;
      }
      for (char c : host) {
        if (static_cast<unsigned char>(c) >= 0x80 || c == '"' || c == '`' || c == '{' || c == '}') {
          AppendPercent(encoded_authority, c);  // IDN: its punycode form is a valid host
        } else {
          encoded_authority += c;
        }
      }
      std::uint32_t port_number = 0;
      for (char c : port) {
        if (!IsAsciiDigit(c)) return UrlVerdict::kInvalid;
        port_number = port_number * 10 + static_cast<std::uint32_t>(c - '0');
        if (port_number > 65535) return UrlVerdict::kInvalid;
      }
      if (!port.empty()) encoded_authority += ":" + std::to_string(port_number);
    } else {
      encoded_authority += authority;  // an IPv6 literal: Boost.URL checks it
    }
    uri += "//" + encoded_authority + EncodeTail(tail, true);
  } else {
    uri += EncodeTail(rest, false);
  }
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_uri(uri);
  if (!parsed) return UrlVerdict::kInvalid;
  if (special && scheme != "file" && parsed->encoded_host().empty()) return UrlVerdict::kInvalid;
  if (scheme != "http" && scheme != "https" && scheme != "ftp") return UrlVerdict::kBadProtocol;
  return UrlVerdict::kOk;
}

struct SiteOrigin {
  std::string scheme;  // "https"
  std::string host;    // lower-case, without port
  std::string origin;  // "https://example.com:8443"
};

std::optional<SiteOrigin> OriginOf(std::string_view site_url) {
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_uri(site_url);
  if (!url || url->encoded_host().empty()) return std::nullopt;
  SiteOrigin site;
  site.scheme = Lower(url->scheme());
  site.host = Lower(url->encoded_host());
  site.origin = site.scheme + "://" + std::string(url->encoded_host_and_port());
  return site;
}

// The absolute URL a sitemap value without a scheme most likely means, or
// nullopt when there is none to suggest.
std::optional<std::string> AbsoluteSitemapUrl(std::string_view value,
                                              const std::optional<SiteOrigin>& site) {
  if (value.empty()) return std::nullopt;
  // "https//example.com/sitemap.xml": the colon is missing.
  for (std::string_view scheme : {"https//", "http//"}) {
    if (StartsWithNoCase(value, scheme)) {
      return Lower(scheme.substr(0, scheme.size() - 2)) + "://" +
             std::string(value.substr(scheme.size()));
    }
  }
  if (!site) return std::nullopt;
  // "example.com/sitemap.xml": the site's host, without a scheme.
  std::string_view first_segment_text = value.substr(0, value.find('/'));
  first_segment_text = first_segment_text.substr(0, first_segment_text.find(':'));  // a port
  const std::string first_segment = Lower(first_segment_text);
  if (first_segment == site->host || "www." + first_segment == site->host ||
      first_segment == "www." + site->host) {
    return site->scheme + "://" + std::string(value);
  }
  // Relative to /robots.txt, where the line is.
  // (url_view refers to the text: both strings outlive the views.)
  const std::string base_text = site->origin + "/robots.txt";
  const std::string ref_text = EncodeTail(value, false);
  boost::system::result<boost::urls::url_view> base = boost::urls::parse_uri(base_text);
  boost::system::result<boost::urls::url_view> ref = boost::urls::parse_relative_ref(ref_text);
  if (!base || !ref) return std::nullopt;
  boost::urls::url resolved;
  if (boost::urls::resolve(*base, *ref, resolved).has_error()) return std::nullopt;
  return std::string(resolved.buffer());
}

// ---------------------------------------------------------------------------

struct Context {
  std::optional<SiteOrigin> site;
  std::string ExampleSitemap() const {
    return (site ? site->origin : std::string("https://example.com")) + "/sitemap.xml";
  }
};

struct LineError {
  std::string message;  // after "robots.txt line N: "
  std::string fix;
};

LineError SyntaxNotUnderstood(std::string_view content) {
  LineError e{
      "syntax not understood: a robots.txt line is \"Directive: value\", and this one has "
      "no colon.",
      "Write the line as \"Directive: value\" (\"Disallow: /private/\"), or start it with "
      "# to make it a comment."};
  // "Disallow /private/": a known directive whose colon is missing.
  std::size_t name_end = 0;
  while (name_end < content.size() && !IsAsciiSpace(content[name_end])) ++name_end;
  if (const Directive* d = Known(Lower(content.substr(0, name_end)))) {
    std::string_view value = content.substr(name_end);
    while (!value.empty() && IsAsciiSpace(value.front())) value.remove_prefix(1);
    e.fix = "Add the colon: \"" + std::string(d->canonical) + ": " + Quoted(value) + "\".";
  }
  return e;
}

LineError UnknownDirective(std::string_view name, std::string_view lower_name,
                           std::string_view value) {
  LineError e{"unknown directive \"" + Quoted(name) + "\".", ""};
  if (lower_name == "content-signal" || lower_name == "license") {
    e.fix = "Lighthouse 12 does not know \"" + Quoted(name) +
            "\" (newer Lighthouse versions accept it); crawlers that do not know it ignore the "
            "line. Keep it if you use it, or remove it to pass Lighthouse 12.";
  } else if (const Directive* d = Misspelled(lower_name)) {
    e.message = "unknown directive \"" + Quoted(name) + "\" (did you mean " +
                std::string(d->canonical) + "?).";
    e.fix = "Write \"" + std::string(d->canonical) + ": " + Quoted(value) + "\".";
  } else {
    e.fix =
        "Remove the line or make it a comment (# ...). Crawlers read User-agent, Allow, "
        "Disallow and Sitemap; Lighthouse also accepts Crawl-delay, Clean-param, Host, "
        "Request-rate, Visit-time and Noindex.";
  }
  return e;
}

std::optional<LineError> SitemapError(std::string_view value, const Context& context) {
  const UrlVerdict verdict = JudgeSitemapUrl(value);
  if (verdict == UrlVerdict::kOk) return std::nullopt;
  const std::string example = "Write \"Sitemap: " + context.ExampleSitemap() + "\".";
  if (value.empty()) return LineError{"the Sitemap line has no URL.", example};
  const std::string_view scheme = SchemeOf(value);
  // "example.com:8080/sitemap.xml" parses with the scheme "example.com".
  if (scheme.empty() || scheme.find('.') != std::string_view::npos) {
    if (std::optional<std::string> absolute = AbsoluteSitemapUrl(value, context.site)) {
      return LineError{"the Sitemap URL must be absolute (" + *absolute + "), not " + Quoted(value),
                       "Write \"Sitemap: " + *absolute + "\"."};
    }
    return LineError{"the Sitemap URL must be absolute, not " + Quoted(value), example};
  }
  if (verdict == UrlVerdict::kBadProtocol) {
    return LineError{"the Sitemap URL must use http, https or ftp, not \"" + Lower(scheme) +
                         ":\": " + Quoted(value),
                     example};
  }
  return LineError{"the Sitemap URL is not a valid URL: " + Quoted(value),
                   "Write the sitemap's full URL, percent-encoding spaces and other special "
                   "characters, e.g. \"Sitemap: " +
                       context.ExampleSitemap() + "\"."};
}

std::optional<LineError> PatternError(const Directive& d, std::string_view value) {
  const std::string name(d.canonical);
  if (!value.empty() && value[0] != '/' && value[0] != '*') {
    // A full URL: the rule wants its path.
    std::string path = "/" + std::string(value);
    if (boost::system::result<boost::urls::url_view> url = boost::urls::parse_uri(value);
        url && url->has_authority()) {
      path = std::string(url->encoded_path());
      if (path.empty()) path = "/";
      if (url->has_query()) path += "?" + std::string(url->encoded_query());
    }
    return LineError{
        "the " + name + " pattern \"" + Quoted(value) +
            "\" must be empty or start with \"/\" or \"*\".",
        "Write the URL path from its leading slash: \"" + name + ": " + Quoted(path) + "\"."};
  }
  const std::size_t dollar = value.find('$');
  if (dollar != std::string_view::npos && dollar != value.size() - 1) {
    std::string escaped;
    for (std::size_t i = 0; i < value.size(); ++i) {
      escaped +=
          value[i] == '$' && i + 1 < value.size() ? std::string("%24") : std::string(1, value[i]);
    }
    return LineError{"\"$\" may only end a pattern, and the " + name + " pattern \"" +
                         Quoted(value) + "\" has it elsewhere.",
                     "\"$\" anchors a rule to the end of the URL (\"" + name +
                         ": /*.pdf$\"). Remove the misplaced \"$\", or write a literal \"$\" as "
                         "%24: \"" +
                         name + ": " + Quoted(escaped) + "\"."};
  }
  return std::nullopt;
}

}  // namespace

std::vector<Finding> CheckRobotsTxtSyntax(const SiteFile& robots_txt, std::string_view site_url) {
  std::vector<Finding> findings;
  if (robots_txt.status >= 500) {
    Finding f;
    f.check_id = kServerError;
    f.severity = Severity::kHigh;
    f.message = "Request for robots.txt returned HTTP status " + std::to_string(robots_txt.status) +
                ": crawlers that get a server error for robots.txt treat the whole site as off "
                "limits.";
    f.fix =
        "Make /robots.txt answer 200 with the file (or 404 if you have none): check the "
        "server, CDN or firewall rule that answers it with " +
        std::to_string(robots_txt.status) + ".";
    findings.push_back(std::move(f));
    return findings;
  }
  if (robots_txt.status <= 0 || robots_txt.status >= 400 || !robots_txt.error.empty() ||
      robots_txt.body.empty() || LooksLikeHtml(robots_txt.body)) {
    return findings;
  }

  const Context context{OriginOf(site_url)};
  std::string_view body = robots_txt.body;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  const std::vector<std::string_view> lines = SplitLines(body);
  std::size_t bad_lines = 0;
  bool in_group = false;  // a User-agent line with a value was seen
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view raw = lines[i];
    std::string_view content = raw.substr(0, raw.find('#'));
    content = TrimJs(content);
    if (content.empty()) continue;

    std::optional<LineError> error;
    const std::size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
      error = SyntaxNotUnderstood(content);
    } else {
      const std::string_view name = TrimJs(content.substr(0, colon));
      const std::string lower_name = Lower(name);
      const std::string_view value = TrimJs(content.substr(colon + 1));
      const Directive* d = Known(lower_name);
      if (!d) {
        error = UnknownDirective(name, lower_name, value);
      } else if (d->lower == "sitemap") {
        error = SitemapError(value, context);
      } else if (d->lower == "user-agent") {
        if (value.empty()) {
          error = LineError{"no user-agent specified: the User-agent line has no value.",
                            "Name the crawler the group is for (\"User-agent: GPTBot\"), or "
                            "write \"User-agent: *\" for all crawlers."};
        } else {
          in_group = true;
        }
      } else if (d->lower == "allow" || d->lower == "disallow") {
        error = PatternError(*d, value);
        if (!error && !in_group) {
          error = LineError{
              "no user-agent specified: the " + std::string(d->canonical) +
                  " rule comes before any User-agent line, so it applies to no crawler.",
              "Put \"User-agent: *\" (or a crawler's name, e.g. \"User-agent: GPTBot\") on a "
              "line above it."};
        }
      }
    }
    if (!error) continue;
    ++bad_lines;
    if (findings.size() == kMaxFindings) continue;  // counted, not listed
    const int number = static_cast<int>(i + 1);
    Finding f;
    f.check_id = kInvalid;
    f.severity = Severity::kMedium;
    f.message = "robots.txt line " + std::to_string(number) + ": " + error->message;
    f.fix = std::move(error->fix);
    f.evidence = Cut(raw, kMaxEvidence);
    f.line = number;
    findings.push_back(std::move(f));
  }
  if (bad_lines > findings.size()) {
    const std::size_t more = bad_lines - findings.size();
    findings.back().message += " (robots.txt has " + std::to_string(more) + " more invalid " +
                               (more == 1 ? "line" : "lines") + ", not listed.)";
  }
  return findings;
}

}  // namespace herald::audit
