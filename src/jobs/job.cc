#include "jobs/job.h"

#include <cmath>

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/json_text.h"

namespace herald::jobs {
namespace json = boost::json;

std::string_view ToString(JobStatus status) {
  switch (status) {
    case JobStatus::kPending:
      return "pending";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kCompleted:
      return "completed";
    case JobStatus::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<JobStatus> ParseJobStatus(std::string_view text) {
  if (text == "pending") return JobStatus::kPending;
  if (text == "running") return JobStatus::kRunning;
  if (text == "completed") return JobStatus::kCompleted;
  if (text == "failed") return JobStatus::kFailed;
  return std::nullopt;
}

namespace {

int Rank(JobStatus s) {
  switch (s) {
    case JobStatus::kPending:
      return 0;
    case JobStatus::kRunning:
      return 1;
    case JobStatus::kCompleted:
    case JobStatus::kFailed:
      return 2;
  }
  return 0;
}

Error Bad(std::string msg) { return MakeError(Errc::kBadRequest, std::move(msg)); }

// Reads an optional integer field; a float with no fraction is accepted
// (JavaScript sends 50.0 as 50 anyway, Python's json may not).
Result<std::optional<int64_t>> OptInt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>{};
  const json::value& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>{v.get_int64()};
  if (v.is_uint64() && v.get_uint64() <= INT64_MAX)
    return std::optional<int64_t>{static_cast<int64_t>(v.get_uint64())};
  if (v.is_double()) {
    // Within int64's range first (2^63 itself is not): converting 1e308
    // or NaN is undefined behaviour, and read garbage as a number.
    const double d = v.get_double();
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d)
      return std::optional<int64_t>{static_cast<int64_t>(d)};
  }
  return Bad(std::string(key) + " must be an integer");
}

Result<std::optional<std::string>> OptString(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return Bad(std::string(key) + " must be a string");
  return std::optional<std::string>{std::string(it->value().get_string())};
}

Result<std::optional<std::string>> OptObjectText(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_object()) return Bad(std::string(key) + " must be a JSON object");
  return std::optional<std::string>{JsonText(it->value())};
}

constexpr std::string_view kKnownFields[] = {
    "status",        "progress",        "message",     "step",          "total_pages",
    "geo_score",     "critical_issues", "high_issues", "medium_issues", "low_issues",
    "error_message", "error",           "data",        "report"};

}  // namespace

namespace {

// One update object; `target_keys` are the batch's job_id/audit_id, allowed
// beside the update's own fields.
Result<ProgressUpdate> ParseProgressObject(const json::object& o, bool target_keys) {
  for (const auto& kv : o) {
    bool known = target_keys && (kv.key() == "job_id" || kv.key() == "audit_id");
    for (auto f : kKnownFields) known = known || kv.key() == f;
    if (!known) return Bad("unknown field: " + std::string(kv.key()));
  }

  ProgressUpdate u;
  if (auto s = OptString(o, "status"); !s)
    return s.error();
  else if (*s) {
    u.status = ParseJobStatus(**s);
    if (!u.status)
      return Bad("unknown status: " + **s + " (expected pending, running, completed or failed)");
  }
  if (auto p = OptInt(o, "progress"); !p)
    return p.error();
  else if (*p) {
    if (**p < 0 || **p > 100) return Bad("progress must be between 0 and 100");
    u.progress = static_cast<int>(**p);
  }
  if (auto r = OptString(o, "message"); !r)
    return r.error();
  else
    u.message = *r;
  if (auto r = OptString(o, "step"); !r)
    return r.error();
  else
    u.step = *r;
  if (auto r = OptInt(o, "total_pages"); !r)
    return r.error();
  else
    u.total_pages = *r;
  if (auto r = OptInt(o, "critical_issues"); !r)
    return r.error();
  else
    u.critical_issues = *r;
  if (auto r = OptInt(o, "high_issues"); !r)
    return r.error();
  else
    u.high_issues = *r;
  if (auto r = OptInt(o, "medium_issues"); !r)
    return r.error();
  else
    u.medium_issues = *r;
  if (auto r = OptInt(o, "low_issues"); !r)
    return r.error();
  else
    u.low_issues = *r;
  const std::pair<const char*, const std::optional<int64_t>*> counts[] = {
      {"total_pages", &u.total_pages},
      {"critical_issues", &u.critical_issues},
      {"high_issues", &u.high_issues},
      {"medium_issues", &u.medium_issues},
      {"low_issues", &u.low_issues}};
  for (const auto& [key, value] : counts) {
    if (*value && **value < 0) return Bad(std::string(key) + " must not be negative");
  }
  if (auto it = o.find("geo_score"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_number()) return Bad("geo_score must be a number");
    double g = it->value().to_number<double>();
    if (g < 0 || g > 100) return Bad("geo_score must be between 0 and 100");
    u.geo_score = g;
  }
  // The two seed documents name the failure reason differently; accept both.
  if (auto r = OptString(o, "error_message"); !r)
    return r.error();
  else
    u.error_message = *r;
  if (!u.error_message) {
    if (auto r = OptString(o, "error"); !r)
      return r.error();
    else
      u.error_message = *r;
  }
  if (auto r = OptObjectText(o, "data"); !r)
    return r.error();
  else
    u.data_json = *r;
  if (auto r = OptObjectText(o, "report"); !r)
    return r.error();
  else
    u.report_json = *r;
  return u;
}

// The job an item of a batch names: exactly one of job_id and audit_id, a
// positive integer.
Result<void> ParseTarget(const json::object& o, BatchItem& item) {
  const json::value* job = o.if_contains("job_id");
  const json::value* audit = o.if_contains("audit_id");
  if ((job != nullptr) == (audit != nullptr))
    return Bad("each item needs exactly one of job_id and audit_id");
  auto id = OptInt(o, job ? "job_id" : "audit_id");
  if (!id) return id.error();
  if (!*id || **id < 1)
    return Bad(std::string(job ? "job_id" : "audit_id") + " must be a positive integer");
  item.job_id = **id;
  item.audit = audit != nullptr;
  return {};
}

}  // namespace

Result<ProgressUpdate> ParseProgressUpdate(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("body is not valid JSON: " + ec.message());
  if (!v.is_object()) return Bad("body must be a JSON object");
  return ParseProgressObject(v.get_object(), false);
}

Result<std::vector<BatchItem>> ParseProgressBatch(std::string_view body, std::size_t max_items) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("body is not valid JSON: " + ec.message());
  if (!v.is_array()) return Bad("body must be a JSON array of updates");
  const json::array& a = v.get_array();
  if (a.empty()) return Bad("body must hold at least one update");
  if (a.size() > max_items)
    return Bad("at most " + std::to_string(max_items) + " updates per request");
  std::vector<BatchItem> items(a.size(), BatchItem{0, false, ProgressUpdate{}});
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_object()) {
      items[i].update = Bad("each item must be a JSON object");
      continue;
    }
    const json::object& o = a[i].get_object();
    if (auto t = ParseTarget(o, items[i]); !t) {
      items[i].update = t.error();
      continue;
    }
    items[i].update = ParseProgressObject(o, true);
  }
  return items;
}

Result<void> ApplyUpdate(Job& job, const ProgressUpdate& u, int64_t now_ms) {
  if (IsTerminal(job.status)) {
    return MakeError(Errc::kConflict, "job " + std::to_string(job.id) + " is " +
                                          std::string(ToString(job.status)) + " and cannot change");
  }
  JobStatus next = u.status.value_or(job.status);
  if (Rank(next) < Rank(job.status)) {
    return MakeError(Errc::kConflict, "status cannot go back from " +
                                          std::string(ToString(job.status)) + " to " +
                                          std::string(ToString(next)));
  }
  if (u.progress) {
    if (*u.progress < 0 || *u.progress > 100) return Bad("progress must be between 0 and 100");
    if (*u.progress < job.progress) {
      return MakeError(Errc::kConflict, "progress cannot decrease (is " +
                                            std::to_string(job.progress) + ", got " +
                                            std::to_string(*u.progress) + ")");
    }
    job.progress = *u.progress;
  }
  // A job that reports work in progress is running, even if the worker never
  // said so: the payload should not show "pending" at 40%.
  if (!u.status && job.status == JobStatus::kPending && job.progress > 0)
    next = JobStatus::kRunning;
  job.status = next;
  if (next == JobStatus::kCompleted) job.progress = 100;

  if (IsTerminal(next)) {
    // The contract: a terminal update carries only the message and step it
    // was sent with, so a finished job never shows a stale "Page 4/10".
    job.message = u.message;
    job.step = u.step;
  } else {
    if (u.message) job.message = u.message;
    if (u.step) job.step = u.step;
  }
  if (u.total_pages) job.total_pages = u.total_pages;
  if (u.geo_score) job.geo_score = u.geo_score;
  if (u.critical_issues) job.critical_issues = u.critical_issues;
  if (u.high_issues) job.high_issues = u.high_issues;
  if (u.medium_issues) job.medium_issues = u.medium_issues;
  if (u.low_issues) job.low_issues = u.low_issues;
  if (u.error_message) job.error_message = u.error_message;
  if (u.data_json) job.data_json = u.data_json;
  if (u.report_json) job.report_json = u.report_json;
  if (next == JobStatus::kFailed && !job.error_message) job.error_message = "failed";

  job.last_seq += 1;
  job.updated_at_ms = now_ms;
  return {};
}

std::string BuildPayload(const Job& job) {
  json::object o;
  if (job.is_audit()) {
    o["audit_id"] = job.id;
  } else {
    o["job_id"] = job.id;
    o["type"] = job.type;
  }
  o["status"] = ToString(job.status);
  o["progress"] = job.progress;
  if (job.is_audit()) o["url"] = job.url;
  if (!job.title.empty()) o["title"] = job.title;
  if (job.message) o["message"] = *job.message;
  if (job.step) o["step"] = *job.step;
  if (job.total_pages) o["total_pages"] = *job.total_pages;
  if (job.geo_score) o["geo_score"] = *job.geo_score;
  if (job.critical_issues) o["critical_issues"] = *job.critical_issues;
  if (job.high_issues) o["high_issues"] = *job.high_issues;
  if (job.medium_issues) o["medium_issues"] = *job.medium_issues;
  if (job.low_issues) o["low_issues"] = *job.low_issues;
  if (job.error_message && job.status == JobStatus::kFailed) {
    o["error_message"] = *job.error_message;
    o["error"] = *job.error_message;
  }
  if (job.data_json) {
    boost::system::error_code ec;
    json::value data = json::parse(*job.data_json, ec);
    if (!ec) o["data"] = std::move(data);
  }
  o["seq"] = job.last_seq;
  o["updated_at"] = FormatIso8601(job.updated_at_ms);
  return JsonText(o);
}

std::string ChannelFor(std::string_view type, int64_t id) {
  return (type == kAuditType ? "audit:progress:" : "job:progress:") + std::to_string(id);
}

std::string ChannelFor(const Job& job) { return ChannelFor(job.type, job.id); }

}  // namespace herald::jobs
