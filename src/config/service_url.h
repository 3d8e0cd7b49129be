#pragma once
// REDIS_URL and DATABASE_URL (postgresql://), parsed in one place: the
// scheme, host, port, user and password (percent-decoded), the database and
// the query options, with an error that names the variable and says what is
// wrong, never showing the password. RedactUrl hides the password of any
// URL or key=value connection string, parsable or not, for logs.
//
// Parsing follows RFC 3986 (Boost.URL, inside service_url.cc): a password
// holding '@', '/', ':', '?' or '#' must be percent-encoded (%40, %2F, ...).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace herald::config {

// redis://[[user]:password@]host[:port][/db]. "redis://secret@host" (no
// colon) reads "secret" as the password, as redis-cli does.
struct RedisUrl {
  std::string host;  // an IPv6 literal without its brackets
  uint16_t port = 6379;
  std::string username;  // empty: "AUTH password" (or no AUTH at all)
  std::string password;  // empty: no AUTH
  int db = 0;
};

// Errors are kBadRequest and their message starts with "REDIS_URL: ".
Result<RedisUrl> ParseRedisUrl(std::string_view url);

// postgresql://[user[:password]@][host][:port][/database][?key=value&...]
// (or postgres://). One host: libpq's host lists are not supported.
struct PostgresUrl {
  std::string host;              // empty: libpq's default (the local socket)
  std::optional<uint16_t> port;  // empty: libpq's default (5432)
  std::string user;
  // Decoded. A `password` query option, which libpq prefers, wins.
  std::string password;
  // Every form of the password as written in the URL (percent-encoded, in
  // the user info and in the query): what must never reach a log line.
  std::vector<std::string> secrets;
  std::string database;
  // The query, decoded, in order ('+' is a plus, as libpq reads it).
  std::vector<std::pair<std::string, std::string>> options;

  // The value of the last `key` in the query, if any.
  std::optional<std::string_view> Option(std::string_view key) const;
};

// Errors are kBadRequest and their message starts with "DATABASE_URL: ";
// it shows the URL redacted, never the password. Option keys are not
// checked here (libpq knows its own).
Result<PostgresUrl> ParsePostgresUrl(std::string_view url);

// The URL (or libpq key=value string) with its password replaced by "***":
// in the user info (up to the last '@', so an unencoded '@' or '/' in the
// password hides it all the same) and in a `password` option. Works on
// malformed input too: it is what an error message may show.
std::string RedactUrl(std::string_view url);

}  // namespace herald::config
