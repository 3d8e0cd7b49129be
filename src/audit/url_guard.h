#pragma once
// Which audit targets Herald accepts. Used when an audit is created and,
// later, for every address the crawler connects to (SSRF guard).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

struct sockaddr;

namespace herald::audit {

// True for loopback, private (RFC 1918), carrier-grade NAT, link-local
// (including the 169.254.169.254 metadata address), unique-local (fc00::/7),
// unspecified, multicast, broadcast, and IPv4-mapped forms of these.
bool IsPrivateAddress(const sockaddr* address);
// Same, for a textual IP address; false when `text` is not an IP literal.
bool IsPrivateAddressText(std::string_view text);

struct AuditTarget {
  std::string url;  // normalised: scheme and host lower-case
  std::string host;
};

// Checks an audit start URL: http(s), a host, at most 2048 bytes, and unless
// `allow_private`, a host that does not resolve to a private address. A host
// that does not resolve at all is accepted (the audit fails later with a DNS
// error). Blocking: resolves the host. Errors are kBadRequest.
Result<AuditTarget> ValidateAuditUrl(std::string_view url, bool allow_private);

// The addresses `host` resolves to, as text ("93.184.216.34", "::1"); empty
// when it does not resolve. ValidateAuditUrl uses the system's resolver
// (getaddrinfo with AI_IDN); tests and the fuzzer give their own, so that
// no query leaves the machine.
using AddressLookup = std::function<std::vector<std::string>(const std::string& host)>;
std::vector<std::string> SystemAddressLookup(const std::string& host);
Result<AuditTarget> ValidateAuditUrl(std::string_view url, bool allow_private,
                                     const AddressLookup& lookup);

}  // namespace herald::audit
