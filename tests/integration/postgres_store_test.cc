#include "store/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/postgres_server.h"

#include "support/job_store_test_suite.h"

namespace herald::store {
namespace {

using test::PostgresServer;

// The database name at the end of a URL made by PostgresServer.
std::string DbName(const std::string& url) { return url.substr(url.rfind('/') + 1); }

// A fresh database on the shared test server, dropped on destruction.
class TestDatabase {
 public:
  TestDatabase() : url_(PostgresServer::Shared().CreateDatabase("store")) {}
  ~TestDatabase() {
    try {
      // FORCE: a test that failed half-way may leave a connection behind.
      PostgresServer::Shared().Exec("postgres",
                                    "DROP DATABASE IF EXISTS " + name() + " WITH (FORCE)");
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  std::string name() const { return DbName(url_); }

 private:
  std::string url_;
};

class PostgresBackend final : public StoreBackend {
 public:
  explicit PostgresBackend(int connections) : connections_(connections) {}

  Result<std::unique_ptr<JobStore>> Open(const StoreTestOptions& options) override {
    PostgresOptions o;
    o.url = db_.url();
    o.event_retention = options.event_retention;
    o.clock = options.clock;
    o.connections = connections_;
    auto store = PostgresStore::Open(o);
    if (!store) return store.error();
    return std::unique_ptr<JobStore>(std::move(*store));
  }

 private:
  TestDatabase db_;
  int connections_;
};

INSTANTIATE_TEST_SUITE_P(
    Postgres, JobStoreTest,
    ::testing::Values(StoreBackendParam{"Postgres",
                                        [] { return std::make_unique<PostgresBackend>(4); }},
                      // One connection makes every concurrent call wait for the same one.
                      StoreBackendParam{"PostgresOneConnection",
                                        [] { return std::make_unique<PostgresBackend>(1); }}),
    StoreBackendName);

// ---------------------------------------------------------------------------
// PostgreSQL specifics: many stores (standing in for many Herald processes)
// on one database, migrations, lost connections, secrets in messages.

// A raw connection to inspect or tamper with a database behind the store.
class RawPg {
 public:
  explicit RawPg(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) ADD_FAILURE() << PQerrorMessage(conn_);
  }
  ~RawPg() { PQfinish(conn_); }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(conn_);
    }
    PQclear(r);
  }
  // The first column of the first row ("" when none).
  std::string Text(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) ADD_FAILURE() << sql << ": " << PQerrorMessage(conn_);
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  PostgresOptions Options(int connections = 4) const {
    PostgresOptions o;
    o.url = db_.url();
    o.clock = &clock_;
    o.connections = connections;
    return o;
  }
  std::unique_ptr<PostgresStore> OpenStore(int connections = 4) {
    return PostgresStore::Open(Options(connections)).value();
  }
  // Ends every session on the test database but the caller's, and waits
  // until they are gone, so the store's next statement meets a dead socket.
  void KillStoreConnections() {
    RawPg admin(PostgresServer::Shared().Url("postgres"));
    const std::string others =
        "FROM pg_stat_activity WHERE datname = '" + db_.name() + "' AND pid <> pg_backend_pid()";
    admin.Text("SELECT count(pg_terminate_backend(pid)) " + others);
    for (int i = 0; i < 500 && admin.Text("SELECT count(*) " + others) != "0"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  static jobs::ProgressUpdate Message(std::string m) {
    jobs::ProgressUpdate u;
    u.message = std::move(m);
    return u;
  }

  TestDatabase db_;
  test::ManualClock clock_{1795359845000};
};

// Two stores stand in for two Herald processes, four threads each, all
// updating one job: seqs and feed ids come out contiguous and in one order.
TEST_F(PostgresStoreTest, TwoStoresUpdatingOneJobKeepSeqsAndFeedIdsContiguous) {
  constexpr int kThreadsPerStore = 4;
  constexpr int kPerThread = 50;
  auto a = OpenStore();
  auto b = OpenStore();
  const int64_t id = a->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (PostgresStore* store : {a.get(), b.get()}) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back([&, store, t] {
        for (int i = 0; i < kPerThread; ++i) {
          auto r = store->UpdateJob(id, Message(std::to_string(t) + ":" + std::to_string(i)));
          if (!r) {
            ADD_FAILURE() << r.error().message;
            ++failures;
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  constexpr int64_t kLast = 1 + 2 * kThreadsPerStore * kPerThread;  // 401
  std::vector<int64_t> seqs;
  for (const StoredEvent& e : b->EventsAfter(id, 0, 10000).value()) seqs.push_back(e.seq);
  std::vector<int64_t> expected;
  for (int64_t s = 1; s <= kLast; ++s) expected.push_back(s);
  EXPECT_EQ(seqs, expected);
  EXPECT_EQ(a->GetJob(id).value().last_seq, kLast);

  // The feed holds exactly these events: ids 1..401, in seq order.
  auto feed = a->FeedAll(0, 10000).value();
  ASSERT_EQ(feed.size(), static_cast<size_t>(kLast));
  for (size_t i = 0; i < feed.size(); ++i) {
    EXPECT_EQ(feed[i].id, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(feed[i].seq, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(b->LatestFeedId().value(), kLast);
}

// Claimers in two stores, four threads each, drain 20 pending audits: every
// audit is claimed exactly once, on its first attempt.
TEST_F(PostgresStoreTest, ConcurrentClaimsFromTwoStoresTakeEachAuditOnce) {
  constexpr int kAudits = 20;
  auto a = OpenStore();
  auto b = OpenStore();
  std::set<int64_t> created;
  for (int i = 0; i < kAudits; ++i) {
    created.insert(
        a->CreateJob(NewJob{"audit", "alice", "", "https://a.example/", 5}).value().job.id);
  }
  a->CreateJob(NewJob{"translation", "alice", "", "", 0}).value();  // never claimed

  std::mutex mu;
  std::vector<int64_t> claimed;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (PostgresStore* store : {a.get(), b.get()}) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, store, t] {
        const std::string worker = "w" + std::to_string(t);
        for (;;) {
          auto claim = store->ClaimAudit(worker, 60000);
          if (!claim) {
            ADD_FAILURE() << claim.error().message;
            ++failures;
            return;
          }
          if (!claim->has_value()) return;
          if ((*claim)->attempt != 1) ++failures;
          std::lock_guard lock(mu);
          claimed.push_back((*claim)->job.id);
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kAudits)) << "each audit once";
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()), created);
  EXPECT_FALSE(b->ClaimAudit("late", 60000).value().has_value());
}

// A reader resuming with "id > last" (the polling bus, /notify/events) while
// two stores write to many jobs and post notices: every batch it reads
// starts right after its cursor and has no hole. With sequence ids,
// transactions committing out of order would show as a skipped id.
TEST_F(PostgresStoreTest, FeedReaderNeverSeesAGapDuringConcurrentWrites) {
  constexpr int kThreadsPerStore = 3;
  constexpr int kPerThread = 60;
  auto a = OpenStore();
  auto b = OpenStore();
  auto reader_store = OpenStore(1);

  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::atomic<int> gaps{0};
  int64_t seen = 0;
  int batches = 0;
  std::thread reader([&] {
    auto poll = [&] {
      auto batch = reader_store->FeedAll(seen, 1000);
      if (!batch) {
        ++failures;
        return;
      }
      if (!batch->empty()) ++batches;
      for (const FeedEntry& e : *batch) {
        if (e.id != seen + 1) {
          ADD_FAILURE() << "after id " << seen << " the reader saw " << e.id;
          ++gaps;
        }
        seen = e.id;
      }
    };
    while (writing.load()) poll();
    poll();  // what the last writers committed
  });

  std::vector<std::thread> writers;
  for (PostgresStore* store : {a.get(), b.get()}) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      writers.emplace_back([&, store, t] {
        // Each thread its own job: no row lock orders these writers, only
        // the feed lock does.
        auto job = store->CreateJob(NewJob{"translation", "u" + std::to_string(t), "", "", 0});
        if (!job) {
          ++failures;
          return;
        }
        for (int i = 0; i < kPerThread; ++i) {
          const bool ok = i % 5 == 4
                              ? static_cast<bool>(store->AddNotice({"*", "tick", "{}"}))
                              : static_cast<bool>(store->UpdateJob(job->job.id, Message("m")));
          if (!ok) ++failures;
        }
      });
    }
  }
  for (std::thread& w : writers) w.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(gaps.load(), 0);
  const int64_t total = 2 * kThreadsPerStore * (1 + kPerThread);
  EXPECT_EQ(seen, total) << "the reader saw every entry";
  EXPECT_EQ(a->LatestFeedId().value(), total);
  EXPECT_GT(batches, 1) << "the reader polled while writes were going on";
}

// Another process (a raw connection, doing what the store does) holds the
// feed lock with an uncommitted entry: the store's next entry waits for it,
// takes the id it frees on rollback, and the id after it on commit. So no
// id is skipped, and none becomes visible before the ones below it.
TEST_F(PostgresStoreTest, FeedWritersWaitForTheFeedLockAndReuseRolledBackIds) {
  auto store = OpenStore();
  const int64_t first = store->AddNotice({"alice", "x", "{}"}).value().id;
  const std::string lock_feed =
      "SELECT pg_advisory_xact_lock(" + std::to_string(0x48524C4446454544LL) + ")";
  const std::string insert =
      "INSERT INTO events (id, notice, audience, event, payload, created_at) VALUES "
      "((SELECT COALESCE(MAX(id), 0) + 1 FROM events), true, '*', 'other', '{}', 0)";
  RawPg other(db_.url());

  for (const char* end : {"ROLLBACK", "COMMIT"}) {
    const int64_t before = store->LatestFeedId().value();
    other.Exec("BEGIN");
    other.Exec(lock_feed);
    other.Exec(insert);
    std::atomic<bool> done{false};
    Result<FeedEntry> added = MakeError(Errc::kInternal, "not run");
    std::thread writer([&] {
      added = store->AddNotice({"alice", "x", "{}"});
      done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(done.load()) << "the store waits for the feed lock (" << end << ")";
    EXPECT_EQ(store->LatestFeedId().value(), before) << "nothing uncommitted is visible";
    other.Exec(end);
    writer.join();
    ASSERT_TRUE(IsOk(added));
    EXPECT_EQ(added->id, std::string(end) == "ROLLBACK" ? first + 1 : first + 3) << end;
  }
  std::vector<int64_t> ids;
  for (const FeedEntry& e : store->FeedAll(0, 100).value()) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{first, first + 1, first + 2, first + 3}));
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailableQuicklyWithoutThePassword) {
  PostgresOptions o;
  const std::string port = std::to_string(test::FreePort());  // nobody listens
  o.url = "postgresql://herald:Sup3r-Secret-pw@127.0.0.1:" + port + "/herald";
  const auto start = std::chrono::steady_clock::now();
  auto store = PostgresStore::Open(o);
  const auto took = std::chrono::steady_clock::now() - start;

  ASSERT_TRUE(IsError(store, Errc::kUnavailable));
  EXPECT_LT(took, std::chrono::seconds(5));
  // What a caller would be told names nothing; the log's detail names the
  // server, without the password.
  EXPECT_EQ(store.error().message, "database unavailable");
  const std::string& detail = store.error().detail;
  EXPECT_EQ(detail.find("Sup3r-Secret-pw"), std::string::npos) << detail;
  EXPECT_EQ(detail.rfind("cannot connect to PostgreSQL at ", 0), 0u) << detail;
  EXPECT_NE(detail.find("127.0.0.1:" + port), std::string::npos) << detail;
  EXPECT_NE(detail.find("herald:***@"), std::string::npos) << detail;
}

TEST_F(PostgresStoreTest, MalformedUrlIsRefusedWithoutThePassword) {
  for (const char* url : {
           // The unencoded '/' makes libpq read "Xyzzy" as the port.
           "postgresql://u:Xyzzy/Plugh@127.0.0.1/herald",
           // The unencoded '@' makes libpq read "Plugh@127.0.0.1" as the host.
           "postgresql://u:Xyzzy@Plugh@127.0.0.1/herald",
       }) {
    PostgresOptions o;
    o.url = url;
    auto store = PostgresStore::Open(o);
    ASSERT_TRUE(IsError(store, Errc::kInternal)) << url;
    EXPECT_EQ(store.error().message.find("Xyzzy"), std::string::npos) << store.error().message;
    EXPECT_EQ(store.error().message.find("Plugh"), std::string::npos) << store.error().message;
  }
}

TEST_F(PostgresStoreTest, RecordsSchemaVersionAndIndexes) {
  auto store = OpenStore();
  RawPg raw(db_.url());
  EXPECT_EQ(raw.Text("SELECT version FROM herald_schema_version"),
            std::to_string(PostgresStore::SchemaVersion()));
  EXPECT_EQ(raw.Text("SELECT count(*) FROM herald_schema_version"), "1");
  for (const char* index : {"jobs_owner_id", "jobs_type_id", "events_audience_id", "jobs_claim"}) {
    EXPECT_EQ(
        raw.Text(std::string("SELECT indexname FROM pg_indexes WHERE indexname = '") + index + "'"),
        index);
  }
}

TEST_F(PostgresStoreTest, ReopenAppliesNoStepTwice) {
  {
    auto store = OpenStore();
    store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value();
  }
  // Re-running step 1 would fail on CREATE TABLE jobs, so success shows it
  // was skipped.
  auto store = PostgresStore::Open(Options());
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ((*store)->ListJobs({}).value().size(), 1u);
  RawPg raw(db_.url());
  EXPECT_EQ(raw.Text("SELECT count(*) FROM herald_schema_version"), "1");
}

// Three processes starting together on an empty database: the advisory lock
// lets one migrate while the others wait, then find the schema current.
TEST_F(PostgresStoreTest, ConcurrentOpensOnANewDatabaseAllSucceed) {
  std::vector<std::optional<Result<std::unique_ptr<PostgresStore>>>> opened(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < opened.size(); ++i) {
    threads.emplace_back([&, i] { opened[i].emplace(PostgresStore::Open(Options(2))); });
  }
  for (std::thread& t : threads) t.join();
  for (auto& store : opened) {
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE(IsOk(*store));
    EXPECT_TRUE(IsOk((**store)->CreateJob(NewJob{"translation", "alice", "", "", 0})));
  }
  RawPg raw(db_.url());
  EXPECT_EQ(raw.Text("SELECT count(*) FROM herald_schema_version"), "1");
  EXPECT_EQ(raw.Text("SELECT count(*) FROM jobs"), "3");
}

TEST_F(PostgresStoreTest, RefusesANewerSchemaWithoutThePassword) {
  ASSERT_TRUE(IsOk(PostgresStore::Open(Options())));
  RawPg(db_.url()).Exec("UPDATE herald_schema_version SET version = 999");

  // Trust authentication ignores the password, so the server is reached.
  PostgresOptions o = Options();
  o.url.replace(o.url.find("herald@"), 7, "herald:Sup3r-Secret-pw@");
  auto store = PostgresStore::Open(o);
  ASSERT_TRUE(IsError(store, Errc::kInternal));
  const std::string& message = store.error().message;
  EXPECT_NE(message.find("999"), std::string::npos) << message;
  EXPECT_NE(message.find(db_.name()), std::string::npos) << message;
  EXPECT_EQ(message.find("Sup3r-Secret-pw"), std::string::npos) << message;
}

TEST_F(PostgresStoreTest, RefusesBadOptions) {
  PostgresOptions o = Options();
  o.event_retention = 0;
  EXPECT_FALSE(PostgresStore::Open(o));
  o = Options();
  o.connections = 0;
  EXPECT_FALSE(PostgresStore::Open(o));
  o = Options();
  o.url.clear();
  EXPECT_FALSE(PostgresStore::Open(o));
}

// The server dropped the store's connections (restart, failover, an idle
// timeout in a proxy): reads reconnect and retry at once; a write that meets
// the dead socket is not retried (it might have committed) and fails with
// kUnavailable; the next write reconnects first and succeeds.
TEST_F(PostgresStoreTest, LostConnectionRetriesReadsAndFailsWritesOnce) {
  auto store = OpenStore(/*connections=*/1);
  const int64_t id = store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;

  KillStoreConnections();
  EXPECT_TRUE(IsOk(store->GetJob(id)));
  KillStoreConnections();
  EXPECT_TRUE(IsOk(store->Ping()));

  KillStoreConnections();
  EXPECT_TRUE(IsError(store->UpdateJob(id, Message("lost")), Errc::kUnavailable));
  auto applied = store->UpdateJob(id, Message("again"));
  ASSERT_TRUE(IsOk(applied));
  EXPECT_EQ(applied->event.seq, 2) << "the failed write wrote nothing";
}

// Another process holding the job's row lock past lock_timeout makes writes
// to that job unavailable (503), while reads carry on (MVCC).
TEST_F(PostgresStoreTest, LockedJobIsUnavailableForWrites) {
  PostgresOptions o = Options();
  o.lock_timeout = std::chrono::milliseconds(100);
  auto store = PostgresStore::Open(o).value();
  const int64_t id = store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;

  RawPg other(db_.url());
  other.Exec("BEGIN");
  other.Exec("SELECT id FROM jobs WHERE id = " + std::to_string(id) + " FOR UPDATE");
  EXPECT_TRUE(IsError(store->UpdateJob(id, Message("x")), Errc::kUnavailable));
  EXPECT_TRUE(IsOk(store->GetJob(id)));
  EXPECT_TRUE(IsOk(store->Ping()));
  EXPECT_TRUE(IsOk(store->CreateJob(NewJob{"translation", "bob", "", "", 0})));
  other.Exec("ROLLBACK");

  auto applied = store->UpdateJob(id, Message("x"));
  ASSERT_TRUE(IsOk(applied));
  EXPECT_EQ(applied->event.seq, 2);
}

// A text parameter stops at a NUL and PostgreSQL's TEXT cannot hold one:
// refused, rather than stored cut short.
TEST_F(PostgresStoreTest, TextWithNulIsRefused) {
  auto store = OpenStore();
  const int64_t id = store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;
  EXPECT_TRUE(IsError(store->UpdateJob(id, Message(std::string("a\0b", 3))), Errc::kBadRequest));
  EXPECT_EQ(store->GetJob(id).value().last_seq, 1);
}

// A batch that brings a job as many events as it retains: the prune before
// the append spares the job's newest event (the row holding MAX(id)), so
// MAX(id) + 1 never hands out an id a reader has already gone past.
TEST_F(PostgresStoreTest, BatchOfRetentionEventsNeverReusesAFeedId) {
  constexpr int kRetention = 3;
  PostgresOptions o = Options();
  o.event_retention = kRetention;
  auto store = PostgresStore::Open(o).value();
  const FeedEntry created =
      store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().feed;

  std::vector<JobUpdate> batch(kRetention);
  for (JobUpdate& u : batch) {
    u.job_id = created.job_id;
    u.update = Message("batched");
  }
  auto outcomes = store->UpdateJobs(batch).value();
  for (const UpdateOutcome& outcome : outcomes) {
    ASSERT_TRUE(IsOk(outcome));
    EXPECT_GT(outcome->feed.id, created.id) << "a feed id was issued twice";
  }
  // A reader that saw the creation gets every event of the batch.
  auto feed = store->FeedAll(created.id, 100).value();
  ASSERT_EQ(feed.size(), static_cast<size_t>(kRetention));
  for (size_t i = 0; i < feed.size(); ++i) EXPECT_EQ(feed[i].seq, static_cast<int64_t>(i) + 2);
}

}  // namespace
}  // namespace herald::store
