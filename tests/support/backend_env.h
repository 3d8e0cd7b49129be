#pragma once
// Which database and bus a test's Herald runs on. `make test` runs the
// integration suite twice: on the embedded defaults, and with
// HERALD_TEST_DATABASE=postgres (a fresh database on a shared throwaway
// PostgreSQL per server) and HERALD_TEST_SSE_SOURCE=redis (a shared
// redis-server), so the many-instance backends pass the same tests.

#include <optional>
#include <string>

namespace herald::test {

struct Backend {
  std::string database_url;              // sqlite://PATH or postgresql://...
  std::optional<std::string> redis_url;  // set: SSE_SOURCE=redis
};

// `sqlite_path` is used when the environment asks for no PostgreSQL.
Backend BackendFromEnvironment(const std::string& sqlite_path);

}  // namespace herald::test
