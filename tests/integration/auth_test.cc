// "Authentication and authorization" of the contract against a real server:
// where the token is read from, which tokens are refused, issuer/audience
// enforcement and public-key algorithms. GET /api/v1/jobs is the probe.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/test_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using auth::Role;

constexpr char kProbe[] = "/api/v1/jobs";
constexpr char kHs256Header[] = R"({"alg":"HS256","typ":"JWT"})";

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object ValidClaims(const std::string& sub = "alice") {
  int64_t now = NowSeconds();
  return json::object{{"sub", sub}, {"iat", now}, {"exp", now + 600}};
}

std::string Hs256(const json::object& claims, const std::string& header = kHs256Header,
                  const std::string& secret = kTestSecret) {
  return auth::SignHs256(secret, header, json::serialize(claims));
}

HttpResponse Probe(const TestServer& server, const Headers& headers,
                   const std::string& path = kProbe) {
  return Request(server.port(), "GET", path, headers);
}

HttpResponse ProbeBearer(const TestServer& server, const std::string& token) {
  return Probe(server, TestServer::Bearer(token));
}

void ExpectUnauthorized(const HttpResponse& res, const std::string& what) {
  EXPECT_EQ(res.status, 401) << what << ": " << res.body;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u) << what;
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  ASSERT_FALSE(ec) << what << ": body is not JSON: " << res.body;
  ASSERT_TRUE(v.is_object() && v.as_object().contains("error")) << what << ": " << res.body;
  EXPECT_TRUE(v.as_object().at("error").is_string()) << what;
}

// Replaces one character early in the signature (the last one may only
// carry padding bits).
std::string FlipSignatureChar(std::string token) {
  size_t i = token.rfind('.') + 3;
  token[i] = token[i] == 'A' ? 'B' : 'A';
  return token;
}

TEST(AuthTest, MissingTokenIs401) {
  TestServer server;
  ExpectUnauthorized(Probe(server, {}), "no token");
  ExpectUnauthorized(ProbeBearer(server, ""), "empty bearer");
  ExpectUnauthorized(Probe(server, {{"Cookie", "theme=dark"}}), "unrelated cookie");
  ExpectUnauthorized(Probe(server, {}, std::string(kProbe) + "?token="), "empty query token");
}

TEST(AuthTest, AlgNoneIs401) {
  TestServer server;
  std::string payload = auth::Base64UrlEncode(json::serialize(ValidClaims()));
  for (const std::string header : {R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})",
                                   R"({"alg":"None"})", R"({"alg":"NONE"})"}) {
    std::string token = auth::Base64UrlEncode(header) + "." + payload + ".";
    ExpectUnauthorized(ProbeBearer(server, token), header);
    // Even with some signature attached.
    ExpectUnauthorized(ProbeBearer(server, token + "c2ln"), header + " with signature");
  }
}

TEST(AuthTest, ExpiredIs401) {
  TestServer server;
  auto claims = ValidClaims();
  claims["exp"] = NowSeconds() - 3600;
  claims["iat"] = NowSeconds() - 7200;
  ExpectUnauthorized(ProbeBearer(server, Hs256(claims)), "expired an hour ago");
  // A minted token with a TTL already elapsed is refused as well.
  ExpectUnauthorized(
      ProbeBearer(server, TestServer::Token("alice", Role::kUser, std::chrono::seconds(-3600))),
      "minted, expired");
}

TEST(AuthTest, NotYetValidIs401) {
  TestServer server;
  auto claims = ValidClaims();
  claims["nbf"] = NowSeconds() + 3600;
  ExpectUnauthorized(ProbeBearer(server, Hs256(claims)), "nbf in an hour");
  // nbf in the past is fine.
  claims["nbf"] = NowSeconds() - 60;
  EXPECT_EQ(ProbeBearer(server, Hs256(claims)).status, 200);
}

TEST(AuthTest, IssuedInTheFutureIs401) {
  TestServer server;
  auto claims = ValidClaims();
  claims["iat"] = NowSeconds() + 3600;
  claims["exp"] = NowSeconds() + 7200;
  ExpectUnauthorized(ProbeBearer(server, Hs256(claims)), "iat in an hour");
}

TEST(AuthTest, WrongSignatureIs401) {
  TestServer server;
  std::string good = Hs256(ValidClaims());
  ASSERT_EQ(ProbeBearer(server, good).status, 200);
  ExpectUnauthorized(ProbeBearer(server, FlipSignatureChar(good)), "flipped signature");
  // Claims changed after signing (user -> admin).
  auto admin_claims = ValidClaims();
  admin_claims["role"] = "admin";
  std::string admin = Hs256(admin_claims);
  std::string forged = good.substr(0, good.find('.') + 1) +
                       admin.substr(admin.find('.') + 1, admin.rfind('.') - admin.find('.') - 1) +
                       good.substr(good.rfind('.'));
  ExpectUnauthorized(ProbeBearer(server, forged), "payload swapped");
  ExpectUnauthorized(ProbeBearer(server, good.substr(0, good.rfind('.') + 1)), "signature removed");
}

TEST(AuthTest, WrongSecretIs401) {
  TestServer server;
  ExpectUnauthorized(ProbeBearer(server, Hs256(ValidClaims(), kHs256Header, "some-other-secret")),
                     "other secret");
  ExpectUnauthorized(ProbeBearer(server, Hs256(ValidClaims(), kHs256Header, "")), "empty secret");
}

TEST(AuthTest, MissingSubOrExpIs401) {
  TestServer server;
  auto no_sub = ValidClaims();
  no_sub.erase("sub");
  ExpectUnauthorized(ProbeBearer(server, Hs256(no_sub)), "missing sub");
  auto empty_sub = ValidClaims();
  empty_sub["sub"] = "";
  ExpectUnauthorized(ProbeBearer(server, Hs256(empty_sub)), "empty sub");
  auto numeric_sub = ValidClaims();
  numeric_sub["sub"] = 42;
  ExpectUnauthorized(ProbeBearer(server, Hs256(numeric_sub)), "numeric sub");
  auto no_exp = ValidClaims();
  no_exp.erase("exp");
  ExpectUnauthorized(ProbeBearer(server, Hs256(no_exp)), "missing exp");
  auto string_exp = ValidClaims();
  string_exp["exp"] = "tomorrow";
  ExpectUnauthorized(ProbeBearer(server, Hs256(string_exp)), "string exp");
}

TEST(AuthTest, UnknownRoleIs401) {
  TestServer server;
  for (const std::string role : {"king", "Admin", "root"}) {
    auto claims = ValidClaims();
    claims["role"] = role;
    ExpectUnauthorized(ProbeBearer(server, Hs256(claims)), "role '" + role + "'");
  }
  // The known ones work; no role means user.
  for (const std::string role : {"user", "worker", "admin"}) {
    auto claims = ValidClaims();
    claims["role"] = role;
    EXPECT_EQ(ProbeBearer(server, Hs256(claims)).status, 200) << role;
  }
  EXPECT_EQ(ProbeBearer(server, Hs256(ValidClaims())).status, 200) << "no role";
}

TEST(AuthTest, DefaultRoleIsUser) {
  TestServer server;
  int64_t bobs = server.CreateJob("bob");
  // A token without a role cannot read bob's job or publish progress.
  std::string token = Hs256(ValidClaims("alice"));
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/jobs/" + std::to_string(bobs),
                    TestServer::Bearer(token))
                .status,
            403);
  EXPECT_EQ(Request(server.port(), "POST", "/api/v1/jobs/" + std::to_string(bobs) + "/progress",
                    TestServer::Bearer(token), R"({"progress":1})")
                .status,
            403);
}

TEST(AuthTest, MalformedIs401) {
  TestServer server;
  std::string good = TestServer::Token("alice");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "not-a-token"},
      {"three garbage parts", "a.b.c"},
      {"two parts", good.substr(0, good.rfind('.'))},
      {"four parts", good + ".extra"},
      {"bad base64", "%%%." + good.substr(good.find('.') + 1)},
      {"header not JSON", auth::Base64UrlEncode("nope") + good.substr(good.find('.'))},
      {"claims not an object", auth::SignHs256(kTestSecret, kHs256Header, "[1,2,3]")},
      {"claims not JSON", auth::SignHs256(kTestSecret, kHs256Header, "{not json")},
      {"unknown alg",
       auth::SignHs256(kTestSecret, R"({"alg":"HS999"})", json::serialize(ValidClaims()))},
  };
  for (const auto& [what, token] : cases) ExpectUnauthorized(ProbeBearer(server, token), what);
  ExpectUnauthorized(Probe(server, {{"Authorization", "Basic YWxpY2U6cHc="}}), "Basic auth");
  ExpectUnauthorized(Probe(server, {{"Authorization", good}}), "no Bearer scheme");
}

TEST(AuthTest, ValidTokenFromHeaderCookieOrQuery) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  std::string token = TestServer::Token("alice");
  auto check = [&](const HttpResponse& res, const std::string& what) {
    ASSERT_EQ(res.status, 200) << what << ": " << res.body;
    auto items = json::parse(res.body).at("items").as_array();
    ASSERT_EQ(items.size(), 1u) << what;
    EXPECT_EQ(items[0].at("id").as_int64(), id) << what;
  };
  check(Probe(server, TestServer::Bearer(token)), "header");
  check(Probe(server, {{"Cookie", "auth_token=" + token}}), "cookie");
  check(Probe(server, {{"Cookie", "theme=dark; auth_token=" + token + "; lang=en"}}),
        "cookie among others");
  check(Probe(server, {}, std::string(kProbe) + "?token=" + token), "query");
  check(Probe(server, {}, std::string(kProbe) + "?limit=5&token=" + token), "query, second");
}

TEST(AuthTest, HeaderTakesPrecedenceOverCookieAndCookieOverQuery) {
  TestServer server;
  server.CreateJob("alice");
  server.CreateJob("bob");
  std::string alice = TestServer::Token("alice");
  std::string bob = TestServer::Token("bob");
  auto owner_seen = [&](const HttpResponse& res) -> std::string {
    if (res.status != 200) return "status " + std::to_string(res.status);
    auto items = json::parse(res.body).at("items").as_array();
    if (items.size() != 1) return "items " + std::to_string(items.size());
    return std::string(items[0].at("owner").as_string());
  };
  std::string path_bob_query = std::string(kProbe) + "?token=" + bob;
  // Two valid tokens: the one from the higher-priority place decides who calls.
  EXPECT_EQ(owner_seen(Probe(
                server, {{"Authorization", "Bearer " + alice}, {"Cookie", "auth_token=" + bob}})),
            "alice");
  EXPECT_EQ(owner_seen(Probe(server, {{"Cookie", "auth_token=" + alice}}, path_bob_query)),
            "alice");
  EXPECT_EQ(owner_seen(Probe(server, {{"Authorization", "Bearer " + alice}}, path_bob_query)),
            "alice");
  // A bad header is not rescued by a good cookie or query token.
  ExpectUnauthorized(
      Probe(server, {{"Authorization", "Bearer bogus"}, {"Cookie", "auth_token=" + bob}}),
      "bad header, good cookie");
  ExpectUnauthorized(Probe(server, {{"Authorization", "Bearer bogus"}}, path_bob_query),
                     "bad header, good query");
  ExpectUnauthorized(Probe(server, {{"Cookie", "auth_token=bogus"}}, path_bob_query),
                     "bad cookie, good query");
  // A good header wins over a bad cookie.
  EXPECT_EQ(owner_seen(Probe(
                server, {{"Authorization", "Bearer " + alice}, {"Cookie", "auth_token=bogus"}})),
            "alice");
}

TEST(AuthTest, IssuerAndAudienceEnforcedWhenConfigured) {
  TestServer server([](config::Config& c) {
    c.auth.issuer = "https://issuer.example";
    c.auth.audience = "herald";
  });
  auto mint = [](std::optional<std::string> iss, std::optional<std::string> aud) {
    auth::MintOptions o;
    o.subject = "alice";
    o.issuer = std::move(iss);
    o.audience = std::move(aud);
    return auth::MintHs256(kTestSecret, o, std::chrono::system_clock::now());
  };
  EXPECT_EQ(ProbeBearer(server, mint("https://issuer.example", "herald")).status, 200);
  ExpectUnauthorized(ProbeBearer(server, mint(std::nullopt, std::nullopt)), "neither");
  ExpectUnauthorized(ProbeBearer(server, mint(std::nullopt, "herald")), "no iss");
  ExpectUnauthorized(ProbeBearer(server, mint("https://evil.example", "herald")), "wrong iss");
  ExpectUnauthorized(ProbeBearer(server, mint("https://issuer.example", std::nullopt)), "no aud");
  ExpectUnauthorized(ProbeBearer(server, mint("https://issuer.example", "other")), "wrong aud");
  ExpectUnauthorized(ProbeBearer(server, TestServer::Token("alice")), "plain token");
  // aud may be an array containing ours.
  auto claims = ValidClaims();
  claims["iss"] = "https://issuer.example";
  claims["aud"] = json::array{"other", "herald"};
  EXPECT_EQ(ProbeBearer(server, Hs256(claims)).status, 200);
  claims["aud"] = json::array{"other", "another"};
  ExpectUnauthorized(ProbeBearer(server, Hs256(claims)), "aud array without ours");
}

TEST(AuthTest, IssuerAndAudienceIgnoredWhenNotConfigured) {
  TestServer server;
  auto claims = ValidClaims();
  claims["iss"] = "https://anyone.example";
  claims["aud"] = "anything";
  EXPECT_EQ(ProbeBearer(server, Hs256(claims)).status, 200);
}

// --- public keys --------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string DigestSign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
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
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32);
  return raw;
}

std::string SigningInput(std::string_view alg, const json::object& claims) {
  json::object header{{"alg", alg}, {"typ", "JWT"}};
  return auth::Base64UrlEncode(json::serialize(header)) + "." +
         auth::Base64UrlEncode(json::serialize(claims));
}

std::string Rs256Token(EVP_PKEY* key, const json::object& claims) {
  std::string input = SigningInput("RS256", claims);
  return input + "." + auth::Base64UrlEncode(DigestSign(key, input));
}

std::string Es256Token(EVP_PKEY* key, const json::object& claims) {
  std::string input = SigningInput("ES256", claims);
  return input + "." + auth::Base64UrlEncode(DerToRawEcdsa(DigestSign(key, input)));
}

EVP_PKEY* RsaKey() {
  static PkeyPtr key(EVP_RSA_gen(2048));
  return key.get();
}
EVP_PKEY* EcKey() {
  static PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key.get();
}

// A PEM file in its own temp directory, removed with the object.
class PemFile {
 public:
  explicit PemFile(const std::string& pem) {
    char tmpl[] = "/tmp/herald-auth-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/public.pem";
    std::ofstream(path_) << pem;
  }
  ~PemFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

TEST(AuthTest, Rs256WithPublicKeyFile) {
  PemFile pem(PublicPem(RsaKey()));
  TestServer server([&](config::Config& c) {
    c.auth.jwt_secret.clear();
    c.auth.public_key_file = pem.path();
  });
  std::string token = Rs256Token(RsaKey(), ValidClaims());
  EXPECT_EQ(ProbeBearer(server, token).status, 200);
  ExpectUnauthorized(ProbeBearer(server, FlipSignatureChar(token)), "tampered RS256");
  auto expired = ValidClaims();
  expired["exp"] = NowSeconds() - 3600;
  ExpectUnauthorized(ProbeBearer(server, Rs256Token(RsaKey(), expired)), "expired RS256");
  // Signed by someone else's key.
  PkeyPtr other(EVP_RSA_gen(2048));
  ExpectUnauthorized(ProbeBearer(server, Rs256Token(other.get(), ValidClaims())), "other RSA key");
}

TEST(AuthTest, Hs256RefusedWhenOnlyAPublicKeyIsConfigured) {
  std::string public_pem = PublicPem(RsaKey());
  PemFile pem(public_pem);
  TestServer server([&](config::Config& c) {
    c.auth.jwt_secret.clear();
    c.auth.public_key_file = pem.path();
  });
  ExpectUnauthorized(ProbeBearer(server, TestServer::Token("alice")), "HS256 with the test secret");
  ExpectUnauthorized(ProbeBearer(server, Hs256(ValidClaims(), kHs256Header, "")),
                     "HS256, empty key");
  // Key confusion: the public PEM used as an HMAC key.
  ExpectUnauthorized(ProbeBearer(server, Hs256(ValidClaims(), kHs256Header, public_pem)),
                     "HS256 keyed with the public PEM");
  // ES256 is not enabled by an RSA key.
  ExpectUnauthorized(ProbeBearer(server, Es256Token(EcKey(), ValidClaims())), "ES256 with RSA key");
}

TEST(AuthTest, Es256WithPublicKeyFile) {
  PemFile pem(PublicPem(EcKey()));
  TestServer server([&](config::Config& c) {
    c.auth.jwt_secret.clear();
    c.auth.public_key_file = pem.path();
  });
  std::string token = Es256Token(EcKey(), ValidClaims());
  EXPECT_EQ(ProbeBearer(server, token).status, 200);
  ExpectUnauthorized(ProbeBearer(server, FlipSignatureChar(token)), "tampered ES256");
  ExpectUnauthorized(ProbeBearer(server, Rs256Token(RsaKey(), ValidClaims())), "RS256 with EC key");
}

TEST(AuthTest, PublicKeyAlgorithmRefusedWhenOnlyASecretIsConfigured) {
  TestServer server;
  ExpectUnauthorized(ProbeBearer(server, Rs256Token(RsaKey(), ValidClaims())),
                     "RS256 not configured");
  ExpectUnauthorized(ProbeBearer(server, Es256Token(EcKey(), ValidClaims())),
                     "ES256 not configured");
}

TEST(AuthTest, SecretAndPublicKeyTogetherAcceptBoth) {
  PemFile pem(PublicPem(RsaKey()));
  TestServer server([&](config::Config& c) { c.auth.public_key_file = pem.path(); });
  EXPECT_EQ(ProbeBearer(server, TestServer::Token("alice")).status, 200);
  EXPECT_EQ(ProbeBearer(server, Rs256Token(RsaKey(), ValidClaims())).status, 200);
}

// A stream never outlives its credentials: both kinds end at exp (plus
// the leeway, 0 here) with `event: error` {"error": "Token expired"}.
TEST(AuthTest, StreamsEndWhenTheirTokenExpires) {
  TestServer server([](config::Config& c) { c.auth.leeway = std::chrono::seconds(0); });
  const int64_t id = server.CreateJob("alice");
  ASSERT_GT(id, 0);
  json::object claims = ValidClaims("alice");
  claims["exp"] = NowSeconds() + 2;
  const std::string token = Hs256(claims);
  auto progress = SseClient::Open(
      server.port(), "/api/v1/sse/jobs/" + std::to_string(id) + "/progress?token=" + token, {});
  auto notify = SseClient::Open(server.port(), "/notify/events?token=" + token, {});
  ASSERT_EQ(progress->status(), 200);
  ASSERT_EQ(notify->status(), 200);
  const auto opened = std::chrono::steady_clock::now();
  for (auto* sse : {progress.get(), notify.get()}) {
    std::optional<SseEvent> last;
    while (auto e = sse->NextEvent(std::chrono::seconds(6))) last = e;
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->event, "error");
    EXPECT_EQ(last->data, R"({"error": "Token expired"})");
    EXPECT_TRUE(sse->closed());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - opened, std::chrono::seconds(5));
  // A live token's stream is not cut by this: it keeps its max duration.
  auto lasting =
      SseClient::Open(server.port(), "/api/v1/sse/jobs/" + std::to_string(id) + "/progress",
                      TestServer::Bearer(TestServer::Token("alice")));
  ASSERT_TRUE(lasting->NextEvent(std::chrono::seconds(2)).has_value());
  EXPECT_FALSE(lasting->NextEvent(std::chrono::milliseconds(1500)).has_value());
  EXPECT_FALSE(lasting->closed());
}

// CSRF: the browser sends the auth_token cookie with a foreign page's POST
// too, so such a POST must come from this origin or an allowed one.
TEST(AuthTest, CookieAuthenticatedPostsFromAForeignOriginAre403) {
  TestServer server(
      [](config::Config& c) { c.http.cors_allowed_origins = {"https://app.example"}; });
  const std::string token = TestServer::Token("alice");
  const std::string body = R"({"type":"export"})";
  auto post = [&](Headers headers) {
    headers.emplace_back("Cookie", "auth_token=" + token);
    return Request(server.port(), "POST", "/api/v1/jobs", headers, body).status;
  };
  EXPECT_EQ(post({{"Origin", "https://evil.example"}}), 403);
  EXPECT_EQ(post({{"Referer", "https://evil.example/page"}}), 403);
  EXPECT_EQ(post({}), 403) << "no Origin or Referer: nothing says it is our page";
  EXPECT_EQ(post({{"Origin", "null"}}), 403);
  // The test client sends Host: 127.0.0.1; the same origin has that authority.
  EXPECT_EQ(post({{"Origin", "http://127.0.0.1"}}), 201);
  EXPECT_EQ(post({{"Referer", "http://127.0.0.1/"}}), 201);
  EXPECT_EQ(post({{"Origin", "https://app.example"}}), 201);
  // Reads with the cookie, and a bearer token from anywhere, are not CSRF.
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/jobs",
                    {{"Cookie", "auth_token=" + token}, {"Origin", "https://evil.example"}})
                .status,
            200);
  Headers bearer = TestServer::Bearer(token);
  bearer.emplace_back("Origin", "https://evil.example");
  EXPECT_EQ(Request(server.port(), "POST", "/api/v1/jobs", bearer, body).status, 201);
}

TEST(AuthTest, TheDashboardIsServedWithItsSecurityHeaders) {
  TestServer server;
  auto page = Request(server.port(), "GET", "/");
  ASSERT_EQ(page.status, 200);
  const std::string csp = page.Header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'sha256-"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(Request(server.port(), "GET", "/healthz").Header("x-content-type-options"), "nosniff");
}

}  // namespace
}  // namespace herald::test
