// JWT verification. Two inputs in one: the raw text as a token (anything a
// client may send), and a header and payload the fuzzer writes that are then
// signed with the right key, so that the claim checks behind the signature
// are explored too. Property: a token is accepted only with alg HS256, a
// string `sub` and an `exp` in the future (within the leeway), and the
// principal is the token's `sub`.
#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/jwt.h"
#include "fuzz/fuzz_input.h"

namespace {

using namespace herald;
constexpr std::string_view kSecret = "fuzz-secret-fuzz-secret-fuzz-secret";
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

const auth::TokenVerifier& Verifier() {
  static const auto verifier = [] {
    auth::VerifierOptions o;
    o.hs256_secret = std::string(kSecret);
    return *auth::TokenVerifier::Create(o);
  }();
  return *verifier;
}

void CheckAccepted(const auth::Principal& p, std::string_view header_json,
                   std::string_view payload_json) {
  boost::system::error_code ec;
  auto header = boost::json::parse(header_json, ec);
  FUZZ_CHECK(!ec && header.is_object());
  const auto* alg = header.as_object().if_contains("alg");
  FUZZ_CHECK(alg && alg->is_string() && alg->get_string() == "HS256");
  auto payload = boost::json::parse(payload_json, ec);
  FUZZ_CHECK(!ec && payload.is_object());
  const auto& claims = payload.as_object();
  const auto* sub = claims.if_contains("sub");
  FUZZ_CHECK(sub && sub->is_string() && !sub->get_string().empty());
  FUZZ_CHECK(p.subject == std::string_view(sub->get_string()));
  const auto* exp = claims.if_contains("exp");
  FUZZ_CHECK(exp && exp->is_number());
  FUZZ_CHECK(exp->to_number<double>() + 30 >= 1'800'000'000.0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto f = fuzz::Fields(data, size, 2);
  // As sent by a client: header.payload.signature, or anything else.
  const std::string raw(reinterpret_cast<const char*>(data), size);
  (void)Verifier().Verify(raw, kNow);
  (void)auth::Base64UrlDecode(raw);
  // Signed with the right key: only the claims decide.
  const std::string token = auth::SignHs256(kSecret, f[0], f[1]);
  if (auto p = Verifier().Verify(token, kNow)) CheckAccepted(*p, f[0], f[1]);
  return 0;
}
