#include "config/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace herald::config {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup MapEnv(Env env) {
  return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

Config LoadOk(const Env& env) {
  auto config = LoadConfig(MapEnv(env));
  EXPECT_TRUE(config.has_value()) << config.error().message;
  return config.has_value() ? *config : Config{};
}

// ---------------------------------------------------------------------------
// Defaults

TEST(ConfigTest, DefaultsMatchTheContract) {
  auto config = LoadConfig(MapEnv({}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const Config& c = *config;
  EXPECT_EQ(c.http.host, "127.0.0.1");
  EXPECT_EQ(c.http.port, 8000);
  EXPECT_EQ(c.database_url, "sqlite://var/herald.db");
  EXPECT_EQ(c.sse_source, SseSource::kMemory);
  EXPECT_FALSE(c.redis_url.has_value());
  EXPECT_EQ(c.sse.max_duration, std::chrono::seconds(3600));
  EXPECT_EQ(c.sse.retry, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.sse.heartbeat, std::chrono::seconds(30));
  EXPECT_EQ(c.sse.fallback_db_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.workers, 2);
  EXPECT_FALSE(c.audit_allow_private);
  EXPECT_TRUE(c.http.cors_allowed_origins.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_GE(c.http.threads, 1);
}

TEST(ConfigTest, EmptyDatabaseUrlKeepsTheDefault) {
  EXPECT_EQ(LoadOk({{"DATABASE_URL", ""}}).database_url, "sqlite://var/herald.db");
}

// ---------------------------------------------------------------------------
// Values that parse

TEST(ConfigTest, ReadsEveryContractVariable) {
  Config c = LoadOk({{"HERALD_LISTEN", "0.0.0.0:9001"},
                     {"DATABASE_URL", "postgresql://u:p@db/herald"},
                     {"SSE_SOURCE", "db"},
                     {"SSE_MAX_DURATION", "60"},
                     {"SSE_RETRY_MS", "0"},
                     {"SSE_HEARTBEAT_SECONDS", "5"},
                     {"SSE_FALLBACK_DB_INTERVAL_SECONDS", "2"},
                     {"HERALD_WORKERS", "0"},
                     {"AUDIT_ALLOW_PRIVATE", "1"},
                     {"HERALD_LOG_LEVEL", "debug"}});
  EXPECT_EQ(c.http.host, "0.0.0.0");
  EXPECT_EQ(c.http.port, 9001);
  EXPECT_EQ(c.database_url, "postgresql://u:p@db/herald");
  EXPECT_EQ(c.sse_source, SseSource::kDb);
  EXPECT_EQ(c.sse.max_duration, std::chrono::seconds(60));
  EXPECT_EQ(c.sse.retry, std::chrono::milliseconds(0));
  EXPECT_EQ(c.sse.heartbeat, std::chrono::seconds(5));
  EXPECT_EQ(c.sse.fallback_db_interval, std::chrono::seconds(2));
  EXPECT_EQ(c.workers, 0);
  EXPECT_TRUE(c.audit_allow_private);
  EXPECT_EQ(c.log_level, "debug");
}

TEST(ConfigTest, ListenAcceptsBracketedIpv6AndAnEmptyHost) {
  Config v6 = LoadOk({{"HERALD_LISTEN", "[::1]:8080"}});
  EXPECT_EQ(v6.http.host, "::1");
  EXPECT_EQ(v6.http.port, 8080);
  Config any = LoadOk({{"HERALD_LISTEN", ":7000"}});
  EXPECT_EQ(any.http.host, "0.0.0.0");
  EXPECT_EQ(any.http.port, 7000);
}

TEST(ConfigTest, SseSourceDefaultsToRedisWhenRedisUrlIsSet) {
  Config c = LoadOk({{"REDIS_URL", "redis://localhost:6379/0"}});
  EXPECT_EQ(c.sse_source, SseSource::kRedis);
  EXPECT_EQ(c.redis_url, "redis://localhost:6379/0");
}

TEST(ConfigTest, ExplicitSseSourceWinsOverRedisUrl) {
  Config c = LoadOk({{"REDIS_URL", "redis://localhost"}, {"SSE_SOURCE", "memory"}});
  EXPECT_EQ(c.sse_source, SseSource::kMemory);
}

TEST(ConfigTest, EmptyRedisUrlCountsAsUnset) {
  Config c = LoadOk({{"REDIS_URL", ""}});
  EXPECT_EQ(c.sse_source, SseSource::kMemory);
  EXPECT_FALSE(c.redis_url.has_value());
}

TEST(ConfigTest, AcceptsEveryBooleanSpelling) {
  for (const char* yes : {"1", "true", "yes", "on"})
    EXPECT_TRUE(LoadOk({{"AUDIT_ALLOW_PRIVATE", yes}}).audit_allow_private) << yes;
  for (const char* no : {"0", "false", "no", "off", ""})
    EXPECT_FALSE(LoadOk({{"AUDIT_ALLOW_PRIVATE", no}}).audit_allow_private) << no;
}

TEST(ConfigTest, SplitsCorsOriginsOnCommasAndTrimsSpaces) {
  Config c = LoadOk({{"CORS_ALLOWED_ORIGINS",
                      " https://a.example , https://b.example:8443,, ,https://c.example "}});
  EXPECT_EQ(c.http.cors_allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example:8443",
                                      "https://c.example"}));
}

TEST(ConfigTest, EmptyCorsListAllowsNoOrigin) {
  EXPECT_TRUE(LoadOk({{"CORS_ALLOWED_ORIGINS", ""}}).http.cors_allowed_origins.empty());
  EXPECT_TRUE(LoadOk({{"CORS_ALLOWED_ORIGINS", " , "}}).http.cors_allowed_origins.empty());
}

// ---------------------------------------------------------------------------
// Values that do not parse: kBadRequest naming the variable.

struct BadValue {
  std::string variable;  // the one the message must name
  Env env;
};

void PrintTo(const BadValue& b, std::ostream* os) {
  *os << b.variable << " with";
  for (const auto& [k, v] : b.env) *os << " " << k << "='" << v << "'";
}

class ConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValueTest, IsRefusedWithAMessageNamingTheVariable) {
  const BadValue& bad = GetParam();
  auto config = LoadConfig(MapEnv(bad.env));
  ASSERT_FALSE(config.has_value()) << "accepted";
  EXPECT_EQ(config.error().code, Errc::kBadRequest);
  EXPECT_TRUE(config.error().message.starts_with(bad.variable + ": ")) << config.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Config, ConfigBadValueTest,
    ::testing::Values(
        BadValue{"HERALD_LISTEN", {{"HERALD_LISTEN", "127.0.0.1:abc"}}},
        BadValue{"HERALD_LISTEN", {{"HERALD_LISTEN", ":99999"}}},
        BadValue{"HERALD_LISTEN", {{"HERALD_LISTEN", "127.0.0.1"}}},
        BadValue{"HERALD_LISTEN", {{"HERALD_LISTEN", "127.0.0.1:"}}},
        BadValue{"HERALD_LISTEN", {{"HERALD_LISTEN", "127.0.0.1:-1"}}},
        BadValue{"SSE_MAX_DURATION", {{"SSE_MAX_DURATION", "-5"}}},
        BadValue{"SSE_MAX_DURATION", {{"SSE_MAX_DURATION", "abc"}}},
        BadValue{"SSE_MAX_DURATION", {{"SSE_MAX_DURATION", "0"}}},
        BadValue{"SSE_MAX_DURATION", {{"SSE_MAX_DURATION", "10s"}}},
        BadValue{"SSE_MAX_DURATION", {{"SSE_MAX_DURATION", ""}}},
        BadValue{"SSE_RETRY_MS", {{"SSE_RETRY_MS", "x"}}},
        BadValue{"SSE_HEARTBEAT_SECONDS", {{"SSE_HEARTBEAT_SECONDS", "0"}}},
        BadValue{"SSE_FALLBACK_DB_INTERVAL_SECONDS", {{"SSE_FALLBACK_DB_INTERVAL_SECONDS", "abc"}}},
        BadValue{"HERALD_WORKERS", {{"HERALD_WORKERS", "-1"}}},
        BadValue{"SSE_SOURCE", {{"SSE_SOURCE", "bogus"}}},
        BadValue{"SSE_SOURCE", {{"SSE_SOURCE", "redis"}}},
        BadValue{"SSE_SOURCE", {{"SSE_SOURCE", "postgres"}}},  // needs a postgresql:// DATABASE_URL
        BadValue{"REDIS_URL", {{"REDIS_URL", "http://x"}}},
        BadValue{"DATABASE_URL", {{"DATABASE_URL", "mysql://x"}}},
        BadValue{"DATABASE_URL", {{"DATABASE_URL", "sqlite://"}}},
        BadValue{"AUDIT_ALLOW_PRIVATE", {{"AUDIT_ALLOW_PRIVATE", "maybe"}}},
        BadValue{"HERALD_LOG_LEVEL", {{"HERALD_LOG_LEVEL", "loud"}}}));

TEST(ConfigTest, ListenErrorQuotesTheBadPort) {
  auto config = LoadConfig(MapEnv({{"HERALD_LISTEN", "127.0.0.1:abc"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("'abc'"), std::string::npos) << config.error().message;
}

TEST(ConfigTest, RedisSourceWithoutRedisUrlSaysWhatIsMissing) {
  auto config = LoadConfig(MapEnv({{"SSE_SOURCE", "redis"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("REDIS_URL"), std::string::npos) << config.error().message;
}

TEST(ConfigTest, OutOfRangeErrorQuotesTheValue) {
  auto config = LoadConfig(MapEnv({{"SSE_MAX_DURATION", "-5"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("-5"), std::string::npos) << config.error().message;
}

// ---------------------------------------------------------------------------
// ParseListen directly

TEST(ConfigTest, ParseListenLeavesOutputsUntouchedOnError) {
  std::string host = "keep";
  uint16_t port = 1;
  EXPECT_FALSE(ParseListen("nohost", &host, &port).has_value());
  EXPECT_FALSE(ParseListen("h:65536", &host, &port).has_value());
  EXPECT_EQ(host, "keep");
  EXPECT_EQ(port, 1);
  EXPECT_TRUE(ParseListen("h:65535", &host, &port).has_value());
  EXPECT_EQ(host, "h");
  EXPECT_EQ(port, 65535);
}

}  // namespace
}  // namespace herald::config
