#pragma once
// JSON Web Tokens (RFC 7519): verification of the tokens Herald accepts and
// minting of the HS256 tokens `herald token` prints. OpenSSL stays in jwt.cc.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/errors.h"

namespace herald::auth {

enum class Role { kUser, kWorker, kAdmin };
std::string_view ToString(Role role);
std::optional<Role> ParseRole(std::string_view text);

// Who is calling, from a verified token.
struct Principal {
  std::string subject;  // `sub`
  Role role = Role::kUser;
  // When the credentials stop being valid: `exp` plus the leeway. A stream
  // opened with them ends then ("Token expired"). max(): never.
  std::chrono::system_clock::time_point expires_at = std::chrono::system_clock::time_point::max();
  bool is_admin() const { return role == Role::kAdmin; }
  bool is_worker() const { return role == Role::kWorker; }
};

struct VerifierOptions {
  std::string hs256_secret;             // empty: HS256 disabled
  std::string public_key_pem;           // RSA key enables RS256, EC P-256 key enables ES256
  std::optional<std::string> issuer;    // enforced when set
  std::optional<std::string> audience;  // enforced when set (string or array `aud`)
  std::chrono::seconds leeway{30};      // tolerated skew on exp/nbf/iat
};

// Verifies compact JWS tokens. Immutable after Create(); thread-safe.
class TokenVerifier {
 public:
  // kBadRequest when the key does not parse or nothing is configured.
  static Result<std::shared_ptr<const TokenVerifier>> Create(const VerifierOptions& options);
  ~TokenVerifier();

  // kUnauthorized with a reason ("token expired", "bad signature",
  // "algorithm none is not allowed", ...) for anything but a valid token.
  // `sub` and `exp` are required; `role` defaults to user; an unknown role is refused.
  Result<Principal> Verify(std::string_view token, std::chrono::system_clock::time_point now) const;

  class Impl;

 private:
  explicit TokenVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct MintOptions {
  std::string subject;
  Role role = Role::kUser;
  std::chrono::seconds ttl{3600};
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
};

// An HS256 token for `options`, issued at `now`.
std::string MintHs256(std::string_view secret, const MintOptions& options,
                      std::chrono::system_clock::time_point now);

// Signs an arbitrary header and payload (JSON texts) with HS256. Tests use it
// to build tokens with unusual claims.
std::string SignHs256(std::string_view secret, std::string_view header_json,
                      std::string_view payload_json);

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace herald::auth
