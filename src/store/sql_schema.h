#pragma once
// The schema SqliteStore and PostgresStore share, and the one way it is
// brought up to date. Each database records its version its own way
// (SchemaVersionRecord).

#include <string_view>

#include "common/errors.h"
#include "store/sql_backend.h"

namespace herald::store {

// The last step of the schema this build knows.
int LatestSchemaVersion();

// Where a database keeps the number of the last step applied.
class SchemaVersionRecord {
 public:
  virtual ~SchemaVersionRecord() = default;
  // Runs first in the migration's transaction: processes starting together
  // take turns here (PostgreSQL's advisory lock).
  virtual Result<void> Lock(SqlSession& session) {
    (void)session;
    return {};
  }
  // 0 for a database never migrated.
  virtual Result<int> Read(SqlSession& session) = 0;
  virtual Result<void> Write(SqlSession& session, int version) = 0;
};

// Applies the steps newer than the database's version in one transaction,
// so a crash mid-migration leaves the previous version intact. Refuses a
// schema newer than this build knows. `database` names it in errors (a
// path, or a URL without its password).
Result<void> Migrate(SqlSession& session, const SqlDialect& dialect, SchemaVersionRecord& record,
                     std::string_view database);

}  // namespace herald::store
