// robots.txt evaluation (RFC 9309) on a file the audited site controls.
// Input: robots.txt \0 user agent \0 path. Properties: never a crash, no
// runaway matching (libFuzzer's -timeout catches a pathological `*` rule),
// /robots.txt itself always allowed, an empty file allows everything, and
// the same question gets the same answer.
#include <cstddef>
#include <cstdint>

#include "audit/robots.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const auto f = fuzz::Fields(data, size, 3);
  const bool allowed = audit::IsAllowed(f[0], f[1], f[2]);
  FUZZ_CHECK(allowed == audit::IsAllowed(f[0], f[1], f[2]));
  FUZZ_CHECK(audit::IsAllowed(f[0], f[1], "/robots.txt"));
  FUZZ_CHECK(audit::IsAllowed("", f[1], f[2]));
  (void)audit::IsAllowed(f[0], "HeraldAudit/1.0", f[2]);
  return 0;
}
