#include "jobs/job.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>

namespace herald::jobs {
namespace {

namespace json = boost::json;

// 2023-11-14T22:13:20Z
constexpr int64_t kT0 = 1'700'000'000'000;

void ExpectBadRequest(std::string_view body, std::string_view mentions) {
  auto r = ParseProgressUpdate(body);
  ASSERT_FALSE(r.has_value()) << "accepted: " << body;
  EXPECT_EQ(r.error().code, Errc::kBadRequest) << body;
  EXPECT_NE(r.error().message.find(mentions), std::string::npos)
      << "message '" << r.error().message << "' should mention '" << mentions << "'";
}

ProgressUpdate ParseOk(std::string_view body) {
  auto r = ParseProgressUpdate(body);
  EXPECT_TRUE(r.has_value()) << body << ": " << r.error().message;
  return r.has_value() ? *r : ProgressUpdate{};
}

Job PendingAudit() {
  Job job;
  job.id = 7;
  job.type = std::string(kAuditType);
  job.owner = "alice";
  job.url = "https://example.com/";
  job.max_pages = 10;
  job.created_at_ms = job.updated_at_ms = kT0;
  job.last_seq = 1;
  return job;
}

Job PendingGeneric() {
  Job job = PendingAudit();
  job.type = "translation";
  job.url.clear();
  job.max_pages = 0;
  job.title = "Translate the manual";
  return job;
}

json::object ParsePayload(const Job& job) {
  std::string text = BuildPayload(job);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.get_object() : json::object{};
}

// ---------------------------------------------------------------------------
// ParseProgressUpdate

// POST /api/v1/progress: the body as a whole is refused only for its shape;
// a bad item is refused on its own and keeps its place.
TEST(JobTest, ParseProgressBatchRefusesABodyThatIsNotANonEmptyArrayWithinTheLimit) {
  auto not_array = ParseProgressBatch(R"({"job_id":1})", 10);
  ASSERT_FALSE(not_array);
  EXPECT_EQ(not_array.error().code, Errc::kBadRequest);
  EXPECT_FALSE(ParseProgressBatch("[", 10));
  EXPECT_FALSE(ParseProgressBatch("[]", 10));
  std::string three = R"([{"job_id":1},{"job_id":2},{"job_id":3}])";
  auto over = ParseProgressBatch(three, 2);
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("at most 2"), std::string::npos) << over.error().message;
  auto within = ParseProgressBatch(three, 3);
  ASSERT_TRUE(within);
  EXPECT_EQ(within->size(), 3u);
}

TEST(JobTest, ParseProgressBatchJudgesEachItemOnItsOwn) {
  auto items = ParseProgressBatch(R"([{"job_id":7,"progress":10,"message":"a"},)"
                                  R"({"audit_id":8,"status":"completed"},)"
                                  R"(5,)"
                                  R"({"job_id":1,"audit_id":2},)"
                                  R"({"progress":1},)"
                                  R"({"job_id":0},)"
                                  R"({"job_id":"9"},)"
                                  R"({"job_id":9,"colour":"red"}])",
                                  100);
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 8u);
  const auto& v = *items;
  ASSERT_TRUE(v[0].update);
  EXPECT_EQ(v[0].job_id, 7);
  EXPECT_FALSE(v[0].audit);
  EXPECT_EQ(v[0].update->progress, 10);
  EXPECT_EQ(v[0].update->message, "a");
  ASSERT_TRUE(v[1].update);
  EXPECT_EQ(v[1].job_id, 8);
  EXPECT_TRUE(v[1].audit);
  EXPECT_EQ(v[1].update->status, JobStatus::kCompleted);
  for (std::size_t i = 2; i < v.size(); ++i) {
    ASSERT_FALSE(v[i].update) << "item " << i;
    EXPECT_EQ(v[i].update.error().code, Errc::kBadRequest) << "item " << i;
  }
  EXPECT_NE(v[3].update.error().message.find("exactly one of job_id and audit_id"),
            std::string::npos);
  EXPECT_NE(v[5].update.error().message.find("positive"), std::string::npos);
  EXPECT_NE(v[7].update.error().message.find("unknown field: colour"), std::string::npos);
}

TEST(JobTest, ParseProgressUpdateReadsEveryField) {
  ProgressUpdate u = ParseOk(R"({
    "status": "running", "progress": 40, "message": "Crawling", "step": "crawl",
    "total_pages": 12, "geo_score": 71.5, "critical_issues": 1, "high_issues": 2,
    "medium_issues": 3, "low_issues": 4, "error_message": "none yet",
    "data": {"k": [1, 2]}, "report": {"pages": 12}})");
  EXPECT_EQ(u.status, JobStatus::kRunning);
  EXPECT_EQ(u.progress, 40);
  EXPECT_EQ(u.message, "Crawling");
  EXPECT_EQ(u.step, "crawl");
  EXPECT_EQ(u.total_pages, 12);
  EXPECT_EQ(u.geo_score, 71.5);
  EXPECT_EQ(u.critical_issues, 1);
  EXPECT_EQ(u.high_issues, 2);
  EXPECT_EQ(u.medium_issues, 3);
  EXPECT_EQ(u.low_issues, 4);
  EXPECT_EQ(u.error_message, "none yet");
  EXPECT_EQ(u.data_json, R"({"k":[1,2]})");
  EXPECT_EQ(u.report_json, R"({"pages":12})");
}

TEST(JobTest, ParseProgressUpdateLeavesAbsentAndNullFieldsUnset) {
  ProgressUpdate u = ParseOk(R"({"message": null, "progress": null})");
  EXPECT_FALSE(u.status);
  EXPECT_FALSE(u.progress);
  EXPECT_FALSE(u.message);
  EXPECT_FALSE(u.step);
  EXPECT_FALSE(u.geo_score);
  EXPECT_FALSE(u.error_message);
  EXPECT_FALSE(u.data_json);
  ProgressUpdate empty = ParseOk("{}");
  EXPECT_FALSE(empty.status);
  EXPECT_FALSE(empty.progress);
}

TEST(JobTest, ParseProgressUpdateAcceptsErrorAsAnAliasOfErrorMessage) {
  EXPECT_EQ(ParseOk(R"({"status":"failed","error":"DNS failure"})").error_message, "DNS failure");
}

TEST(JobTest, ParseProgressUpdatePrefersErrorMessageOverError) {
  EXPECT_EQ(ParseOk(R"({"error_message":"primary","error":"alias"})").error_message, "primary");
}

TEST(JobTest, ParseProgressUpdateRefusesAnUnknownField) {
  ExpectBadRequest(R"({"progres": 10})", "progres");
  ExpectBadRequest(R"({"status":"running","seq": 3})", "seq");
}

TEST(JobTest, ParseProgressUpdateRefusesABodyThatIsNotAJsonObject) {
  ExpectBadRequest("", "JSON");
  ExpectBadRequest("{progress: 1}", "JSON");
  ExpectBadRequest("[1]", "object");
  ExpectBadRequest("42", "object");
}

TEST(JobTest, ParseProgressUpdateRefusesProgressOutOfRange) {
  ExpectBadRequest(R"({"progress": 101})", "progress");
  ExpectBadRequest(R"({"progress": -1})", "progress");
}

TEST(JobTest, ParseProgressUpdateRefusesProgressThatIsNotAWholeNumber) {
  ExpectBadRequest(R"({"progress": 1.5})", "progress");
  ExpectBadRequest(R"({"progress": "50"})", "progress");
  ExpectBadRequest(R"({"progress": true})", "progress");
}

TEST(JobTest, ParseProgressUpdateAcceptsAWholeFloatAsProgress) {
  EXPECT_EQ(ParseOk(R"({"progress": 50.0})").progress, 50);
  EXPECT_EQ(ParseOk(R"({"progress": 0})").progress, 0);
  EXPECT_EQ(ParseOk(R"({"progress": 100})").progress, 100);
}

TEST(JobTest, ParseProgressUpdateRefusesAnUnknownStatus) {
  ExpectBadRequest(R"({"status": "done"})", "done");
  ExpectBadRequest(R"({"status": "RUNNING"})", "RUNNING");
  ExpectBadRequest(R"({"status": 1})", "status");
}

TEST(JobTest, ParseProgressUpdateReadsEveryStatus) {
  EXPECT_EQ(ParseOk(R"({"status":"pending"})").status, JobStatus::kPending);
  EXPECT_EQ(ParseOk(R"({"status":"running"})").status, JobStatus::kRunning);
  EXPECT_EQ(ParseOk(R"({"status":"completed"})").status, JobStatus::kCompleted);
  EXPECT_EQ(ParseOk(R"({"status":"failed"})").status, JobStatus::kFailed);
}

TEST(JobTest, ParseProgressUpdateRefusesDataAndReportThatAreNotObjects) {
  ExpectBadRequest(R"({"data": [1, 2]})", "data");
  ExpectBadRequest(R"({"data": "text"})", "data");
  ExpectBadRequest(R"({"report": 3})", "report");
}

TEST(JobTest, ParseProgressUpdateRefusesStringsOfTheWrongType) {
  ExpectBadRequest(R"({"message": 5})", "message");
  ExpectBadRequest(R"({"step": {}})", "step");
  ExpectBadRequest(R"({"error": false})", "error");
}

TEST(JobTest, ParseProgressUpdateRefusesNegativeCounts) {
  for (const char* key :
       {"total_pages", "critical_issues", "high_issues", "medium_issues", "low_issues"}) {
    ExpectBadRequest(std::string(R"({")") + key + R"(": -1})", key);
  }
}

// -1.0 is read as the integer -1 (whole floats are accepted), so it must meet
// the same "not negative" rule as -1.
TEST(JobTest, ParseProgressUpdateRefusesNegativeCountsWrittenAsFloats) {
  for (const char* key :
       {"total_pages", "critical_issues", "high_issues", "medium_issues", "low_issues"}) {
    ExpectBadRequest(std::string(R"({")") + key + R"(": -1.0})", key);
  }
}

TEST(JobTest, ParseProgressUpdateRefusesFractionalCounts) {
  ExpectBadRequest(R"({"total_pages": 2.5})", "total_pages");
  ExpectBadRequest(R"({"low_issues": "3"})", "low_issues");
}

TEST(JobTest, ATerminalUpdateCarriesOnlyItsOwnMessageAndStep) {
  Job job;
  job.status = JobStatus::kRunning;
  ProgressUpdate mid;
  mid.progress = 40;
  mid.message = "Page 4/10";
  mid.step = "translate";
  ASSERT_TRUE(ApplyUpdate(job, mid, 1));
  ProgressUpdate done;
  done.status = JobStatus::kCompleted;
  ASSERT_TRUE(ApplyUpdate(job, done, 2));
  EXPECT_FALSE(job.message);
  EXPECT_FALSE(job.step);
  EXPECT_EQ(BuildPayload(job).find("Page 4/10"), std::string::npos) << BuildPayload(job);

  Job other;
  other.status = JobStatus::kRunning;
  ASSERT_TRUE(ApplyUpdate(other, mid, 1));
  ProgressUpdate failed;
  failed.status = JobStatus::kFailed;
  failed.message = "Gave up";
  failed.error_message = "upstream timeout";
  ASSERT_TRUE(ApplyUpdate(other, failed, 2));
  EXPECT_EQ(other.message, "Gave up");
  EXPECT_FALSE(other.step);
  // A running update without them keeps the last ones.
  Job running;
  running.status = JobStatus::kRunning;
  ASSERT_TRUE(ApplyUpdate(running, mid, 1));
  ProgressUpdate more;
  more.progress = 50;
  ASSERT_TRUE(ApplyUpdate(running, more, 2));
  EXPECT_EQ(running.message, "Page 4/10");
  EXPECT_EQ(running.step, "translate");
}

// Found by tests/fuzz/progress_payload (corpus: ub-huge-float): a whole
// float beyond int64 was converted anyway (undefined behaviour; in a release
// build some arbitrary count was stored).
TEST(JobTest, ParseProgressUpdateRefusesWholeFloatsBeyondInt64) {
  ExpectBadRequest(R"({"progress": 1e308})", "progress");
  ExpectBadRequest(R"({"total_pages": 9223372036854775808.0})", "total_pages");
  ExpectBadRequest(R"({"low_issues": -1e19})", "low_issues");
  EXPECT_EQ(ParseOk(R"({"total_pages": 4611686018427387904.0})").total_pages,
            4611686018427387904LL);
}

TEST(JobTest, ParseProgressUpdateChecksTheGeoScoreRange) {
  EXPECT_EQ(ParseOk(R"({"geo_score": 0})").geo_score, 0.0);
  EXPECT_EQ(ParseOk(R"({"geo_score": 100})").geo_score, 100.0);
  EXPECT_EQ(ParseOk(R"({"geo_score": 99.9})").geo_score, 99.9);
  ExpectBadRequest(R"({"geo_score": 100.01})", "geo_score");
  ExpectBadRequest(R"({"geo_score": -0.5})", "geo_score");
  ExpectBadRequest(R"({"geo_score": "80"})", "geo_score");
}

// ---------------------------------------------------------------------------
// ApplyUpdate

TEST(JobTest, ApplyUpdateMovesPendingToRunningToCompleted) {
  Job job = PendingAudit();
  ProgressUpdate running;
  running.status = JobStatus::kRunning;
  running.progress = 30;
  ASSERT_TRUE(ApplyUpdate(job, running, kT0 + 1000).has_value());
  EXPECT_EQ(job.status, JobStatus::kRunning);
  EXPECT_EQ(job.progress, 30);

  ProgressUpdate completed;
  completed.status = JobStatus::kCompleted;
  ASSERT_TRUE(ApplyUpdate(job, completed, kT0 + 2000).has_value());
  EXPECT_EQ(job.status, JobStatus::kCompleted);
  EXPECT_EQ(job.progress, 100) << "completed sets progress to 100";
  EXPECT_EQ(job.last_seq, 3);
  EXPECT_EQ(job.updated_at_ms, kT0 + 2000);
}

TEST(JobTest, ApplyUpdateAllowsPendingStraightToCompleted) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.status = JobStatus::kCompleted;
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.status, JobStatus::kCompleted);
  EXPECT_EQ(job.progress, 100);
}

TEST(JobTest, ApplyUpdateRefusesAProgressDecreaseWithAConflict) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.progress = 60;
  const Job before = job;
  ProgressUpdate u;
  u.progress = 40;
  u.message = "should not stick";
  auto r = ApplyUpdate(job, u, kT0 + 5);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(r.error().message, "progress cannot decrease (is 60, got 40)");
  EXPECT_EQ(job.progress, 60);
  EXPECT_FALSE(job.message.has_value());
  EXPECT_EQ(job.last_seq, before.last_seq);
  EXPECT_EQ(job.updated_at_ms, before.updated_at_ms);
}

TEST(JobTest, ApplyUpdateAcceptsTheSameProgressAgain) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.progress = 60;
  ProgressUpdate u;
  u.progress = 60;
  u.message = "still at 60";
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.message, "still at 60");
}

TEST(JobTest, ApplyUpdateRefusesProgressOutOfRange) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.progress = 101;
  auto r = ApplyUpdate(job, u, kT0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kBadRequest);
  u.progress = -1;
  r = ApplyUpdate(job, u, kT0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kBadRequest);
  EXPECT_EQ(job.last_seq, 1);
}

TEST(JobTest, ApplyUpdateRefusesAnyChangeToATerminalJob) {
  for (JobStatus terminal : {JobStatus::kCompleted, JobStatus::kFailed}) {
    Job job = PendingAudit();
    job.status = terminal;
    job.progress = terminal == JobStatus::kCompleted ? 100 : 20;
    ProgressUpdate u;
    u.message = "late";
    auto r = ApplyUpdate(job, u, kT0 + 1);
    ASSERT_FALSE(r.has_value()) << ToString(terminal);
    EXPECT_EQ(r.error().code, Errc::kConflict);
    EXPECT_EQ(r.error().message,
              "job 7 is " + std::string(ToString(terminal)) + " and cannot change");
    EXPECT_FALSE(job.message.has_value());
    EXPECT_EQ(job.last_seq, 1);
  }
}

TEST(JobTest, ApplyUpdateRefusesCompletedAfterFailed) {
  Job job = PendingAudit();
  ProgressUpdate failed;
  failed.status = JobStatus::kFailed;
  ASSERT_TRUE(ApplyUpdate(job, failed, kT0).has_value());
  ProgressUpdate completed;
  completed.status = JobStatus::kCompleted;
  auto r = ApplyUpdate(job, completed, kT0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(job.status, JobStatus::kFailed);
}

TEST(JobTest, ApplyUpdateRefusesAStatusGoingBack) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.progress = 10;
  ProgressUpdate u;
  u.status = JobStatus::kPending;
  auto r = ApplyUpdate(job, u, kT0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kConflict);
  EXPECT_EQ(r.error().message, "status cannot go back from running to pending");
  EXPECT_EQ(job.status, JobStatus::kRunning);
  EXPECT_EQ(job.last_seq, 1);
}

TEST(JobTest, ApplyUpdateMakesAPendingJobThatReportsProgressRunning) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.progress = 40;
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.status, JobStatus::kRunning);
  EXPECT_EQ(job.progress, 40);
}

TEST(JobTest, ApplyUpdateKeepsAPendingJobAtZeroProgressPending) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.progress = 0;
  u.message = "queued";
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.status, JobStatus::kPending);
}

TEST(JobTest, ApplyUpdateGivesAFailedJobWithoutAMessageTheMessageFailed) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.status = JobStatus::kFailed;
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.error_message, "failed");
  EXPECT_EQ(job.progress, 0) << "failed needs no progress";
}

TEST(JobTest, ApplyUpdateKeepsTheFailureReasonGiven) {
  Job job = PendingAudit();
  ProgressUpdate u;
  u.status = JobStatus::kFailed;
  u.error_message = "DNS failure";
  ASSERT_TRUE(ApplyUpdate(job, u, kT0).has_value());
  EXPECT_EQ(job.error_message, "DNS failure");
}

TEST(JobTest, ApplyUpdateIncrementsLastSeqAndSetsUpdatedAt) {
  Job job = PendingAudit();
  for (int i = 1; i <= 3; ++i) {
    ProgressUpdate u;
    u.progress = i * 10;
    ASSERT_TRUE(ApplyUpdate(job, u, kT0 + i * 1000).has_value());
    EXPECT_EQ(job.last_seq, 1 + i);
    EXPECT_EQ(job.updated_at_ms, kT0 + i * 1000);
  }
  EXPECT_EQ(job.created_at_ms, kT0);
}

TEST(JobTest, ApplyUpdateChangesOnlyTheFieldsThatAreSet) {
  Job job = PendingAudit();
  ProgressUpdate first;
  first.message = "m1";
  first.step = "s1";
  first.total_pages = 5;
  first.geo_score = 50;
  first.critical_issues = 1;
  first.high_issues = 2;
  first.medium_issues = 3;
  first.low_issues = 4;
  first.data_json = R"({"a":1})";
  first.report_json = R"({"r":1})";
  ASSERT_TRUE(ApplyUpdate(job, first, kT0).has_value());

  ProgressUpdate second;
  second.step = "s2";
  ASSERT_TRUE(ApplyUpdate(job, second, kT0).has_value());
  EXPECT_EQ(job.message, "m1");
  EXPECT_EQ(job.step, "s2");
  EXPECT_EQ(job.total_pages, 5);
  EXPECT_EQ(job.geo_score, 50.0);
  EXPECT_EQ(job.critical_issues, 1);
  EXPECT_EQ(job.high_issues, 2);
  EXPECT_EQ(job.medium_issues, 3);
  EXPECT_EQ(job.low_issues, 4);
  EXPECT_EQ(job.data_json, R"({"a":1})");
  EXPECT_EQ(job.report_json, R"({"r":1})");
}

// ---------------------------------------------------------------------------
// BuildPayload

TEST(JobTest, BuildPayloadNamesAuditFields) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.progress = 40;
  job.updated_at_ms = kT0 + 999;  // whole seconds on the wire
  job.last_seq = 5;
  json::object o = ParsePayload(job);
  EXPECT_EQ(o.at("audit_id").as_int64(), 7);
  EXPECT_FALSE(o.contains("job_id"));
  EXPECT_FALSE(o.contains("type"));
  EXPECT_EQ(o.at("status").as_string(), "running");
  EXPECT_EQ(o.at("progress").as_int64(), 40);
  EXPECT_EQ(o.at("url").as_string(), "https://example.com/");
  EXPECT_EQ(o.at("seq").as_int64(), 5);
  EXPECT_EQ(o.at("updated_at").as_string(), "2023-11-14T22:13:20Z");
}

TEST(JobTest, BuildPayloadNamesGenericJobFields) {
  Job job = PendingGeneric();
  json::object o = ParsePayload(job);
  EXPECT_EQ(o.at("job_id").as_int64(), 7);
  EXPECT_EQ(o.at("type").as_string(), "translation");
  EXPECT_EQ(o.at("title").as_string(), "Translate the manual");
  EXPECT_FALSE(o.contains("audit_id"));
  EXPECT_FALSE(o.contains("url"));
  EXPECT_EQ(o.at("status").as_string(), "pending");
}

TEST(JobTest, BuildPayloadLeavesOutOptionalFieldsThatAreUnset) {
  Job job = PendingAudit();
  json::object o = ParsePayload(job);
  for (const char* key :
       {"title", "message", "step", "total_pages", "geo_score", "critical_issues", "high_issues",
        "medium_issues", "low_issues", "error_message", "error", "data", "report"}) {
    EXPECT_FALSE(o.contains(key)) << key;
  }
  EXPECT_EQ(o.size(), 6u) << BuildPayload(job);  // audit_id status progress url seq updated_at
}

TEST(JobTest, BuildPayloadIncludesOptionalFieldsThatAreSet) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.message = "Crawling";
  job.step = "crawl";
  job.total_pages = 12;
  job.geo_score = 71.5;
  job.critical_issues = 0;
  job.high_issues = 2;
  job.medium_issues = 3;
  job.low_issues = 4;
  job.data_json = R"({"k":[1,2]})";
  json::object o = ParsePayload(job);
  EXPECT_EQ(o.at("message").as_string(), "Crawling");
  EXPECT_EQ(o.at("step").as_string(), "crawl");
  EXPECT_EQ(o.at("total_pages").as_int64(), 12);
  EXPECT_EQ(o.at("geo_score").as_double(), 71.5);
  EXPECT_EQ(o.at("critical_issues").as_int64(), 0) << "zero is a value, not unset";
  EXPECT_EQ(o.at("high_issues").as_int64(), 2);
  EXPECT_EQ(o.at("medium_issues").as_int64(), 3);
  EXPECT_EQ(o.at("low_issues").as_int64(), 4);
  ASSERT_TRUE(o.at("data").is_object()) << "data is embedded as an object, not a string";
  EXPECT_EQ(json::serialize(o.at("data")), R"({"k":[1,2]})");
}

TEST(JobTest, BuildPayloadIncludesErrorAndErrorMessageOnlyWhenFailed) {
  Job job = PendingAudit();
  job.status = JobStatus::kRunning;
  job.error_message = "transient";
  json::object running = ParsePayload(job);
  EXPECT_FALSE(running.contains("error_message"));
  EXPECT_FALSE(running.contains("error"));

  job.status = JobStatus::kFailed;
  json::object failed = ParsePayload(job);
  EXPECT_EQ(failed.at("error_message").as_string(), "transient");
  EXPECT_EQ(failed.at("error").as_string(), "transient");
}

TEST(JobTest, BuildPayloadIsOneLineWithRawUtf8) {
  Job job = PendingGeneric();
  job.title =
      "\xc3\x9c"
      "bersetzung \xe2\x9c\x93";  // Übersetzung ✓
  job.message = "line1\nline2";
  std::string text = BuildPayload(job);
  EXPECT_NE(text.find("\xc3\x9c"
                      "bersetzung \xe2\x9c\x93"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("\\u"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << "one line: " << text;
  EXPECT_EQ(ParsePayload(job).at("message").as_string(), "line1\nline2");
}

TEST(JobTest, BuildPayloadFormatsUpdatedAtAsIso8601Utc) {
  Job job = PendingAudit();
  job.updated_at_ms = 0;
  EXPECT_EQ(ParsePayload(job).at("updated_at").as_string(), "1970-01-01T00:00:00Z");
  job.updated_at_ms = 1'709'251'199'000;  // leap day 2024
  EXPECT_EQ(ParsePayload(job).at("updated_at").as_string(), "2024-02-29T23:59:59Z");
}

// ---------------------------------------------------------------------------
// ChannelFor and statuses

TEST(JobTest, ChannelForNamesAuditAndJobChannels) {
  EXPECT_EQ(ChannelFor("audit", 12), "audit:progress:12");
  EXPECT_EQ(ChannelFor("translation", 12), "job:progress:12");
  EXPECT_EQ(ChannelFor("job", 3), "job:progress:3");
  EXPECT_EQ(ChannelFor(PendingAudit()), "audit:progress:7");
  EXPECT_EQ(ChannelFor(PendingGeneric()), "job:progress:7");
}

TEST(JobTest, StatusNamesRoundTrip) {
  for (JobStatus s :
       {JobStatus::kPending, JobStatus::kRunning, JobStatus::kCompleted, JobStatus::kFailed})
    EXPECT_EQ(ParseJobStatus(ToString(s)), s);
  EXPECT_FALSE(ParseJobStatus("").has_value());
  EXPECT_TRUE(IsTerminal(JobStatus::kCompleted));
  EXPECT_TRUE(IsTerminal(JobStatus::kFailed));
  EXPECT_FALSE(IsTerminal(JobStatus::kRunning));
  EXPECT_FALSE(IsTerminal(JobStatus::kPending));
}

}  // namespace
}  // namespace herald::jobs
