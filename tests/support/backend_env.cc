#include "support/backend_env.h"

#include <stdlib.h>

#include "support/postgres_server.h"
#include "support/redis_server.h"

namespace herald::test {

Backend BackendFromEnvironment(const std::string& sqlite_path) {
  Backend b;
  b.database_url = "sqlite://" + sqlite_path;
  if (const char* db = ::getenv("HERALD_TEST_DATABASE"); db && std::string(db) == "postgres")
    b.database_url = PostgresServer::Shared().CreateDatabase("it");
  if (const char* src = ::getenv("HERALD_TEST_SSE_SOURCE"); src && std::string(src) == "redis")
    b.redis_url = RedisServer::Shared().Url();
  return b;
}

}  // namespace herald::test
