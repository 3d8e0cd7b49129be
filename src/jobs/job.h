#pragma once
// The job model: a job's state, the partial updates workers report, and the
// state machine that decides which updates are allowed. Pure logic, no I/O;
// every store applies updates through ApplyUpdate so SQLite and PostgreSQL
// agree on the rules.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "common/errors.h"

namespace herald::jobs {

enum class JobStatus { kPending, kRunning, kCompleted, kFailed };

std::string_view ToString(JobStatus status);
std::optional<JobStatus> ParseJobStatus(std::string_view text);
inline bool IsTerminal(JobStatus s) {
  return s == JobStatus::kCompleted || s == JobStatus::kFailed;
}

// The type of Herald's built-in job; every other type is run by callers.
inline constexpr std::string_view kAuditType = "audit";

struct Job {
  int64_t id = 0;
  std::string type;   // "audit" or a caller-chosen name such as "translation"
  std::string owner;  // `sub` of the owning user
  std::string title;  // generic jobs; may be empty
  std::string url;    // audits only
  int max_pages = 0;  // audits only
  JobStatus status = JobStatus::kPending;
  int progress = 0;  // 0-100, never decreases
  std::optional<std::string> message;
  std::optional<std::string> step;
  std::optional<int64_t> total_pages;
  std::optional<double> geo_score;
  std::optional<int64_t> critical_issues;
  std::optional<int64_t> high_issues;
  std::optional<int64_t> medium_issues;
  std::optional<int64_t> low_issues;
  std::optional<std::string> error_message;
  std::optional<std::string> data_json;    // result object (raw JSON text)
  std::optional<std::string> report_json;  // audit report (raw JSON text)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t last_seq = 0;  // sequence number of the job's latest event

  bool is_audit() const { return type == kAuditType; }
};

// A partial update: only the fields that are set change.
struct ProgressUpdate {
  std::optional<JobStatus> status;
  std::optional<int> progress;
  std::optional<std::string> message;
  std::optional<std::string> step;
  std::optional<int64_t> total_pages;
  std::optional<double> geo_score;
  std::optional<int64_t> critical_issues;
  std::optional<int64_t> high_issues;
  std::optional<int64_t> medium_issues;
  std::optional<int64_t> low_issues;
  std::optional<std::string> error_message;
  std::optional<std::string> data_json;    // must be a JSON object's text
  std::optional<std::string> report_json;  // must be a JSON object's text
};

// Parses a worker's JSON body (`POST .../progress`). Unknown fields are
// refused so a typo does not silently do nothing. Errors are kBadRequest.
Result<ProgressUpdate> ParseProgressUpdate(std::string_view body);

// One item of `POST /api/v1/progress`: its job, and the update or why it
// does not parse (one bad item does not refuse the others).
struct BatchItem {
  int64_t job_id = 0;
  bool audit = false;  // named by audit_id: must be an audit
  Result<ProgressUpdate> update;
};
// A JSON array of update objects, each with job_id or audit_id. Errors
// (kBadRequest) are for the body as a whole: not an array, empty, more than
// `max_items`.
Result<std::vector<BatchItem>> ParseProgressBatch(std::string_view body, std::size_t max_items);

// Applies `update` to `job` under the state machine:
//  - a terminal job never changes (kConflict);
//  - progress stays within 0-100 (kBadRequest) and never decreases (kConflict);
//  - status moves forward only: pending -> running -> completed/failed;
//  - `completed` sets progress to 100; `failed` needs no progress;
//  - `failed` without error_message gets "failed";
//  - a terminal update's message and step replace the job's, absent or not.
// On success bumps last_seq and sets updated_at_ms = now_ms.
Result<void> ApplyUpdate(Job& job, const ProgressUpdate& update, int64_t now_ms);

// The progress payload of the contract, one line of JSON, non-ASCII raw.
// Carries `seq` (the job's latest event number) as an extension.
std::string BuildPayload(const Job& job);

// The SSE/bus channel of a job: "audit:progress:{id}" or "job:progress:{id}".
std::string ChannelFor(const Job& job);
std::string ChannelFor(std::string_view type, int64_t id);

}  // namespace herald::jobs
