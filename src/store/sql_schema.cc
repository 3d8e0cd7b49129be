#include "store/sql_schema.h"

#include <iterator>
#include <string>

namespace herald::store {
namespace {

// Steps are applied in order, each once. Never edit a released step: append
// a new one. {job_id_key}, {feed_id_key}, {int64}, {real}, {boolean} and
// {health_table} are the dialect's (SqlDialect).
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE jobs (
  id              {job_id_key},
  type            TEXT    NOT NULL,
  owner           TEXT    NOT NULL,
  title           TEXT    NOT NULL DEFAULT '',
  url             TEXT    NOT NULL DEFAULT '',
  max_pages       INTEGER NOT NULL DEFAULT 0,
  status          TEXT    NOT NULL,
  progress        INTEGER NOT NULL DEFAULT 0,
  message         TEXT,
  step            TEXT,
  total_pages     {int64},
  geo_score       {real},
  critical_issues {int64},
  high_issues     {int64},
  medium_issues   {int64},
  low_issues      {int64},
  error_message   TEXT,
  data            TEXT,
  report          TEXT,
  created_at      {int64} NOT NULL,
  updated_at      {int64} NOT NULL,
  last_seq        {int64} NOT NULL
);
CREATE INDEX jobs_owner_id ON jobs (owner, id DESC);
CREATE INDEX jobs_type_id ON jobs (type, id DESC);

-- One table for both logs: a job's event history (job_id, seq) and the
-- notification feed (id). One id for both gives every job event and notice
-- one global order, which /notify/events resumes from. SQLite's
-- AUTOINCREMENT assigns it; PostgreSQL's AppendFeedRow does, under an
-- advisory lock, so ids are gapless and commit in order.
CREATE TABLE events (
  id         {feed_id_key},
  job_id     {int64} REFERENCES jobs (id),
  seq        {int64},
  notice     {boolean} NOT NULL,
  audience   TEXT    NOT NULL,
  event      TEXT    NOT NULL,
  payload    TEXT    NOT NULL,
  created_at {int64} NOT NULL,
  UNIQUE (job_id, seq)
);
CREATE INDEX events_audience_id ON events (audience, id);
)sql"},
    {2, R"sql(
-- Audit work queue: who holds a running audit, until when, and how often it
-- was claimed (a claim after the first means a worker died).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at {int64};
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_claim ON jobs (type, status, id);
)sql"},
    {3, R"sql(
-- One row /healthz rewrites: a database that cannot take a write (disk
-- full, read-only) is down even while reads still work.
CREATE TABLE {health_table} (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at {int64} NOT NULL
);
-- Stream tickets: single use, short-lived; only their hash is kept.
CREATE TABLE stream_tickets (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  stream TEXT NOT NULL,
  expires_at {int64} NOT NULL,
  credentials_expire_at {int64} NOT NULL
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;

// A step's SQL in the dialect's types.
std::string InDialect(std::string_view sql, const SqlDialect& dialect) {
  const std::pair<std::string_view, std::string_view> words[] = {
      {"{job_id_key}", dialect.job_id_key}, {"{feed_id_key}", dialect.feed_id_key},
      {"{int64}", dialect.int64},           {"{real}", dialect.real},
      {"{boolean}", dialect.boolean},       {"{health_table}", dialect.health_table},
  };
  std::string out;
  for (size_t i = 0; i < sql.size();) {
    bool replaced = false;
    if (sql[i] == '{') {
      for (const auto& [word, value] : words) {
        if (sql.substr(i).starts_with(word)) {
          out += value;
          i += word.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += sql[i++];
  }
  return out;
}

}  // namespace

int LatestSchemaVersion() { return kLatestVersion; }

Result<void> Migrate(SqlSession& session, const SqlDialect& dialect, SchemaVersionRecord& record,
                     std::string_view database) {
  auto fail = [&](const Error& e) {
    return MakeError(e.code, "migrating database " + std::string(database) + ": " + e.message);
  };
  auto txn = SqlTransaction::Begin(session);
  if (!txn) return fail(txn.error());
  if (auto r = record.Lock(session); !r) return fail(r.error());
  auto version = record.Read(session);
  if (!version) return fail(version.error());
  if (*version > kLatestVersion) {
    return MakeError(Errc::kInternal, "database " + std::string(database) + " has schema version " +
                                          std::to_string(*version) +
                                          ", newer than this build knows (" +
                                          std::to_string(kLatestVersion) + "); upgrade Herald");
  }
  if (*version == kLatestVersion) return {};  // rolls back the empty transaction
  for (const Migration& m : kMigrations) {
    if (m.version <= *version) continue;
    const std::string doing = "applying migration " + std::to_string(m.version);
    const std::string sql = InDialect(m.sql, dialect);
    if (auto r = session.ExecScript(sql.c_str(), doing); !r) return fail(r.error());
  }
  if (auto r = record.Write(session, kLatestVersion); !r) return fail(r.error());
  if (auto r = txn->Commit(); !r) return fail(r.error());
  return {};
}

}  // namespace herald::store
