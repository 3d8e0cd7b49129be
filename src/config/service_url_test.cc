#include "config/service_url.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace herald::config {
namespace {

// ---------------------------------------------------------------------------
// ParseRedisUrl

TEST(ParseRedisUrlTest, HostOnlyDefaultsPortAndDb) {
  auto ep = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "localhost");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
  EXPECT_TRUE(ep->password.empty());
  EXPECT_TRUE(ep->username.empty());
}

TEST(ParseRedisUrlTest, PasswordPortAndDb) {
  auto ep = ParseRedisUrl("redis://:s3cr%40t@redis.internal:6380/2");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "redis.internal");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->password, "s3cr@t");
  EXPECT_TRUE(ep->username.empty());
  EXPECT_EQ(ep->db, 2);
}

TEST(ParseRedisUrlTest, UserAndPassword) {
  auto ep = ParseRedisUrl("redis://herald:pw@127.0.0.1:7000/");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->username, "herald");
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 7000);
  EXPECT_EQ(ep->db, 0);
}

TEST(ParseRedisUrlTest, UserInfoWithoutAColonIsThePassword) {
  auto ep = ParseRedisUrl("redis://s3cret@host");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_TRUE(ep->username.empty());
  EXPECT_EQ(ep->password, "s3cret");
}

TEST(ParseRedisUrlTest, SchemeIsCaseInsensitive) {
  auto ep = ParseRedisUrl("REDIS://host:6390");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "host");
  EXPECT_EQ(ep->port, 6390);
}

TEST(ParseRedisUrlTest, BracketedIpv6) {
  auto ep = ParseRedisUrl("redis://[::1]:6390/1");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 6390);
  EXPECT_EQ(ep->db, 1);
}

TEST(ParseRedisUrlTest, RejectsBadInput) {
  for (const char* bad :
       {"http://localhost:6379", "localhost:6379", "redis://", "redis://:pw@", "redis://host:0",
        "redis://host:65536", "redis://host:abc", "redis://host:", "redis://host:6379/x",
        "redis://host:6379/-1", "redis://[::1", "redis://host?db=1", "redis://host#x",
        "rediss://host", "redis://user:@host", "redis://:bad%zz@host", "redis://h/1/2", ""}) {
    auto ep = ParseRedisUrl(bad);
    ASSERT_FALSE(ep) << bad;
    EXPECT_EQ(ep.error().code, Errc::kBadRequest) << bad;
    EXPECT_EQ(ep.error().message.rfind("REDIS_URL: ", 0), 0u) << ep.error().message;
  }
}

TEST(ParseRedisUrlTest, ErrorsSayWhatIsWrong) {
  auto message = [](const char* url) { return ParseRedisUrl(url).error().message; };
  EXPECT_EQ(message("redis://host:0"), "REDIS_URL: the port must be a number from 1 to 65535");
  EXPECT_EQ(message("redis://host:6379/x"),
            "REDIS_URL: the database must be a number, e.g. redis://host:6379/0");
  EXPECT_EQ(message("redis://:pw@"), "REDIS_URL: missing host");
  EXPECT_EQ(message("http://x"), "REDIS_URL: expected redis://[[user]:password@]host[:port][/db]");
  EXPECT_EQ(message("redis://host?db=1"),
            "REDIS_URL: query strings and fragments are not supported");
}

TEST(ParseRedisUrlTest, ABadUrlIsQuotedWithoutItsPassword) {
  // '@' and '/' not percent-encoded.
  for (const char* bad :
       {"redis://:s3cr@t@host:6379", "redis://:s3cr@t@host", "redis://:s3/cr@host"}) {
    auto ep = ParseRedisUrl(bad);
    ASSERT_FALSE(ep) << bad;
    EXPECT_EQ(ep.error().message.find("s3"), std::string::npos) << ep.error().message;
    EXPECT_NE(ep.error().message.find("redis://:***@host"), std::string::npos)
        << ep.error().message;
    EXPECT_NE(ep.error().message.find("special characters in the password must be percent-encoded"),
              std::string::npos)
        << ep.error().message;
  }
}

// ---------------------------------------------------------------------------
// ParsePostgresUrl

TEST(ParsePostgresUrlTest, EveryPart) {
  auto url = ParsePostgresUrl("postgresql://herald:s3%40cret@db.internal:5433/herald_db");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->user, "herald");
  EXPECT_EQ(url->password, "s3@cret");
  EXPECT_EQ(url->host, "db.internal");
  EXPECT_EQ(url->port, 5433);
  EXPECT_EQ(url->database, "herald_db");
  EXPECT_TRUE(url->options.empty());
  EXPECT_NE(std::find(url->secrets.begin(), url->secrets.end(), "s3%40cret"), url->secrets.end());
  EXPECT_NE(std::find(url->secrets.begin(), url->secrets.end(), "s3@cret"), url->secrets.end());
}

TEST(ParsePostgresUrlTest, DefaultsAreLeftToLibpq) {
  auto url = ParsePostgresUrl("postgres:///herald");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "");
  EXPECT_FALSE(url->port.has_value());
  EXPECT_EQ(url->user, "");
  EXPECT_EQ(url->password, "");
  EXPECT_TRUE(url->secrets.empty());
  EXPECT_EQ(url->database, "herald");
}

TEST(ParsePostgresUrlTest, BracketedIpv6) {
  auto url = ParsePostgresUrl("postgresql://herald@[::1]:5432/db");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 5432);
}

TEST(ParsePostgresUrlTest, QueryOptionsDecodedAndPreferred) {
  auto url = ParsePostgresUrl(
      "postgresql://u:first@db/herald?connect_timeout=3&sslmode=require&password=se%20c+ret"
      "&application_name=a%2Bb");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->Option("connect_timeout"), "3");
  EXPECT_EQ(url->Option("sslmode"), "require");
  EXPECT_EQ(url->Option("application_name"), "a+b");
  EXPECT_FALSE(url->Option("nope").has_value());
  EXPECT_EQ(url->password, "se c+ret");  // '+' stays a plus, as libpq reads it
  for (const char* secret : {"first", "se%20c+ret", "se c+ret"}) {
    EXPECT_NE(std::find(url->secrets.begin(), url->secrets.end(), secret), url->secrets.end())
        << secret;
  }
}

TEST(ParsePostgresUrlTest, RejectsBadInputWithoutThePassword) {
  for (const char* bad : {
           "",
           "host=db user=u password=s3cret dbname=herald",
           "mysql://u:s3cret@db/herald",
           "postgresql://u:s3cr%zzet@host/db",
           "postgresql://u:s3cr%zzet@[::1/db",
           // The unencoded '/' would make libpq read "Xyzzy" as the port.
           "postgresql://u:s3cretXyzzy/Plugh@127.0.0.1/herald",
           // The unencoded '@' would make libpq read "Plugh@127.0.0.1" as the host.
           "postgresql://u:s3cretXyzzy@Plugh@127.0.0.1/herald",
           "postgresql://u:s3cret@db:0/herald",
           "postgresql://u:s3cret@db:99999/herald",
           "postgresql://u:s3cret@db:/herald",
           "postgresql://u:s3cret@h1:5432,h2:5432/herald",
           "postgresql://u:s3cret@h1,h2/herald",
           "postgresql://u:s3cret@db/herald#x",
           "postgresql://u:s3cret@db/herald?port=x",
           "postgresql://u:s3c%00ret@db/herald",
       }) {
    auto url = ParsePostgresUrl(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().code, Errc::kBadRequest) << bad;
    EXPECT_EQ(url.error().message.rfind("DATABASE_URL: ", 0), 0u) << url.error().message;
    EXPECT_EQ(url.error().message.find("s3c"), std::string::npos) << url.error().message;
  }
}

TEST(ParsePostgresUrlTest, ErrorsSayWhatIsWrong) {
  auto message = [](const char* url) { return ParsePostgresUrl(url).error().message; };
  EXPECT_EQ(message("postgresql://u:pw@h1,h2/db"),
            "DATABASE_URL: several hosts are not supported; give one");
  EXPECT_EQ(message("postgresql://u:a/b@db/herald"),
            "DATABASE_URL: invalid URL postgresql://u:***@db/herald: check its syntax; special "
            "characters in the password must be percent-encoded");
  EXPECT_EQ(message("postgresql://db:0/herald"),
            "DATABASE_URL: the port must be a number from 1 to 65535");
}

// ---------------------------------------------------------------------------
// RedactUrl (the cases of PostgresUrlTest.RedactHidesEveryFormOfPassword)

TEST(RedactUrlTest, HidesEveryFormOfPassword) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@db:5432/herald"), "postgresql://u:***@db:5432/herald");
  EXPECT_EQ(RedactUrl("postgres://u:se%40cret@db/herald"), "postgres://u:***@db/herald");
  // An unencoded '@' or '/' in the password hides it all the same.
  EXPECT_EQ(RedactUrl("postgresql://u:se@c/ret@db/herald"), "postgresql://u:***@db/herald");
  EXPECT_EQ(RedactUrl("postgresql://db/herald?user=u&password=secret&sslmode=require"),
            "postgresql://db/herald?user=u&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db user=u password='se cret' dbname=herald"),
            "host=db user=u password=*** dbname=herald");
  EXPECT_EQ(RedactUrl("host=db password = secret"), "host=db password = ***");
  EXPECT_EQ(RedactUrl("redis://:secret@redis:6379/0"), "redis://:***@redis:6379/0");
  EXPECT_EQ(RedactUrl("redis://user:secret@redis"), "redis://user:***@redis");
  EXPECT_EQ(RedactUrl("redis://secret@redis"), "redis://***@redis");  // the password alone
  // Nothing to hide.
  EXPECT_EQ(RedactUrl("postgresql://u@db:5432/herald"), "postgresql://u@db:5432/herald");
  EXPECT_EQ(RedactUrl("postgresql://db:5432/herald"), "postgresql://db:5432/herald");
  EXPECT_EQ(RedactUrl("host=db user=password_reader"), "host=db user=password_reader");
  EXPECT_EQ(RedactUrl("redis://host:6379"), "redis://host:6379");
}

}  // namespace
}  // namespace herald::config
