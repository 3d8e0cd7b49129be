// The JobStore conformance tests; see tests/support/job_store_test_suite.h for how a
// backend runs them.

#include "support/job_store_test_suite.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include "common/clock.h"
#include "common/errors.h"
#include "jobs/job.h"
#include "store/job_store.h"

namespace herald::store {

// ---------------------------------------------------------------------------
// Creating jobs.

TEST_P(JobStoreTest, CreateRecordsPendingEventOne) {
  Applied a = Create("alice", "translation", "Docs");

  EXPECT_GT(a.job.id, 0);
  EXPECT_EQ(a.job.status, jobs::JobStatus::kPending);
  EXPECT_EQ(a.job.progress, 0);
  EXPECT_EQ(a.job.last_seq, 1);
  EXPECT_EQ(a.job.created_at_ms, kT0);
  EXPECT_EQ(a.job.updated_at_ms, kT0);
  EXPECT_EQ(a.event.job_id, a.job.id);
  EXPECT_EQ(a.event.seq, 1);
  EXPECT_EQ(a.event.created_at_ms, kT0);
  EXPECT_EQ(a.event.payload, jobs::BuildPayload(a.job));

  boost::json::object p = Json(a.event.payload);
  EXPECT_EQ(p.at("job_id").as_int64(), a.job.id);
  EXPECT_EQ(p.at("type").as_string(), "translation");
  EXPECT_EQ(p.at("status").as_string(), "pending");
  EXPECT_EQ(p.at("progress").as_int64(), 0);
  EXPECT_EQ(p.at("seq").as_int64(), 1);
  EXPECT_EQ(p.at("updated_at").as_string(), "2026-11-22T15:04:05Z");
  EXPECT_FALSE(p.contains("audit_id"));

  EXPECT_GT(a.feed.id, 0);
  EXPECT_FALSE(a.feed.notice);
  EXPECT_EQ(a.feed.job_id, a.job.id);
  EXPECT_EQ(a.feed.seq, 1);
  EXPECT_EQ(a.feed.audience, "alice");
  EXPECT_EQ(a.feed.event, "job");
  EXPECT_EQ(a.feed.data, a.event.payload);

  auto events = store_->EventsAfter(a.job.id, 0, 100).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq, 1);
  EXPECT_EQ(events[0].payload, a.event.payload);
  EXPECT_EQ(events[0].created_at_ms, kT0);

  jobs::Job stored = store_->GetJob(a.job.id).value();
  EXPECT_EQ(stored.owner, "alice");
  EXPECT_EQ(stored.title, "Docs");
  EXPECT_EQ(stored.last_seq, 1);
  EXPECT_EQ(jobs::BuildPayload(stored), a.event.payload);
}

TEST_P(JobStoreTest, CreateAuditUsesAuditNamesAndKeepsUrl) {
  Applied a = store_->CreateJob(NewJob{"audit", "alice", "", "https://example.com", 20}).value();

  boost::json::object p = Json(a.event.payload);
  EXPECT_EQ(p.at("audit_id").as_int64(), a.job.id);
  EXPECT_EQ(p.at("url").as_string(), "https://example.com");
  EXPECT_FALSE(p.contains("job_id"));
  EXPECT_EQ(a.feed.event, "audit");

  jobs::Job stored = store_->GetJob(a.job.id).value();
  EXPECT_TRUE(stored.is_audit());
  EXPECT_EQ(stored.url, "https://example.com");
  EXPECT_EQ(stored.max_pages, 20);
}

TEST_P(JobStoreTest, CreateRefusesEmptyType) {
  EXPECT_TRUE(IsError(store_->CreateJob(NewJob{"", "alice", "", "", 0}), Errc::kBadRequest));
  EXPECT_EQ(store_->LatestFeedId().value(), 0);
}

TEST_P(JobStoreTest, JobIdsIncrease) {
  int64_t a = Create("alice").job.id;
  int64_t b = Create("bob").job.id;
  EXPECT_GT(b, a);
}

// ---------------------------------------------------------------------------
// Updating jobs.

TEST_P(JobStoreTest, UpdatesAreNumberedFromTwo) {
  int64_t id = Create("alice").job.id;
  int64_t other = Create("bob").job.id;

  EXPECT_EQ(Update(id, Progress(10)).event.seq, 2);
  EXPECT_EQ(Update(id, Progress(20)).event.seq, 3);
  Applied third = Update(id, Message("three"));
  EXPECT_EQ(third.event.seq, 4);
  EXPECT_EQ(third.job.last_seq, 4);
  EXPECT_EQ(third.feed.seq, 4);
  EXPECT_EQ(Json(third.event.payload).at("seq").as_int64(), 4);
  // Numbering is per job.
  EXPECT_EQ(Update(other, Progress(5)).event.seq, 2);

  EXPECT_EQ(Seqs(id), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Seqs(id, 1), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(Seqs(id, 2, 1), (std::vector<int64_t>{3}));
  EXPECT_TRUE(Seqs(id, 4).empty());
  EXPECT_EQ(store_->GetJob(id).value().last_seq, 4);
}

TEST_P(JobStoreTest, UpdatePayloadCarriesEveryField) {
  int64_t id = Create("alice", "translation", "Docs").job.id;
  clock_.Advance(1500);

  jobs::ProgressUpdate u;
  u.status = jobs::JobStatus::kRunning;
  u.progress = 40;
  u.message = "Größe ✓\nline two data: x";
  u.step = "analyze";
  u.total_pages = 12;
  u.geo_score = 78.5;
  u.critical_issues = 1;
  u.high_issues = 3;
  u.medium_issues = 5;
  u.low_issues = 2;
  u.data_json = R"({"k":"v"})";
  Applied a = Update(id, u);

  EXPECT_NE(a.event.payload.find("Größe ✓"), std::string::npos) << "non-ASCII is written raw";
  boost::json::object p = Json(a.event.payload);
  EXPECT_EQ(p.at("status").as_string(), "running");
  EXPECT_EQ(p.at("progress").as_int64(), 40);
  EXPECT_EQ(p.at("message").as_string(), "Größe ✓\nline two data: x");
  EXPECT_EQ(p.at("step").as_string(), "analyze");
  EXPECT_EQ(p.at("total_pages").as_int64(), 12);
  EXPECT_DOUBLE_EQ(p.at("geo_score").as_double(), 78.5);
  EXPECT_EQ(p.at("critical_issues").as_int64(), 1);
  EXPECT_EQ(p.at("high_issues").as_int64(), 3);
  EXPECT_EQ(p.at("medium_issues").as_int64(), 5);
  EXPECT_EQ(p.at("low_issues").as_int64(), 2);
  EXPECT_EQ(p.at("data").as_object().at("k").as_string(), "v");
  EXPECT_EQ(p.at("seq").as_int64(), 2);
  EXPECT_EQ(p.at("updated_at").as_string(), "2026-11-22T15:04:06Z");
  EXPECT_EQ(a.event.created_at_ms, kT0 + 1500);

  jobs::Job stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.created_at_ms, kT0);
  EXPECT_EQ(stored.updated_at_ms, kT0 + 1500);
  EXPECT_EQ(stored.message, u.message);
  EXPECT_EQ(stored.geo_score, 78.5);
  EXPECT_EQ(stored.data_json, u.data_json);
  EXPECT_EQ(jobs::BuildPayload(stored), a.event.payload);
  EXPECT_EQ(store_->EventsAfter(id, 1, 10).value().at(0).payload, a.event.payload);
}

TEST_P(JobStoreTest, PartialUpdateKeepsEarlierFields) {
  int64_t id = Create("alice").job.id;
  jobs::ProgressUpdate u = Progress(30);
  u.step = "crawl";
  u.total_pages = 7;
  Update(id, u);
  Update(id, Message("halfway"));

  jobs::Job stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.progress, 30);
  EXPECT_EQ(stored.step, "crawl");
  EXPECT_EQ(stored.total_pages, 7);
  EXPECT_EQ(stored.message, "halfway");
  EXPECT_EQ(stored.status, jobs::JobStatus::kRunning);
}

TEST_P(JobStoreTest, ProgressDecreaseConflictsAndWritesNothing) {
  int64_t id = Create("alice").job.id;
  Update(id, Progress(50));
  int64_t feed_before = store_->LatestFeedId().value();
  clock_.Advance(1000);

  EXPECT_TRUE(IsError(store_->UpdateJob(id, Progress(30)), Errc::kConflict));

  jobs::Job stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.progress, 50);
  EXPECT_EQ(stored.last_seq, 2);
  EXPECT_EQ(stored.updated_at_ms, kT0);
  EXPECT_EQ(Seqs(id), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(store_->LatestFeedId().value(), feed_before);
  // The next accepted update takes the seq the refused one did not use.
  EXPECT_EQ(Update(id, Progress(60)).event.seq, 3);
}

TEST_P(JobStoreTest, OutOfRangeProgressIsBadRequestAndWritesNothing) {
  int64_t id = Create("alice").job.id;
  EXPECT_TRUE(IsError(store_->UpdateJob(id, Progress(101)), Errc::kBadRequest));
  EXPECT_TRUE(IsError(store_->UpdateJob(id, Progress(-1)), Errc::kBadRequest));
  EXPECT_EQ(store_->GetJob(id).value().last_seq, 1);
  EXPECT_EQ(Seqs(id), (std::vector<int64_t>{1}));
}

TEST_P(JobStoreTest, StatusCannotGoBack) {
  int64_t id = Create("alice").job.id;
  Update(id, Status(jobs::JobStatus::kRunning));
  EXPECT_TRUE(IsError(store_->UpdateJob(id, Status(jobs::JobStatus::kPending)), Errc::kConflict));
  EXPECT_EQ(store_->GetJob(id).value().status, jobs::JobStatus::kRunning);
}

TEST_P(JobStoreTest, CompletedSetsProgressTo100) {
  int64_t id = Create("alice").job.id;
  Update(id, Progress(30));
  Applied done = Update(id, Status(jobs::JobStatus::kCompleted));

  EXPECT_EQ(done.job.progress, 100);
  boost::json::object p = Json(done.event.payload);
  EXPECT_EQ(p.at("status").as_string(), "completed");
  EXPECT_EQ(p.at("progress").as_int64(), 100);
  jobs::Job stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.status, jobs::JobStatus::kCompleted);
  EXPECT_EQ(stored.progress, 100);
}

TEST_P(JobStoreTest, TerminalJobCannotChange) {
  int64_t done = Create("alice").job.id;
  Update(done, Status(jobs::JobStatus::kCompleted));
  EXPECT_TRUE(IsError(store_->UpdateJob(done, Message("late")), Errc::kConflict));
  EXPECT_EQ(store_->GetJob(done).value().last_seq, 2);

  int64_t failed = Create("alice").job.id;
  jobs::ProgressUpdate fail = Status(jobs::JobStatus::kFailed);
  fail.error_message = "DNS lookup failed";
  Applied f = Update(failed, fail);
  boost::json::object p = Json(f.event.payload);
  EXPECT_EQ(p.at("error_message").as_string(), "DNS lookup failed");
  EXPECT_EQ(p.at("error").as_string(), "DNS lookup failed");
  EXPECT_TRUE(IsError(store_->UpdateJob(failed, Progress(100)), Errc::kConflict));
  EXPECT_EQ(Seqs(failed), (std::vector<int64_t>{1, 2}));
}

TEST_P(JobStoreTest, FailedWithoutReasonSaysFailed) {
  int64_t id = Create("alice").job.id;
  Applied f = Update(id, Status(jobs::JobStatus::kFailed));
  EXPECT_EQ(Json(f.event.payload).at("error_message").as_string(), "failed");
  EXPECT_EQ(store_->GetJob(id).value().error_message, "failed");
}

TEST_P(JobStoreTest, UnknownJobIsNotFound) {
  EXPECT_TRUE(IsError(store_->GetJob(424242), Errc::kNotFound));
  auto r = store_->UpdateJob(424242, Progress(10));
  ASSERT_TRUE(IsError(r, Errc::kNotFound));
  EXPECT_EQ(r.error().message, "job 424242 not found");
  EXPECT_TRUE(Seqs(424242).empty());
}

TEST_P(JobStoreTest, RetentionKeepsTheNewestEvents) {
  Reopen(/*event_retention=*/5);
  int64_t id = Create("alice").job.id;
  int64_t untouched = Create("bob").job.id;
  for (int i = 1; i <= 10; ++i) Update(id, Progress(i * 5));  // seq 2..11

  // The newest `event_retention` events survive: 11 - 5 = 6 and older go.
  EXPECT_EQ(Seqs(id), Range(7, 11));
  EXPECT_EQ(Seqs(id, 8), Range(9, 11));
  EXPECT_EQ(Seqs(untouched), (std::vector<int64_t>{1}));

  // Pruned events leave the feed too; the untouched job's event stays.
  std::vector<int64_t> feed_seqs;
  for (const FeedEntry& e : store_->FeedAll(0, 1000).value()) {
    if (e.job_id == id) feed_seqs.push_back(e.seq);
  }
  EXPECT_EQ(feed_seqs, Range(7, 11));
  EXPECT_EQ(store_->GetJob(id).value().last_seq, 11);
}

TEST_P(JobStoreTest, RetentionOfOneKeepsTheLatestEvent) {
  Reopen(/*event_retention=*/1);
  int64_t id = Create("alice").job.id;
  Update(id, Progress(10));
  Update(id, Status(jobs::JobStatus::kCompleted));
  EXPECT_EQ(Seqs(id), (std::vector<int64_t>{3}));
  EXPECT_EQ(Json(store_->EventsAfter(id, 0, 10).value().at(0).payload).at("status").as_string(),
            "completed");
}

// ---------------------------------------------------------------------------
// Listing jobs.

TEST_P(JobStoreTest, ListJobsNewestFirstWithFilters) {
  int64_t j1 = Create("alice", "translation").job.id;
  int64_t j2 = Create("bob", "audit").job.id;
  int64_t j3 = Create("alice", "audit").job.id;
  int64_t j4 = Create("alice", "translation").job.id;

  EXPECT_EQ(Ids({}), (std::vector<int64_t>{j4, j3, j2, j1}));
  EXPECT_EQ(Ids({.owner = "alice"}), (std::vector<int64_t>{j4, j3, j1}));
  EXPECT_EQ(Ids({.owner = "carol"}), (std::vector<int64_t>{}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .audits_only = true}), (std::vector<int64_t>{j3, j2}));
  EXPECT_EQ(Ids({.owner = "alice", .audits_only = true}), (std::vector<int64_t>{j3}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .exclude_audits = true}), (std::vector<int64_t>{j4, j1}));
  EXPECT_EQ(Ids({.owner = "bob", .exclude_audits = true}), (std::vector<int64_t>{}));

  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = 2}), (std::vector<int64_t>{j4, j3}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = 2, .offset = 2}), (std::vector<int64_t>{j2, j1}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = 2, .offset = 10}), (std::vector<int64_t>{}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = 2, .offset = -3}), (std::vector<int64_t>{j4, j3}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = 0}), (std::vector<int64_t>{j4}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .limit = -7}), (std::vector<int64_t>{j4}));
}

TEST_P(JobStoreTest, ListJobsReturnsCurrentState) {
  int64_t id = Create("alice").job.id;
  Update(id, Progress(70));
  auto jobs = store_->ListJobs({}).value();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].progress, 70);
  EXPECT_EQ(jobs[0].last_seq, 2);
  EXPECT_EQ(jobs[0].owner, "alice");
}

// The API pages by 500 at most and asks for one more to know whether a
// next page exists.
TEST_P(JobStoreTest, ListJobsClampsLimitTo501) {
  for (int i = 0; i < 505; ++i) Create("alice");
  EXPECT_EQ(store_->ListJobs({.owner = kAnyOwner, .limit = 1000}).value().size(), 501u);
  EXPECT_EQ(store_->ListJobs({.owner = kAnyOwner, .limit = 1000, .offset = 500}).value().size(),
            5u);
}

TEST_P(JobStoreTest, ListJobsSearchesUrlTitleTypeAndIdCaseInsensitively) {
  int64_t translation = Create("alice", "translation", "Spanish catalogue").job.id;
  int64_t audit =
      store_->CreateJob(NewJob{"audit", "alice", "", "https://Example.com/shop", 5}).value().job.id;
  int64_t import = Create("alice", "bulk_import", "100% of users_x").job.id;
  int64_t other = Create("bob", "translation", "Spanish menu").job.id;

  EXPECT_EQ(Ids({.owner = "alice", .search = "spanish"}), (std::vector<int64_t>{translation}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "SPANISH"}),
            (std::vector<int64_t>{other, translation}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "example.COM/sh"}), (std::vector<int64_t>{audit}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "bulk"}), (std::vector<int64_t>{import}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = std::to_string(audit)}),
            (std::vector<int64_t>{audit}));
  // LIKE's wildcards in the text match only themselves.
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "100%"}), (std::vector<int64_t>{import}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "%"}), (std::vector<int64_t>{import}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "s_x"}), (std::vector<int64_t>{import}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "_"}), (std::vector<int64_t>{import}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "\\"}), (std::vector<int64_t>{}));
  EXPECT_EQ(Ids({.owner = kAnyOwner, .search = "nothing like it"}), (std::vector<int64_t>{}));
}

TEST_P(JobStoreTest, ListJobsFiltersByStatus) {
  int64_t pending = Create("alice").job.id;
  int64_t running = Create("alice").job.id;
  int64_t done = Create("alice").job.id;
  Update(running, Progress(10));
  Update(done, Status(jobs::JobStatus::kCompleted));
  EXPECT_EQ(Ids({.owner = "alice", .status = jobs::JobStatus::kPending}),
            (std::vector<int64_t>{pending}));
  EXPECT_EQ(Ids({.owner = "alice", .status = jobs::JobStatus::kRunning}),
            (std::vector<int64_t>{running}));
  EXPECT_EQ(Ids({.owner = "alice", .status = jobs::JobStatus::kCompleted}),
            (std::vector<int64_t>{done}));
  EXPECT_EQ(Ids({.owner = "alice", .search = "translation", .status = jobs::JobStatus::kFailed}),
            (std::vector<int64_t>{}));
}

// ---------------------------------------------------------------------------
// Notices and the feed.

TEST_P(JobStoreTest, NoticeCarriesTypeDataAndTime) {
  FeedEntry n = store_->AddNotice({"alice", "i18n_debug", R"({"x":1,"s":"é"})"}).value();
  EXPECT_GT(n.id, 0);
  EXPECT_TRUE(n.notice);
  EXPECT_EQ(n.job_id, 0);
  EXPECT_EQ(n.audience, "alice");
  EXPECT_EQ(n.event, "i18n_debug");
  boost::json::object p = Json(n.data);
  EXPECT_EQ(p.at("type").as_string(), "i18n_debug");
  EXPECT_EQ(p.at("data").as_object().at("x").as_int64(), 1);
  EXPECT_EQ(p.at("data").as_object().at("s").as_string(), "é");
  EXPECT_EQ(p.at("created_at").as_string(), "2026-11-22T15:04:05Z");
  EXPECT_EQ(store_->LatestFeedId().value(), n.id);

  // Any JSON value, not only objects.
  FeedEntry s = store_->AddNotice({"*", "motd", R"("hello")"}).value();
  EXPECT_EQ(Json(s.data).at("data").as_string(), "hello");
}

TEST_P(JobStoreTest, NoticeWithInvalidJsonIsBadRequestAndWritesNothing) {
  EXPECT_TRUE(IsError(store_->AddNotice({"alice", "x", "{not json"}), Errc::kBadRequest));
  EXPECT_EQ(store_->LatestFeedId().value(), 0);
}

TEST_P(JobStoreTest, FeedShowsUsersTheirJobsAndTheirNotices) {
  Applied a1 = Create("alice");
  Applied b1 = Create("bob");
  Applied a2 = Update(a1.job.id, Progress(10));
  Applied b2 = Update(b1.job.id, Progress(10));
  FeedEntry to_alice = store_->AddNotice({"alice", "i18n_debug", "{}"}).value();
  FeedEntry to_bob = store_->AddNotice({"bob", "i18n_debug", "{}"}).value();
  FeedEntry to_all = store_->AddNotice({"*", "maintenance", "{}"}).value();

  auto ids = [](const std::vector<FeedEntry>& entries) {
    std::vector<int64_t> out;
    for (const FeedEntry& e : entries) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(ids(store_->FeedFor("alice", false, 0, 100).value()),
            (std::vector<int64_t>{a1.feed.id, a2.feed.id, to_alice.id, to_all.id}));
  EXPECT_EQ(ids(store_->FeedFor("bob", false, 0, 100).value()),
            (std::vector<int64_t>{b1.feed.id, b2.feed.id, to_bob.id, to_all.id}));
  EXPECT_EQ(ids(store_->FeedFor("carol", false, 0, 100).value()),
            (std::vector<int64_t>{to_all.id}));
  // Admins see every job but only notices addressed to them or to everyone.
  EXPECT_EQ(ids(store_->FeedFor("root", true, 0, 100).value()),
            (std::vector<int64_t>{a1.feed.id, b1.feed.id, a2.feed.id, b2.feed.id, to_all.id}));

  // Resuming and paging.
  EXPECT_EQ(ids(store_->FeedFor("alice", false, a2.feed.id, 100).value()),
            (std::vector<int64_t>{to_alice.id, to_all.id}));
  EXPECT_EQ(ids(store_->FeedFor("alice", false, 0, 1).value()), (std::vector<int64_t>{a1.feed.id}));
  EXPECT_TRUE(store_->FeedFor("alice", false, to_all.id, 100).value().empty());

  // Entries read back equal the ones the writes returned.
  auto alice = store_->FeedFor("alice", false, 0, 100).value();
  ASSERT_EQ(alice.size(), 4u);
  EXPECT_EQ(alice[1].data, a2.event.payload);
  EXPECT_EQ(alice[1].event, "job");
  EXPECT_EQ(alice[1].job_id, a1.job.id);
  EXPECT_EQ(alice[1].seq, 2);
  EXPECT_FALSE(alice[1].notice);
  EXPECT_EQ(alice[2].data, to_alice.data);
  EXPECT_EQ(alice[2].event, "i18n_debug");
  EXPECT_TRUE(alice[2].notice);
  EXPECT_EQ(alice[3].audience, "*");
}

TEST_P(JobStoreTest, FeedAllReturnsEveryEntryInOrder) {
  EXPECT_EQ(store_->LatestFeedId().value(), 0);
  EXPECT_TRUE(store_->FeedAll(0, 100).value().empty());

  Applied a = Create("alice", "audit");
  Update(a.job.id, Progress(5));
  store_->AddNotice({"bob", "hello", "{}"}).value();
  Create("bob");

  auto all = store_->FeedAll(0, 100).value();
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].id, all[i].id);
  EXPECT_EQ(all[0].event, "audit");
  EXPECT_EQ(all[2].event, "hello");
  EXPECT_EQ(all[3].event, "job");
  EXPECT_EQ(store_->LatestFeedId().value(), all.back().id);
  EXPECT_TRUE(store_->FeedAll(all.back().id, 100).value().empty());

  auto page = store_->FeedAll(all[0].id, 2).value();
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, all[1].id);
  EXPECT_EQ(page[1].id, all[2].id);
}

// ---------------------------------------------------------------------------
// Durability and health.

TEST_P(JobStoreTest, ReopenKeepsJobsEventsAndNumbering) {
  Applied a = Create("alice", "translation", "Docs");
  Applied u = Update(a.job.id, Progress(40));
  store_->AddNotice({"alice", "n", "{}"}).value();
  int64_t latest = store_->LatestFeedId().value();

  Reopen();

  jobs::Job stored = store_->GetJob(a.job.id).value();
  EXPECT_EQ(stored.title, "Docs");
  EXPECT_EQ(stored.progress, 40);
  EXPECT_EQ(stored.last_seq, 2);
  auto events = store_->EventsAfter(a.job.id, 0, 10).value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload, u.event.payload);
  EXPECT_EQ(store_->LatestFeedId().value(), latest);

  EXPECT_EQ(Update(a.job.id, Progress(50)).event.seq, 3);
  Applied b = Create("bob");
  EXPECT_GT(b.job.id, a.job.id);
  EXPECT_GT(b.feed.id, latest);
}

TEST_P(JobStoreTest, PingSucceeds) { EXPECT_TRUE(IsOk(store_->Ping())); }

// ---------------------------------------------------------------------------
// Concurrency.

// Four writers on one job: every update gets its own seq, with no gaps, and
// no writer's read-modify-write loses another's change. One writer raises
// progress; the others only send messages, so a lost update would show as
// progress going down in the stored payloads. A reader polls meanwhile and
// must never see a gap.
TEST_P(JobStoreTest, ConcurrentUpdatesGetConsecutiveSeqs) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  const int64_t id = Create("alice").job.id;

  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        jobs::ProgressUpdate u;
        u.message = std::to_string(t) + ":" + std::to_string(i);
        if (t == 0) u.progress = i + 1;
        if (!store_->UpdateJob(id, u)) ++failures;
      }
    });
  }
  std::thread reader([&] {
    while (writing.load()) {
      auto events = store_->EventsAfter(id, 0, 10000);
      auto job = store_->GetJob(id);
      if (!events || !job) {
        ++failures;
        continue;
      }
      for (size_t i = 0; i < events->size(); ++i) {
        if ((*events)[i].seq != static_cast<int64_t>(i) + 1) ++failures;
      }
      if (job->last_seq < static_cast<int64_t>(events->size())) ++failures;
    }
  });
  for (std::thread& w : writers) w.join();
  writing = false;
  reader.join();
  EXPECT_EQ(failures.load(), 0);

  auto events = store_->EventsAfter(id, 1, 10000).value();
  std::vector<int64_t> seqs;
  int64_t last_progress = 0;
  std::vector<int> next_of_thread(kThreads, 0);
  for (const StoredEvent& e : events) {
    seqs.push_back(e.seq);
    boost::json::object p = Json(e.payload);
    EXPECT_EQ(p.at("seq").as_int64(), e.seq);
    int64_t progress = p.at("progress").as_int64();
    EXPECT_GE(progress, last_progress) << "at seq " << e.seq;
    last_progress = progress;
    // Each thread's updates land in the order it sent them.
    std::string msg(p.at("message").as_string());
    int t = std::stoi(msg.substr(0, msg.find(':')));
    int i = std::stoi(msg.substr(msg.find(':') + 1));
    EXPECT_EQ(i, next_of_thread[t]) << "thread " << t;
    next_of_thread[t] = i + 1;
  }
  EXPECT_EQ(seqs, Range(2, 1 + kThreads * kPerThread));
  jobs::Job stored = store_->GetJob(id).value();
  EXPECT_EQ(stored.last_seq, 1 + kThreads * kPerThread);
  EXPECT_EQ(stored.progress, kPerThread);

  // Feed order and seq order agree for the job.
  int64_t prev_seq = 0;
  for (const FeedEntry& e : store_->FeedAll(0, 10000).value()) {
    EXPECT_EQ(e.seq, prev_seq + 1);
    prev_seq = e.seq;
  }
}

TEST_P(JobStoreTest, ConcurrentCreatesGetDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto a = store_->CreateJob(NewJob{"translation", "user" + std::to_string(t), "", "", 0});
        if (!a || a->event.seq != 1) {
          ++failures;
          continue;
        }
        ids[t].push_back(a->job.id);
        if (!store_->GetJob(a->job.id)) ++failures;  // readable at once
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(store_->ListJobs({.owner = kAnyOwner, .limit = 500}).value().size(),
            static_cast<size_t>(kThreads * kPerThread));
}

// ---------------------------------------------------------------------------
// The audit work queue.

TEST_P(JobStoreTest, ClaimAuditTakesPendingAuditsOldestFirstAndOnlyOnce) {
  EXPECT_FALSE(store_->ClaimAudit("w1", 30000).value().has_value()) << "empty queue";
  int64_t generic = Create("alice").job.id;
  int64_t a =
      store_->CreateJob(NewJob{"audit", "alice", "", "https://a.example/", 5}).value().job.id;
  int64_t b = store_->CreateJob(NewJob{"audit", "bob", "", "https://b.example/", 5}).value().job.id;
  auto first = store_->ClaimAudit("w1", 30000).value();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->job.id, a);
  EXPECT_EQ(first->attempt, 1);
  // Leased, whether or not the worker has said "running" yet.
  auto second = store_->ClaimAudit("w2", 30000).value();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job.id, b);
  jobs::ProgressUpdate running;
  running.status = jobs::JobStatus::kRunning;
  ASSERT_TRUE(IsOk(store_->UpdateJob(b, running)));
  EXPECT_FALSE(store_->ClaimAudit("w3", 30000).value().has_value())
      << "generic job " << generic << " is never claimed; running audits are leased";
}

TEST_P(JobStoreTest, AnExpiredLeaseLetsAnotherWorkerTakeOver) {
  int64_t a =
      store_->CreateJob(NewJob{"audit", "alice", "", "https://a.example/", 5}).value().job.id;
  ASSERT_TRUE(store_->ClaimAudit("w1", 1000).value().has_value());
  jobs::ProgressUpdate running;
  running.status = jobs::JobStatus::kRunning;
  ASSERT_TRUE(IsOk(store_->UpdateJob(a, running)));
  EXPECT_TRUE(store_->RenewLease(a, "w1", 1000).value());
  clock_.Advance(500);
  EXPECT_FALSE(store_->ClaimAudit("w2", 1000).value().has_value()) << "lease still held";
  clock_.Advance(1000);  // w1 died: no renewal
  auto taken = store_->ClaimAudit("w2", 1000).value();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->job.id, a);
  EXPECT_EQ(taken->attempt, 2);
  EXPECT_FALSE(store_->RenewLease(a, "w1", 1000).value()) << "w1 lost the lease";
  EXPECT_TRUE(store_->RenewLease(a, "w2", 1000).value());
}

TEST_P(JobStoreTest, RenewLeaseFailsOnceTheAuditEnded) {
  int64_t a =
      store_->CreateJob(NewJob{"audit", "alice", "", "https://a.example/", 5}).value().job.id;
  ASSERT_TRUE(store_->ClaimAudit("w1", 30000).value().has_value());
  jobs::ProgressUpdate cancel;
  cancel.status = jobs::JobStatus::kFailed;
  cancel.error_message = "cancelled";
  ASSERT_TRUE(IsOk(store_->UpdateJob(a, cancel)));
  EXPECT_FALSE(store_->RenewLease(a, "w1", 30000).value());
  clock_.Advance(60000);
  EXPECT_FALSE(store_->ClaimAudit("w2", 30000).value().has_value()) << "terminal audits stay done";
}

// ---------------------------------------------------------------------------
// Stream tickets.

TEST_P(JobStoreTest, ATicketIsRedeemedOnceWithWhatItWasIssuedFor) {
  ASSERT_TRUE(IsOk(store_->AddTicket(NewTicket{"h1", "alice", "user", "job:7", 60000, 123456})));
  auto t = store_->RedeemTicket("h1");
  ASSERT_TRUE(IsOk(t));
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->role, "user");
  EXPECT_EQ(t->stream, "job:7");
  EXPECT_EQ(t->credentials_expire_at_ms, 123456);
  EXPECT_TRUE(IsError(store_->RedeemTicket("h1"), Errc::kUnauthorized)) << "used twice";
  EXPECT_TRUE(IsError(store_->RedeemTicket("unknown"), Errc::kUnauthorized));
}

TEST_P(JobStoreTest, AnExpiredTicketIsRefusedAndForgotten) {
  ASSERT_TRUE(IsOk(store_->AddTicket(NewTicket{"old", "alice", "user", "notify", 60000, 0})));
  clock_.Advance(59999);
  ASSERT_TRUE(IsOk(store_->AddTicket(NewTicket{"new", "bob", "admin", "audit:3", 60000, 0})));
  clock_.Advance(1);
  EXPECT_TRUE(IsError(store_->RedeemTicket("old"), Errc::kUnauthorized)) << "60 s and no more";
  EXPECT_TRUE(IsOk(store_->RedeemTicket("new")));
  ASSERT_TRUE(IsOk(store_->AddTicket(NewTicket{"old", "carol", "user", "notify", 60000, 0})))
      << "an expired ticket's row is gone, its hash free again";
}

}  // namespace herald::store
