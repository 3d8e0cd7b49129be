#include "auth/jwt.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace herald::auth {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

constexpr std::string_view kSecret = "test-secret-0123456789abcdef-0123456789";
constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// A fixed "now" keeps every test independent of the wall clock.
std::chrono::system_clock::time_point Now() {
  return std::chrono::system_clock::time_point(seconds(1'700'000'000));
}
int64_t NowSeconds() { return 1'700'000'000; }

json::object ValidClaims() {
  return json::object{{"sub", "alice"}, {"iat", NowSeconds()}, {"exp", NowSeconds() + 600}};
}

std::string Hs256Token(const json::object& claims, std::string_view header = kHs256Header,
                       std::string_view secret = kSecret) {
  return SignHs256(secret, header, json::serialize(claims));
}

std::shared_ptr<const TokenVerifier> MakeVerifier(VerifierOptions options) {
  auto verifier = TokenVerifier::Create(options);
  EXPECT_TRUE(verifier.has_value());
  return verifier.has_value() ? *verifier : nullptr;
}

std::shared_ptr<const TokenVerifier> SecretVerifier() {
  VerifierOptions options;
  options.hs256_secret = std::string(kSecret);
  return MakeVerifier(options);
}

// Asserts a 401 with exactly `reason`.
void ExpectRefused(const Result<Principal>& result, std::string_view reason) {
  ASSERT_FALSE(result.has_value()) << "accepted, expected: " << reason;
  EXPECT_EQ(result.error().code, Errc::kUnauthorized);
  EXPECT_EQ(result.error().message, reason);
}

// Replaces one character of the signature part with a different one.
std::string FlipSignatureChar(std::string token) {
  std::size_t i = token.rfind('.') + 3;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  return token;
}

// --- OpenSSL helpers for RS256 / ES256 ---

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// Signs with SHA-256; returns the raw EVP_DigestSign output (PKCS#1 block
// for RSA, DER for ECDSA).
std::string DigestSign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), 1);
  std::size_t len = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, bytes, data.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes,
                           data.size()),
            1);
  sig.resize(len);
  return sig;
}

std::string DerToRawEcdsa(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
  EXPECT_NE(sig, nullptr);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32), 32);
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32), 32);
  return raw;
}

std::string SigningInput(std::string_view alg, const json::object& claims) {
  json::object header{{"alg", alg}, {"typ", "JWT"}};
  return Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims));
}

std::string Rs256Token(EVP_PKEY* key, const json::object& claims) {
  std::string input = SigningInput("RS256", claims);
  return input + "." + Base64UrlEncode(DigestSign(key, input));
}

std::string Es256Token(EVP_PKEY* key, const json::object& claims) {
  std::string input = SigningInput("ES256", claims);
  return input + "." + Base64UrlEncode(DerToRawEcdsa(DigestSign(key, input)));
}

// Key generation is slow (RSA especially), so each key is made once.
EVP_PKEY* RsaKey() {
  static PkeyPtr key(EVP_RSA_gen(2048));
  return key.get();
}
EVP_PKEY* EcKey() {
  static PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key.get();
}

std::shared_ptr<const TokenVerifier> PublicKeyVerifier(EVP_PKEY* key) {
  VerifierOptions options;
  options.public_key_pem = PublicPem(key);
  return MakeVerifier(options);
}

// --- HS256 ---

TEST(JwtTest, MintedTokenRoundTrips) {
  MintOptions mint;
  mint.subject = "alice";
  mint.role = Role::kAdmin;
  std::string token = MintHs256(kSecret, mint, Now());

  Result<Principal> principal = SecretVerifier()->Verify(token, Now());
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->subject, "alice");
  EXPECT_EQ(principal->role, Role::kAdmin);
  EXPECT_TRUE(principal->is_admin());
}

TEST(JwtTest, MintWritesExpectedHeaderAndClaims) {
  MintOptions mint;
  mint.subject = "bob";
  mint.role = Role::kWorker;
  mint.ttl = seconds(120);
  mint.issuer = "herald";
  mint.audience = "api";
  std::string token = MintHs256(kSecret, mint, Now());

  std::size_t dot1 = token.find('.');
  std::size_t dot2 = token.find('.', dot1 + 1);
  EXPECT_EQ(Base64UrlDecode(token.substr(0, dot1)), std::string(kHs256Header));
  json::value claims = json::parse(*Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  json::value expected = {{"sub", "bob"},        {"role", "worker"},
                          {"iat", NowSeconds()}, {"exp", NowSeconds() + 120},
                          {"iss", "herald"},     {"aud", "api"}};
  EXPECT_EQ(claims, expected);
}

TEST(JwtTest, MintedTokenExpiresAfterTtl) {
  MintOptions mint;
  mint.subject = "alice";
  mint.ttl = seconds(60);
  std::string token = MintHs256(kSecret, mint, Now());
  auto verifier = SecretVerifier();  // default leeway 30 s

  EXPECT_TRUE(verifier->Verify(token, Now() + seconds(89)).has_value());
  ExpectRefused(verifier->Verify(token, Now() + seconds(90)), "token expired");
}

TEST(JwtTest, ThePrincipalKnowsWhenItsCredentialsExpire) {
  MintOptions mint;
  mint.subject = "alice";
  mint.ttl = seconds(60);
  std::string token = MintHs256(kSecret, mint, Now());
  auto principal = SecretVerifier()->Verify(token, Now());  // default leeway 30 s
  ASSERT_TRUE(principal.has_value());
  const auto exp = std::chrono::floor<seconds>(Now()) + seconds(60);
  EXPECT_EQ(principal->expires_at, exp + seconds(30));
}

TEST(JwtTest, RoleDefaultsToUser) {
  Result<Principal> principal = SecretVerifier()->Verify(Hs256Token(ValidClaims()), Now());
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->role, Role::kUser);
  EXPECT_FALSE(principal->is_admin());
  EXPECT_FALSE(principal->is_worker());
}

TEST(JwtTest, ParsesAdminAndWorkerRoles) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  claims["role"] = "worker";
  Result<Principal> worker = verifier->Verify(Hs256Token(claims), Now());
  ASSERT_TRUE(worker.has_value());
  EXPECT_EQ(worker->role, Role::kWorker);
  EXPECT_TRUE(worker->is_worker());

  claims["role"] = "admin";
  Result<Principal> admin = verifier->Verify(Hs256Token(claims), Now());
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->role, Role::kAdmin);
}

TEST(JwtTest, RefusesUnknownRole) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  for (json::value role : {json::value("root"), json::value("Admin"), json::value(""),
                           json::value(1), json::value(json::array{"admin"})}) {
    claims["role"] = role;
    ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "unknown role");
  }
}

TEST(JwtTest, RefusesAlgNoneInAnyCase) {
  auto verifier = SecretVerifier();
  for (std::string alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = R"({"alg":")" + alg + R"(","typ":"JWT"})";
    std::string payload = json::serialize(ValidClaims());
    // Both an unsigned token and one carrying a valid HMAC must be refused.
    std::string unsigned_token = Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + ".";
    ExpectRefused(verifier->Verify(unsigned_token, Now()), "algorithm none is not allowed");
    ExpectRefused(verifier->Verify(SignHs256(kSecret, header, payload), Now()),
                  "algorithm none is not allowed");
  }
}

TEST(JwtTest, RefusesExpiredToken) {
  json::object claims = ValidClaims();
  claims["exp"] = NowSeconds() - 31;  // beyond the 30 s leeway
  ExpectRefused(SecretVerifier()->Verify(Hs256Token(claims), Now()), "token expired");
}

TEST(JwtTest, AcceptsExpiredTokenWithinLeeway) {
  json::object claims = ValidClaims();
  claims["exp"] = NowSeconds() - 29;
  EXPECT_TRUE(SecretVerifier()->Verify(Hs256Token(claims), Now()).has_value());

  VerifierOptions strict;
  strict.hs256_secret = std::string(kSecret);
  strict.leeway = seconds(0);
  ExpectRefused(MakeVerifier(strict)->Verify(Hs256Token(claims), Now()), "token expired");
}

TEST(JwtTest, HonoursNotBeforeWithLeeway) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  claims["nbf"] = NowSeconds() + 31;
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "token not yet valid");
  claims["nbf"] = NowSeconds() + 29;
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
}

TEST(JwtTest, RefusesTokenIssuedInTheFuture) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  claims["iat"] = NowSeconds() + 31;
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "token issued in the future");
  claims["iat"] = NowSeconds() + 29;
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
}

TEST(JwtTest, AcceptsFractionalNumericDates) {
  json::object claims = ValidClaims();
  claims["exp"] = double(NowSeconds()) + 0.5;
  VerifierOptions options;
  options.hs256_secret = std::string(kSecret);
  options.leeway = seconds(0);
  auto verifier = MakeVerifier(options);
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now() + std::chrono::milliseconds(500)),
                "token expired");
}

TEST(JwtTest, RefusesFlippedSignatureCharacter) {
  std::string token = FlipSignatureChar(Hs256Token(ValidClaims()));
  ExpectRefused(SecretVerifier()->Verify(token, Now()), "bad signature");
}

TEST(JwtTest, RefusesTamperedPayload) {
  std::string token = Hs256Token(ValidClaims());
  json::object claims = ValidClaims();
  claims["role"] = "admin";
  std::string forged = Hs256Token(claims);
  // Keep the original signature, swap in the admin payload.
  std::size_t a = token.find('.'), b = token.rfind('.');
  std::size_t fa = forged.find('.'), fb = forged.rfind('.');
  token = token.substr(0, a + 1) + forged.substr(fa + 1, fb - fa - 1) + token.substr(b);
  ExpectRefused(SecretVerifier()->Verify(token, Now()), "bad signature");
}

TEST(JwtTest, RefusesTokenSignedWithAnotherSecret) {
  std::string token = Hs256Token(ValidClaims(), kHs256Header, "another-secret");
  Result<Principal> result = SecretVerifier()->Verify(token, Now());
  ExpectRefused(result, "bad signature");
  // Neither the token nor the secret leaks into the reason.
  EXPECT_EQ(result.error().message.find(kSecret), std::string::npos);
  EXPECT_EQ(result.error().message.find(token.substr(0, 10)), std::string::npos);
}

TEST(JwtTest, RefusesTruncatedOrExtendedHmac) {
  std::string token = Hs256Token(ValidClaims());
  std::size_t dot = token.rfind('.');
  std::string mac = *Base64UrlDecode(token.substr(dot + 1));
  std::string signing_input = token.substr(0, dot + 1);
  ExpectRefused(SecretVerifier()->Verify(signing_input + Base64UrlEncode(mac.substr(0, 16)), Now()),
                "bad signature");
  // A correct MAC followed by extra bytes is not a correct MAC.
  ExpectRefused(SecretVerifier()->Verify(signing_input + Base64UrlEncode(mac + "x"), Now()),
                "bad signature");
}

TEST(JwtTest, RequiresSubject) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  claims.erase("sub");
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "missing sub claim");
  claims["sub"] = "";
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "invalid sub claim");
  claims["sub"] = 42;
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "invalid sub claim");
}

TEST(JwtTest, RequiresNumericExpiry) {
  auto verifier = SecretVerifier();
  json::object claims = ValidClaims();
  claims.erase("exp");
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "missing exp claim");
  claims["exp"] = std::to_string(NowSeconds() + 600);
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "invalid exp claim");
}

TEST(JwtTest, EnforcesIssuerWhenConfigured) {
  VerifierOptions options;
  options.hs256_secret = std::string(kSecret);
  options.issuer = "herald";
  auto verifier = MakeVerifier(options);
  json::object claims = ValidClaims();

  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong issuer");  // absent
  claims["iss"] = "someone-else";
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong issuer");
  claims["iss"] = "herald";
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
}

TEST(JwtTest, EnforcesAudienceWhenConfigured) {
  VerifierOptions options;
  options.hs256_secret = std::string(kSecret);
  options.audience = "herald-api";
  auto verifier = MakeVerifier(options);
  json::object claims = ValidClaims();

  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong audience");  // absent
  claims["aud"] = "other-api";
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong audience");
  claims["aud"] = "herald-api";
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
}

TEST(JwtTest, AcceptsAudienceArrayContainingOurs) {
  VerifierOptions options;
  options.hs256_secret = std::string(kSecret);
  options.audience = "herald-api";
  auto verifier = MakeVerifier(options);
  json::object claims = ValidClaims();

  claims["aud"] = json::array{"billing", "herald-api"};
  EXPECT_TRUE(verifier->Verify(Hs256Token(claims), Now()).has_value());
  claims["aud"] = json::array{"billing", "reports"};
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong audience");
  claims["aud"] = json::array{};
  ExpectRefused(verifier->Verify(Hs256Token(claims), Now()), "wrong audience");
}

TEST(JwtTest, IgnoresIssuerAndAudienceWhenNotConfigured) {
  json::object claims = ValidClaims();
  claims["iss"] = "anyone";
  claims["aud"] = "anything";
  EXPECT_TRUE(SecretVerifier()->Verify(Hs256Token(claims), Now()).has_value());
}

TEST(JwtTest, RefusesWrongPartCount) {
  auto verifier = SecretVerifier();
  std::string token = Hs256Token(ValidClaims());
  std::string two_parts = token.substr(0, token.rfind('.'));
  ExpectRefused(verifier->Verify(two_parts, Now()), "malformed token");
  ExpectRefused(verifier->Verify(token + ".extra", Now()), "malformed token");
  ExpectRefused(verifier->Verify("", Now()), "malformed token");
  ExpectRefused(verifier->Verify("..", Now()), "malformed token");
}

TEST(JwtTest, RefusesInvalidBase64) {
  auto verifier = SecretVerifier();
  std::string token = Hs256Token(ValidClaims());
  std::size_t dot = token.find('.');
  std::string bad_payload = token;
  bad_payload[dot + 2] = '*';
  ExpectRefused(verifier->Verify(bad_payload, Now()), "malformed token");
  std::string standard_alphabet = token;
  standard_alphabet[dot + 2] = '+';
  ExpectRefused(verifier->Verify(standard_alphabet, Now()), "malformed token");
  ExpectRefused(verifier->Verify(token + "=", Now()), "malformed token");
}

TEST(JwtTest, RefusesNonJsonOrNonObjectHeader) {
  auto verifier = SecretVerifier();
  std::string payload = json::serialize(ValidClaims());
  for (std::string_view header :
       {"not json", R"(["HS256"])", R"({"alg":256})", R"({"typ":"JWT"})", R"({"alg":"HS256")"}) {
    ExpectRefused(verifier->Verify(SignHs256(kSecret, header, payload), Now()), "malformed token");
  }
}

TEST(JwtTest, RefusesNonObjectClaims) {
  ExpectRefused(SecretVerifier()->Verify(SignHs256(kSecret, kHs256Header, "[1,2]"), Now()),
                "malformed token");
}

TEST(JwtTest, ChecksTypWhenPresent) {
  auto verifier = SecretVerifier();
  EXPECT_TRUE(verifier->Verify(Hs256Token(ValidClaims(), R"({"alg":"HS256"})"), Now()));
  EXPECT_TRUE(verifier->Verify(Hs256Token(ValidClaims(), R"({"alg":"HS256","typ":"jwt"})"), Now()));
  ExpectRefused(
      verifier->Verify(Hs256Token(ValidClaims(), R"({"alg":"HS256","typ":"JWE"})"), Now()),
      "unsupported token type");
}

TEST(JwtTest, RefusesCriticalHeaderExtensions) {
  std::string token = Hs256Token(ValidClaims(), R"({"alg":"HS256","crit":["exp"],"exp":1})");
  ExpectRefused(SecretVerifier()->Verify(token, Now()), "unsupported critical header");
}

TEST(JwtTest, RefusesUnknownAlgorithmWithoutEchoingIt) {
  std::string token = Hs256Token(ValidClaims(), R"({"alg":"<script>"})");
  ExpectRefused(SecretVerifier()->Verify(token, Now()), "unsupported algorithm");
  // Algorithm names are case-sensitive.
  token = Hs256Token(ValidClaims(), R"({"alg":"hs256"})");
  ExpectRefused(SecretVerifier()->Verify(token, Now()), "unsupported algorithm");
}

TEST(JwtTest, RefusesOversizedToken) {
  json::object claims = ValidClaims();
  claims["pad"] = std::string(20000, 'x');
  ExpectRefused(SecretVerifier()->Verify(Hs256Token(claims), Now()), "malformed token");
}

// --- RS256 / ES256 ---

TEST(JwtTest, Rs256ValidTokenAccepted) {
  Result<Principal> principal =
      PublicKeyVerifier(RsaKey())->Verify(Rs256Token(RsaKey(), ValidClaims()), Now());
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->subject, "alice");
}

TEST(JwtTest, Rs256TamperedTokenRefused) {
  auto verifier = PublicKeyVerifier(RsaKey());
  std::string token = Rs256Token(RsaKey(), ValidClaims());
  ExpectRefused(verifier->Verify(FlipSignatureChar(token), Now()), "bad signature");

  // A valid signature from a different key.
  PkeyPtr other(EVP_RSA_gen(2048));
  ExpectRefused(verifier->Verify(Rs256Token(other.get(), ValidClaims()), Now()), "bad signature");
}

TEST(JwtTest, Es256ValidTokenAccepted) {
  Result<Principal> principal =
      PublicKeyVerifier(EcKey())->Verify(Es256Token(EcKey(), ValidClaims()), Now());
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->subject, "alice");
}

TEST(JwtTest, Es256TamperedTokenRefused) {
  auto verifier = PublicKeyVerifier(EcKey());
  std::string token = Es256Token(EcKey(), ValidClaims());
  ExpectRefused(verifier->Verify(FlipSignatureChar(token), Now()), "bad signature");

  json::object claims = ValidClaims();
  claims["role"] = "admin";
  std::string input = SigningInput("ES256", claims);
  std::string old_sig = token.substr(token.rfind('.'));
  ExpectRefused(verifier->Verify(input + old_sig, Now()), "bad signature");
}

TEST(JwtTest, Es256RefusesDerAndWrongLengthSignatures) {
  auto verifier = PublicKeyVerifier(EcKey());
  std::string input = SigningInput("ES256", ValidClaims());
  std::string der = DigestSign(EcKey(), input);
  ExpectRefused(verifier->Verify(input + "." + Base64UrlEncode(der), Now()), "bad signature");

  std::string raw = DerToRawEcdsa(der);
  ExpectRefused(verifier->Verify(input + "." + Base64UrlEncode(raw.substr(0, 63)), Now()),
                "bad signature");
  ExpectRefused(verifier->Verify(input + "." + Base64UrlEncode(raw + '\0'), Now()),
                "bad signature");
  // The untouched raw form is accepted, so the refusals above are about encoding.
  EXPECT_TRUE(verifier->Verify(input + "." + Base64UrlEncode(raw), Now()).has_value());
}

TEST(JwtTest, RefusesAlgorithmWhoseKeyIsNotConfigured) {
  auto rsa_only = PublicKeyVerifier(RsaKey());
  ExpectRefused(rsa_only->Verify(Hs256Token(ValidClaims()), Now()),
                "algorithm HS256 is not enabled");
  ExpectRefused(rsa_only->Verify(Es256Token(EcKey(), ValidClaims()), Now()),
                "algorithm ES256 is not enabled");

  auto ec_only = PublicKeyVerifier(EcKey());
  ExpectRefused(ec_only->Verify(Rs256Token(RsaKey(), ValidClaims()), Now()),
                "algorithm RS256 is not enabled");

  auto secret_only = SecretVerifier();
  ExpectRefused(secret_only->Verify(Rs256Token(RsaKey(), ValidClaims()), Now()),
                "algorithm RS256 is not enabled");
}

TEST(JwtTest, PemIsNeverUsedAsHmacKey) {
  // The classic key-confusion attack: the public PEM is public, so an
  // attacker can compute an HMAC with it as the secret.
  std::string pem = PublicPem(RsaKey());
  auto verifier = PublicKeyVerifier(RsaKey());
  std::string payload = json::serialize(ValidClaims());

  ExpectRefused(verifier->Verify(SignHs256(pem, kHs256Header, payload), Now()),
                "algorithm HS256 is not enabled");
  ExpectRefused(verifier->Verify(SignHs256(pem, R"({"alg":"RS256","typ":"JWT"})", payload), Now()),
                "bad signature");

  // With both a secret and a key configured, HS256 uses the secret only.
  VerifierOptions both;
  both.hs256_secret = std::string(kSecret);
  both.public_key_pem = pem;
  auto both_verifier = MakeVerifier(both);
  ExpectRefused(both_verifier->Verify(SignHs256(pem, kHs256Header, payload), Now()),
                "bad signature");
  EXPECT_TRUE(both_verifier->Verify(Hs256Token(ValidClaims()), Now()).has_value());
  EXPECT_TRUE(both_verifier->Verify(Rs256Token(RsaKey(), ValidClaims()), Now()).has_value());
}

// --- Create ---

TEST(JwtTest, CreateRefusesGarbagePem) {
  VerifierOptions options;
  options.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
  auto verifier = TokenVerifier::Create(options);
  ASSERT_FALSE(verifier.has_value());
  EXPECT_EQ(verifier.error().code, Errc::kBadRequest);
  EXPECT_EQ(verifier.error().message.rfind("JWT_PUBLIC_KEY_FILE: ", 0), 0u);

  options.public_key_pem = "hello";
  EXPECT_FALSE(TokenVerifier::Create(options).has_value());
}

TEST(JwtTest, CreateRefusesUnsupportedKeyTypes) {
  PkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  PkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  PkeyPtr small_rsa(EVP_RSA_gen(1024));
  for (EVP_PKEY* key : {p384.get(), ed25519.get(), small_rsa.get()}) {
    VerifierOptions options;
    options.public_key_pem = PublicPem(key);
    auto verifier = TokenVerifier::Create(options);
    ASSERT_FALSE(verifier.has_value());
    EXPECT_EQ(verifier.error().code, Errc::kBadRequest);
    EXPECT_EQ(verifier.error().message.rfind("JWT_PUBLIC_KEY_FILE: ", 0), 0u);
  }
}

TEST(JwtTest, CreateRequiresSecretOrKey) {
  auto verifier = TokenVerifier::Create(VerifierOptions{});
  ASSERT_FALSE(verifier.has_value());
  EXPECT_EQ(verifier.error().code, Errc::kBadRequest);
}

// --- Base64url and roles ---

TEST(JwtTest, Base64UrlRoundTripsAllBytesWithoutPadding) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= 6; ++len) {
    std::string encoded = Base64UrlEncode(all.substr(250 - len, len));
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(encoded), all.substr(250 - len, len));
  }
  std::string encoded = Base64UrlEncode(all);
  EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(Base64UrlDecode(encoded), all);
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(JwtTest, Base64UrlDecodeRejectsBadInput) {
  EXPECT_EQ(Base64UrlDecode("Zm9v"), "foo");
  EXPECT_EQ(Base64UrlDecode("Zm8"), "fo");
  EXPECT_FALSE(Base64UrlDecode("Zm8="));   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm+v"));   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9 v"));  // whitespace
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));  // 6 dangling bits
  EXPECT_FALSE(Base64UrlDecode("Zm9vA"));  // 6 dangling bits, all zero
  EXPECT_FALSE(Base64UrlDecode("Zm9"));    // non-zero unused bits ("Zm8" is canonical)
}

TEST(JwtTest, RoleNamesRoundTrip) {
  for (Role role : {Role::kUser, Role::kWorker, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(ToString(role)), role);
  }
  EXPECT_EQ(ToString(Role::kWorker), "worker");
  EXPECT_FALSE(ParseRole("ADMIN"));
}

}  // namespace
}  // namespace herald::auth
