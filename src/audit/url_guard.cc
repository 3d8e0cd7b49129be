#include "audit/url_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/url/parse.hpp>

#include <cctype>
#include <cstring>

namespace herald::audit {
namespace {

bool IsPrivateV4(uint32_t a) {  // host byte order
  auto in = [&](uint32_t net, int bits) {
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (a & mask) == (net & mask);
  };
  return in(0x00000000, 8) ||   // 0.0.0.0/8 "this network"
         in(0x0A000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10 CGNAT
         in(0x7F000000, 8) ||   // loopback
         in(0xA9FE0000, 16) ||  // link-local, cloud metadata
         in(0xAC100000, 12) ||  // 172.16/12
         in(0xC0000000, 24) ||  // 192.0.0/24 IETF protocol assignments
         in(0xC0A80000, 16) ||  // 192.168/16
         in(0xC6120000, 15) ||  // 198.18/15 benchmarking
         in(0xE0000000, 4) ||   // multicast
         in(0xF0000000, 4);     // reserved and broadcast
}

bool IsPrivateV6(const in6_addr& a) {
  const uint8_t* b = a.s6_addr;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if (IN6_IS_ADDR_V4MAPPED(&a) || IN6_IS_ADDR_V4COMPAT(&a)) {
    uint32_t v4;
    std::memcpy(&v4, b + 12, 4);
    return IsPrivateV4(ntohl(v4));
  }
  if ((b[0] & 0xFE) == 0xFC) return true;                              // fc00::/7 unique-local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;              // fe80::/10 link-local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return true;              // fec0::/10 site-local
  if (b[0] == 0xFF) return true;                                       // multicast
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) {  // 64:ff9b::/96 NAT64
    uint32_t v4;
    std::memcpy(&v4, b + 12, 4);
    return IsPrivateV4(ntohl(v4));
  }
  return false;
}

Error Bad(std::string msg) { return MakeError(Errc::kBadRequest, std::move(msg)); }

bool IsIpLiteral(const std::string& text) {
  in6_addr scratch{};
  return inet_pton(AF_INET, text.c_str(), &scratch) == 1 ||
         inet_pton(AF_INET6, text.c_str(), &scratch) == 1;
}

}  // namespace

bool IsPrivateAddress(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return IsPrivateV4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return IsPrivateV6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return true;  // not an IP address: never a valid target
}

bool IsPrivateAddressText(std::string_view text) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  sockaddr_in v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return IsPrivateAddress(reinterpret_cast<sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return IsPrivateAddress(reinterpret_cast<sockaddr*>(&v6));
  }
  return false;
}

Result<AuditTarget> ValidateAuditUrl(std::string_view url, bool allow_private) {
  return ValidateAuditUrl(url, allow_private, SystemAddressLookup);
}

std::vector<std::string> SystemAddressLookup(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_IDN;
  addrinfo* results = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &results) != 0) return out;
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = nullptr;
    if (ai->ai_family == AF_INET)
      raw = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
    if (ai->ai_family == AF_INET6)
      raw = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    // Anything else is not an IP address, never a valid target: "" is
    // treated as private below.
    if (raw == nullptr || inet_ntop(ai->ai_family, raw, text, sizeof text) == nullptr)
      out.emplace_back();
    else
      out.emplace_back(text);
  }
  freeaddrinfo(results);
  return out;
}

Result<AuditTarget> ValidateAuditUrl(std::string_view url, bool allow_private,
                                     const AddressLookup& lookup) {
  if (url.empty()) return Bad("url is required");
  if (url.size() > 2048) return Bad("url is longer than 2048 bytes");
  std::string idn_host;  // the decoded name when it is not ASCII
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Bad("url is not an absolute URL");
  std::string scheme(parsed->scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return Bad("url must be http:// or https://");
  std::string host(parsed->encoded_host());
  if (host.empty()) return Bad("url has no host");
  if (parsed->has_userinfo()) return Bad("url must not contain credentials");
  // A registered name is checked (and crawled) decoded: "%31%32%37.0.0.1"
  // is 127.0.0.1 to every resolver, and must be to the guard too.
  if (parsed->host_type() == boost::urls::host_type::name) {
    std::string decoded = parsed->host();
    bool ascii = true;
    // ASCII in a host name is letters, digits, '-', '.', '_' (and '~',
    // which URLs allow): anything else (a space, '`', '/', '@', '%', ...)
    // names no host, and the URL rebuilt with it would not parse again.
    for (unsigned char c : decoded) {
      const bool name_char = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
      if (c < 0x80 && !name_char) return Bad("url host is not a valid host name");
      ascii = ascii && c < 0x80;
    }
    // Non-ASCII (an internationalized name) stays encoded in the URL; the
    // resolver below converts it (AI_IDN), as libcurl does when crawling.
    if (ascii)
      host = decoded;
    else
      idn_host = decoded;
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  // Rebuilt by hand rather than with url::set_*: Boost.URL 1.81 turns an
  // empty path set to "/" into "/./" (boostorg/url#674, fixed in 1.82).
  AuditTarget target;
  target.host = host;
  target.url = scheme + "://" + host;
  if (parsed->has_port()) target.url += ":" + std::string(parsed->port());
  std::string path(parsed->encoded_path());
  target.url += path.empty() ? "/" : path;
  if (parsed->has_query()) target.url += "?" + std::string(parsed->encoded_query());
  // The URL the crawler gets must name the host that was judged, with a
  // path that starts with '/'. Boost.URL 1.81 reads
  // "http://8.8.8.8.evil.example/" as host 8.8.8.8 and path ".evil.example/"
  // (the guard would judge 8.8.8.8 while the crawler resolves the whole
  // name), and a decoded name such as "127.0.0.1m" (from
  // "%31%32%37.0.0.1m") back as 127.0.0.1 and a path "m/".
  if (auto again = boost::urls::parse_uri(target.url); !again || again->encoded_host() != host ||
                                                       again->encoded_path().empty() ||
                                                       again->encoded_path().front() != '/') {
    return Bad("url host is not a valid host name");
  }
  if (allow_private) return target;

  std::string bare = idn_host.empty() ? host : idn_host;
  // Names compare case-insensitively (an IDN name too: "xn.LocalHost").
  for (char& c : bare) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  while (!bare.empty() && bare.back() == '.') bare.pop_back();  // "localhost." is localhost
  if (bare == "localhost" || bare.ends_with(".localhost"))
    return Bad("url points to a loopback address (set AUDIT_ALLOW_PRIVATE=1 to allow)");
  // An IP address (also one spelled as a name: "%31%32%37.0.0.1.") is
  // judged as written, whatever a resolver makes of it. A name that does
  // not resolve is accepted: the audit fails later with a DNS error (and
  // the crawler checks every address it connects to).
  bool private_address = IsPrivateAddressText(bare);
  for (const std::string& address : lookup(bare)) {
    // An address that is not IP ("" from the system lookup) counts as private.
    private_address = private_address || !IsIpLiteral(address) || IsPrivateAddressText(address);
  }
  if (private_address)
    return Bad(
        "url resolves to a loopback or private address (set AUDIT_ALLOW_PRIVATE=1 to allow)");
  return target;
}

}  // namespace herald::audit
