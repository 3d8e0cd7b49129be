// Audit URL normalisation and the private-address guard (SSRF). The
// resolver is the fuzzer's own, so that no query leaves the machine.
// Properties: an accepted URL is http(s), has a host, no credentials, and
// its host is not a private address; when every name resolves to a private
// address, nothing but an explicit allow is accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/url_guard.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  auto to_public = [](const std::string&) { return std::vector<std::string>{"93.184.216.34"}; };
  auto to_loopback = [](const std::string&) {
    return std::vector<std::string>{"127.0.0.1", "::1"};
  };
  auto nowhere = [](const std::string&) { return std::vector<std::string>{}; };

  auto target = audit::ValidateAuditUrl(url, false, to_public);
  if (target) {
    FUZZ_CHECK(target->url.rfind("http://", 0) == 0 || target->url.rfind("https://", 0) == 0);
    FUZZ_CHECK(!target->host.empty());
    FUZZ_CHECK(!audit::IsPrivateAddressText(target->host));
    FUZZ_CHECK(target->url.size() <= 4 * 2048);
    // Normalising is stable: the normalised URL is accepted as itself.
    auto again = audit::ValidateAuditUrl(target->url, false, to_public);
    FUZZ_CHECK(again && again->url == target->url && again->host == target->host);
  }
  FUZZ_CHECK(!audit::ValidateAuditUrl(url, false, to_loopback));
  if (auto unresolved = audit::ValidateAuditUrl(url, false, nowhere)) {
    FUZZ_CHECK(!audit::IsPrivateAddressText(unresolved->host));
  }
  (void)audit::ValidateAuditUrl(url, true, nowhere);
  return 0;
}
