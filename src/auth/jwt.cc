#include "auth/jwt.h"

#include <boost/json.hpp>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace herald::auth {
namespace {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

// A bearer token travels in a header, a cookie or a query string; anything
// this long is not one of ours, and refusing it early bounds the work an
// anonymous caller can make us do (base64, JSON parsing, RSA).
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// RFC 7518 3.3: RS256 keys must be at least 2048 bits.
constexpr int kMinRsaBits = 2048;

// ES256 signatures are two 32-byte big-endian integers, r then s (RFC 7518 3.4).
constexpr std::size_t kEcCoordinateBytes = 32;
constexpr std::size_t kEs256SignatureBytes = 2 * kEcCoordinateBytes;
constexpr std::size_t kHs256SignatureBytes = 32;

constexpr std::string_view kHs256HeaderJson = R"({"alg":"HS256","typ":"JWT"})";

enum class Alg { kHs256, kRs256, kEs256 };

std::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kHs256:
      return "HS256";
    case Alg::kRs256:
      return "RS256";
    case Alg::kEs256:
      return "ES256";
  }
  return "unknown";
}

// JWS algorithm names are case-sensitive (RFC 7515 4.1.1); only `none` is
// matched loosely, and that happens before this is called.
std::optional<Alg> ParseAlg(std::string_view name) {
  if (name == "HS256") return Alg::kHs256;
  if (name == "RS256") return Alg::kRs256;
  if (name == "ES256") return Alg::kEs256;
  return std::nullopt;
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct BignumFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Error Unauthorized(std::string reason) { return MakeError(Errc::kUnauthorized, std::move(reason)); }

Error MalformedToken() { return Unauthorized("malformed token"); }

Error BadSignature() { return Unauthorized("bad signature"); }

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII only, unlike std::tolower, which depends on the process locale.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A failed OpenSSL call leaves entries in the thread's error queue. Verify
// runs on I/O threads that may also do TLS, which reads that queue, so a
// refused token must not leave anything behind.
void ClearOpenSslErrors() { ERR_clear_error(); }

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Maps a byte to its 6-bit value, or -1 outside the base64url alphabet ('='
// included: JWS forbids padding, RFC 7515 2).
constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < kBase64UrlAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kBase64UrlAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = MakeDecodeTable();

std::optional<std::string> HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  // HMAC of an empty key is well defined; give OpenSSL a valid pointer anyway.
  static const unsigned char kNoKey = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_bytes, key.size(), Bytes(data),
                data.size(), mac.data(), mac.size(), &mac_len) == nullptr) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

// JWS carries ES256 signatures as raw r||s, while EVP_DigestVerify wants a
// DER ECDSA-Sig-Value. Only the exact raw length is accepted, so a DER
// signature (or any other encoding) never reaches the verifier.
std::optional<std::string> RawEcdsaSignatureToDer(std::string_view raw) {
  if (raw.size() != kEs256SignatureBytes) return std::nullopt;
  std::unique_ptr<BIGNUM, BignumFree> r(BN_bin2bn(Bytes(raw), kEcCoordinateBytes, nullptr));
  std::unique_ptr<BIGNUM, BignumFree> s(
      BN_bin2bn(Bytes(raw) + kEcCoordinateBytes, kEcCoordinateBytes, nullptr));
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  (void)r.release();
  (void)s.release();
  int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  std::string der(static_cast<std::size_t>(der_len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != der_len) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  return der;
}

// RS256 or ES256 over SHA-256 with `key`. `signature` is in the form
// EVP_DigestVerify expects (PKCS#1 v1.5 block, or DER for ECDSA).
Result<void> VerifyWithPublicKey(EVP_PKEY* key, bool is_rsa, std::string_view signing_input,
                                 std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // Owned by ctx.
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, EVP_sha256(), nullptr, key) != 1 ||
      (is_rsa && EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) != 1)) {
    ClearOpenSslErrors();
    return MakeError(Errc::kInternal, "token verification failed");
  }
  // Anything but 1 is a refusal: OpenSSL reports some malformed signatures
  // as errors (< 0) rather than mismatches (0).
  if (EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input),
                       signing_input.size()) != 1) {
    ClearOpenSslErrors();
    return BadSignature();
  }
  return {};
}

// RFC 7519 NumericDate: seconds since the epoch, possibly fractional.
std::optional<double> NumericDate(const json::value& value) {
  if (!value.is_number()) return std::nullopt;
  boost::system::error_code ec;
  double seconds = value.to_number<double>(ec);
  if (ec) return std::nullopt;
  return seconds;
}

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

// The three parts of a compact JWS, still encoded.
struct CompactParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload", what was signed
};

std::optional<CompactParts> SplitCompact(std::string_view token) {
  std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  return CompactParts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                      token.substr(second + 1), token.substr(0, second)};
}

// `iss` when an issuer is configured; `aud` (a string or an array of
// strings) must name our audience when one is configured.
Result<void> CheckIssuerAndAudience(const json::object& claims,
                                    const std::optional<std::string>& issuer,
                                    const std::optional<std::string>& audience) {
  if (issuer) {
    const json::value* iss = claims.if_contains("iss");
    if (!iss || !iss->is_string() || View(iss->get_string()) != *issuer) {
      return Unauthorized("wrong issuer");
    }
  }
  if (audience) {
    const json::value* aud = claims.if_contains("aud");
    bool found = false;
    if (aud && aud->is_string()) {
      found = View(aud->get_string()) == *audience;
    } else if (aud && aud->is_array()) {
      for (const json::value& entry : aud->get_array()) {
        if (entry.is_string() && View(entry.get_string()) == *audience) found = true;
      }
    }
    if (!found) return Unauthorized("wrong audience");
  }
  return {};
}

// The time the token stops being valid (exp + leeway) when it is valid now.
Result<Clock::time_point> CheckTimes(const json::object& claims, Clock::time_point now,
                                     std::chrono::seconds leeway) {
  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway_s = static_cast<double>(leeway.count());

  const json::value* exp_value = claims.if_contains("exp");
  if (!exp_value) return Unauthorized("missing exp claim");
  std::optional<double> exp = NumericDate(*exp_value);
  if (!exp) return Unauthorized("invalid exp claim");
  // RFC 7519 4.1.4: valid only while now is strictly before exp.
  if (now_s - leeway_s >= *exp) return Unauthorized("token expired");

  if (const json::value* nbf_value = claims.if_contains("nbf")) {
    std::optional<double> nbf = NumericDate(*nbf_value);
    if (!nbf) return Unauthorized("invalid nbf claim");
    if (now_s + leeway_s < *nbf) return Unauthorized("token not yet valid");
  }
  // A token issued in the future comes from a skewed or forging issuer.
  if (const json::value* iat_value = claims.if_contains("iat")) {
    std::optional<double> iat = NumericDate(*iat_value);
    if (!iat) return Unauthorized("invalid iat claim");
    if (*iat > now_s + leeway_s) return Unauthorized("token issued in the future");
  }
  const auto valid_until = std::chrono::duration<double>(*exp + leeway_s);
  // An exp beyond what a time_point holds is as good as never.
  if (valid_until >= std::chrono::duration<double>(Clock::duration::max())) {
    return Clock::time_point::max();
  }
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(valid_until));
}

Result<std::string> SubjectOf(const json::object& claims) {
  const json::value* sub = claims.if_contains("sub");
  if (!sub) return Unauthorized("missing sub claim");
  if (!sub->is_string() || sub->get_string().empty()) {
    return Unauthorized("invalid sub claim");
  }
  return std::string(View(sub->get_string()));
}

// A missing role is a plain user; an unknown one is refused rather than
// downgraded, so a typo in an issuer's config cannot go unnoticed.
Result<Role> RoleOf(const json::object& claims) {
  const json::value* role = claims.if_contains("role");
  if (!role) return Role::kUser;
  std::optional<Role> parsed;
  if (role->is_string()) parsed = ParseRole(View(role->get_string()));
  if (!parsed) return Unauthorized("unknown role");
  return *parsed;
}

int64_t UnixSeconds(Clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view ToString(Role role) {
  switch (role) {
    case Role::kUser:
      return "user";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "user") return Role::kUser;
  if (text == "worker") return Role::kWorker;
  if (text == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint32_t(uint8_t(bytes[i + 2]));
    out += kBase64UrlAlphabet[(n >> 18) & 63];
    out += kBase64UrlAlphabet[(n >> 12) & 63];
    out += kBase64UrlAlphabet[(n >> 6) & 63];
    out += kBase64UrlAlphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
  if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
  out += kBase64UrlAlphabet[(n >> 18) & 63];
  out += kBase64UrlAlphabet[(n >> 12) & 63];
  if (rest == 2) out += kBase64UrlAlphabet[(n >> 6) & 63];
  return out;  // No padding (RFC 7515 2).
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  // One leftover character holds only 6 bits: never a whole byte.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // Unused trailing bits must be zero: otherwise several texts decode to the
  // same bytes, and a signature could be altered without being "changed".
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

class TokenVerifier::Impl {
 public:
  Impl(const VerifierOptions& options, PkeyPtr key, std::optional<Alg> key_alg)
      : secret_(options.hs256_secret),
        key_(std::move(key)),
        key_alg_(key_alg),
        issuer_(options.issuer),
        audience_(options.audience),
        leeway_(options.leeway) {}

  ~Impl() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

  Result<Principal> Verify(std::string_view token, Clock::time_point now) const {
    if (token.size() > kMaxTokenBytes) return MalformedToken();
    std::optional<CompactParts> parts = SplitCompact(token);
    if (!parts) return MalformedToken();
    // Decode all three parts first: a token that is not base64url is
    // malformed, whatever its signature.
    std::optional<std::string> header_json = Base64UrlDecode(parts->header);
    std::optional<std::string> payload_json = Base64UrlDecode(parts->payload);
    std::optional<std::string> signature = Base64UrlDecode(parts->signature);
    if (!header_json || !payload_json || !signature) return MalformedToken();

    std::optional<json::object> header = ParseObject(*header_json);
    if (!header) return MalformedToken();
    Result<Alg> alg = SelectAlgorithm(*header);
    if (!alg) return alg.error();
    if (Result<void> ok = CheckSignature(*alg, parts->signing_input, *signature); !ok) {
      return ok.error();
    }
    // Only claims whose signature checked are looked at.
    std::optional<json::object> claims = ParseObject(*payload_json);
    if (!claims) return MalformedToken();
    return CheckClaims(*claims, now);
  }

 private:
  // The algorithm comes from the attacker-controlled header, so it only
  // selects among the keys we hold: HS256 uses the secret and nothing else,
  // RS256/ES256 the public key of the matching type. The PEM text never
  // becomes an HMAC key (the classic RS256 -> HS256 key confusion). Header
  // key hints (kid, jku, jwk, x5u, x5c) are ignored; keys come only from
  // configuration.
  Result<Alg> SelectAlgorithm(const json::object& header) const {
    const json::value* alg_value = header.if_contains("alg");
    if (!alg_value || !alg_value->is_string()) return MalformedToken();
    std::string_view alg_name = View(alg_value->get_string());
    if (EqualsIgnoreCase(alg_name, "none")) {
      return Unauthorized("algorithm none is not allowed");
    }
    if (const json::value* typ = header.if_contains("typ")) {
      if (!typ->is_string() || !EqualsIgnoreCase(View(typ->get_string()), "JWT")) {
        return Unauthorized("unsupported token type");
      }
    }
    // RFC 7515 4.1.11: extensions listed in `crit` must be understood; we
    // understand none.
    if (header.contains("crit")) return Unauthorized("unsupported critical header");
    std::optional<Alg> alg = ParseAlg(alg_name);
    // The name is echoed only when it is one we know: the header is the
    // caller's text and does not belong in our responses.
    if (!alg) return Unauthorized("unsupported algorithm");
    if (!Enabled(*alg)) {
      return Unauthorized("algorithm " + std::string(AlgName(*alg)) + " is not enabled");
    }
    return *alg;
  }

  bool Enabled(Alg alg) const {
    if (alg == Alg::kHs256) return !secret_.empty();
    return key_ && key_alg_ == alg;
  }

  Result<void> CheckSignature(Alg alg, std::string_view signing_input,
                              std::string_view signature) const {
    switch (alg) {
      case Alg::kHs256:
        return CheckHmac(signing_input, signature);
      case Alg::kRs256:
        // The PKCS#1 block is exactly as long as the modulus.
        if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
          return BadSignature();
        }
        return VerifyWithPublicKey(key_.get(), /*is_rsa=*/true, signing_input, signature);
      case Alg::kEs256: {
        std::optional<std::string> der = RawEcdsaSignatureToDer(signature);
        if (!der) return BadSignature();
        return VerifyWithPublicKey(key_.get(), /*is_rsa=*/false, signing_input, *der);
      }
    }
    return BadSignature();
  }

  Result<void> CheckHmac(std::string_view signing_input, std::string_view signature) const {
    std::optional<std::string> expected = HmacSha256(secret_, signing_input);
    if (!expected) return MakeError(Errc::kInternal, "token verification failed");
    // Constant time, so response timing does not reveal how many leading
    // bytes of a forged MAC were right.
    if (signature.size() != kHs256SignatureBytes ||
        CRYPTO_memcmp(signature.data(), expected->data(), kHs256SignatureBytes) != 0) {
      return BadSignature();
    }
    return {};
  }

  Result<Principal> CheckClaims(const json::object& claims, Clock::time_point now) const {
    Result<std::string> subject = SubjectOf(claims);
    if (!subject) return subject.error();
    Result<Clock::time_point> valid_until = CheckTimes(claims, now, leeway_);
    if (!valid_until) return valid_until.error();
    if (Result<void> ok = CheckIssuerAndAudience(claims, issuer_, audience_); !ok) {
      return ok.error();
    }
    Result<Role> role = RoleOf(claims);
    if (!role) return role.error();
    return Principal{std::move(*subject), *role, *valid_until};
  }

  std::string secret_;          // empty: HS256 disabled
  PkeyPtr key_;                 // null: RS256 and ES256 disabled
  std::optional<Alg> key_alg_;  // what key_ verifies: kRs256 or kEs256
  std::optional<std::string> issuer_;
  std::optional<std::string> audience_;
  std::chrono::seconds leeway_;
};

namespace {

Error BadKey(std::string_view why) {
  return MakeError(Errc::kBadRequest, "JWT_PUBLIC_KEY_FILE: " + std::string(why));
}

// A public key never has a passphrase; this stops OpenSSL from prompting on
// the terminal if handed something encrypted.
int NoPassphrase(char*, int, int, void*) { return -1; }

Result<PkeyPtr> ReadPublicKey(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return BadKey("key file too large");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return MakeError(Errc::kInternal, "out of memory reading JWT public key");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  ClearOpenSslErrors();
  if (!key) return BadKey("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  return key;
}

// Which algorithm `key` verifies: RSA keys RS256, P-256 keys ES256.
Result<Alg> KeyAlgorithm(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) return BadKey("RSA key shorter than 2048 bits");
      return Alg::kRs256;
    case EVP_PKEY_EC: {
      std::array<char, 80> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &len) != 1 ||
          OBJ_txt2nid(group.data()) != NID_X9_62_prime256v1) {
        ClearOpenSslErrors();
        return BadKey("EC key is not on curve P-256");
      }
      return Alg::kEs256;
    }
    default:
      return BadKey("unsupported key type (need RSA or EC P-256)");
  }
}

}  // namespace

Result<std::shared_ptr<const TokenVerifier>> TokenVerifier::Create(const VerifierOptions& options) {
  if (options.hs256_secret.empty() && options.public_key_pem.empty()) {
    return MakeError(Errc::kBadRequest, "JWT: set a secret (HS256) or a public key (RS256/ES256)");
  }
  PkeyPtr key;
  std::optional<Alg> key_alg;
  if (!options.public_key_pem.empty()) {
    Result<PkeyPtr> read = ReadPublicKey(options.public_key_pem);
    if (!read) return read.error();
    Result<Alg> alg = KeyAlgorithm(read->get());
    if (!alg) return alg.error();
    key = std::move(*read);
    key_alg = *alg;
  }
  auto impl = std::make_unique<Impl>(options, std::move(key), key_alg);
  // The constructor is private, so make_shared cannot reach it.
  return std::shared_ptr<const TokenVerifier>(new TokenVerifier(std::move(impl)));
}

TokenVerifier::TokenVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TokenVerifier::~TokenVerifier() = default;

Result<Principal> TokenVerifier::Verify(std::string_view token,
                                        std::chrono::system_clock::time_point now) const {
  return impl_->Verify(token, now);
}

std::string SignHs256(std::string_view secret, std::string_view header_json,
                      std::string_view payload_json) {
  std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  std::optional<std::string> mac = HmacSha256(secret, signing_input);
  // HMAC only fails when OpenSSL itself is broken (no SHA-256, no memory).
  if (!mac) throw std::runtime_error("HMAC-SHA256 failed");
  return signing_input + "." + Base64UrlEncode(*mac);
}

std::string MintHs256(std::string_view secret, const MintOptions& options,
                      std::chrono::system_clock::time_point now) {
  const int64_t iat = UnixSeconds(now);
  json::object claims;
  claims["sub"] = options.subject;
  claims["role"] = ToString(options.role);
  claims["iat"] = iat;
  claims["exp"] = iat + static_cast<int64_t>(options.ttl.count());
  if (options.issuer) claims["iss"] = *options.issuer;
  if (options.audience) claims["aud"] = *options.audience;
  return SignHs256(secret, kHs256HeaderJson, json::serialize(claims));
}

}  // namespace herald::auth
