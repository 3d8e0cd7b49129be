// REDIS_URL and DATABASE_URL, and the configuration around them: an
// operator's typo must get a clear error, never a crash, and a password
// must never be shown. Input: a URL \0 a password \0 KEY=VALUE lines.
// Properties: ParseRedisUrl accepts only what it can connect to (a host, a
// port, a database >= 0); ParsePostgresUrl's errors never quote the URL's
// password; RedactUrl never shows a URL's password;
// LoadConfig over arbitrary variables answers a Config or an error.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/service_url.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const auto f = fuzz::Fields(data, size, 3);
  const std::string& url = f[0];

  if (auto redis = config::ParseRedisUrl(url)) {
    FUZZ_CHECK(!redis->host.empty());
    FUZZ_CHECK(redis->port != 0);
    FUZZ_CHECK(redis->db >= 0);
  } else {
    FUZZ_CHECK(redis.error().message.rfind("REDIS_URL: ", 0) == 0);
  }
  if (auto postgres = config::ParsePostgresUrl(url); !postgres)
    FUZZ_CHECK(postgres.error().message.rfind("DATABASE_URL: ", 0) == 0);
  (void)config::RedactUrl(url);

  // A password of URL-safe characters in a URL: redaction hides it.
  std::string password;
  for (char c : f[1])
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
      password.push_back(c);
  if (password.size() >= 8) {
    const std::vector<std::function<std::string(const std::string&)>> forms = {
        [](const std::string& pw) {
          return "postgresql://herald:" + pw + "@db.internal:5432/herald";
        },
        [](const std::string& pw) {
          return "postgresql://herald:" + pw + "@db/herald?sslmode=require";
        },
        [](const std::string& pw) { return "postgresql:///herald?user=herald&password=" + pw; },
        [](const std::string& pw) {
          return "host=db user=herald password=" + pw + " dbname=herald";
        },
    };
    for (const auto& form : forms) {
      // Only a password that is not also another part of the URL ("internal").
      if (form("").find(password) != std::string::npos) continue;
      FUZZ_CHECK(config::RedactUrl(form(password)).find(password) == std::string::npos);
      if (auto parsed = config::ParsePostgresUrl(form(password)); !parsed) {
        // Nor one the message says anyway (its "expected postgresql://..."
        // contains "postgresq"): the same message with another password.
        auto other = config::ParsePostgresUrl(form(std::string(password.size(), 'x')));
        if (!other && other.error().message.find(password) != std::string::npos) continue;
        FUZZ_CHECK(parsed.error().message.find(password) == std::string::npos);
      }
    }
  }

  std::map<std::string, std::string> env;
  std::string_view lines = f[2];
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    if (const size_t eq = line.find('='); eq != std::string_view::npos)
      env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 1);
  }
  if (!url.empty()) env.emplace(url.rfind("redis", 0) == 0 ? "REDIS_URL" : "DATABASE_URL", url);
  env.emplace("JWT_SECRET", "fuzz-secret-fuzz-secret-fuzz-secret");
  auto config = config::LoadConfig([&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  if (!config) FUZZ_CHECK(!config.error().message.empty());
  return 0;
}
