#include "store/job_store.h"

#include <boost/json.hpp>

#include <algorithm>
#include <unordered_map>

#include "common/clock.h"
#include "common/json_text.h"

namespace herald::store {

Result<std::string> NoticePayload(const NewNotice& notice, int64_t now_ms) {
  boost::json::value data;  // An empty data_json is taken as null rather than refused.
  if (!notice.data_json.empty()) {
    boost::system::error_code ec;
    data = boost::json::parse(notice.data_json, ec);
    if (ec) return MakeError(Errc::kBadRequest, "notice data is not valid JSON: " + ec.message());
  }
  boost::json::object o;
  o["type"] = notice.type;
  o["data"] = std::move(data);
  o["created_at"] = FormatIso8601(now_ms);
  return JsonText(o);
}

jobs::Job NewPendingJob(const NewJob& in, int64_t now_ms) {
  jobs::Job job;
  job.type = in.type;
  job.owner = in.owner;
  job.title = in.title;
  job.url = in.url;
  job.max_pages = in.max_pages;
  job.status = jobs::JobStatus::kPending;
  job.progress = 0;
  job.created_at_ms = job.updated_at_ms = now_ms;
  job.last_seq = 1;  // Creation is event 1, so the first update is event 2.
  return job;
}

Applied AppliedFor(const jobs::Job& job, int64_t now_ms) {
  Applied applied{job, StoredEvent{job.id, job.last_seq, jobs::BuildPayload(job), now_ms},
                  FeedEntry{}};
  std::string event = job.is_audit() ? std::string(jobs::kAuditType) : std::string("job");
  applied.feed =
      FeedEntry{0, false, job.id, job.last_seq, job.owner, std::move(event), applied.event.payload};
  return applied;
}

namespace {

// Which events of the batch's jobs to delete, (job id, highest seq deleted),
// so that each job keeps its newest `retention` events, the appended ones
// included.
struct PruneCutoffs {
  std::vector<std::pair<int64_t, int64_t>> before_append;
  std::vector<std::pair<int64_t, int64_t>> after_append;

  // `job` as the batch leaves it, `appended` of its events new.
  void Add(const jobs::Job& job, int appended, int retention) {
    const int64_t cutoff = job.last_seq - retention;
    const int64_t newest_before = job.last_seq - appended;
    // Before the append, never the job's current newest event: PostgreSQL
    // numbers feed rows MAX(id) + 1, and deleting the row that holds MAX(id)
    // would hand its id to the first appended event, which a reader already
    // past that id would then skip.
    const int64_t early = std::min(cutoff, newest_before - 1);
    if (early >= 1) before_append.emplace_back(job.id, early);
    // A batch of `retention` or more events for one job: the rest once its
    // newest is no longer the newest row.
    if (cutoff > early && cutoff >= 1) after_append.emplace_back(job.id, cutoff);
  }
};

}  // namespace

Result<std::vector<UpdateOutcome>> ApplyUpdates(BatchRows& rows, std::span<const JobUpdate> updates,
                                                int64_t now_ms, int retention) {
  std::vector<int64_t> ids;
  ids.reserve(updates.size());
  for (const auto& u : updates) ids.push_back(u.job_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Locked in id order: two batches touching the same jobs never deadlock.
  auto locked = rows.LockJobs(ids);
  if (!locked) return locked.error();
  std::unordered_map<int64_t, jobs::Job*> by_id;
  by_id.reserve(locked->size());
  for (auto& job : *locked) by_id.emplace(job.id, &job);

  std::vector<UpdateOutcome> outcomes;
  outcomes.reserve(updates.size());
  std::vector<Applied*> appended;
  for (const auto& u : updates) {
    auto it = by_id.find(u.job_id);
    if (it == by_id.end() || (u.audit_only && !it->second->is_audit())) {
      outcomes.emplace_back(MakeError(
          Errc::kNotFound,
          std::string(u.audit_only ? "audit " : "job ") + std::to_string(u.job_id) + " not found"));
      continue;
    }
    if (u.external && it->second->is_audit()) {
      auto holder = rows.AuditLeaseHolder(u.job_id, now_ms);
      if (!holder) return holder.error();
      if (*holder) {
        outcomes.emplace_back(MakeError(
            Errc::kConflict, "audit " + std::to_string(u.job_id) +
                                 " is being run by Herald, which reports its progress itself"));
        continue;
      }
    }
    // Applied to a copy: a refused update leaves the job as it was.
    jobs::Job next = *it->second;
    const jobs::ProgressUpdate* update = &u.update;
    jobs::ProgressUpdate raised;
    if (u.raise_progress && u.update.progress && *u.update.progress >= 0 &&
        *u.update.progress < next.progress) {
      raised = u.update;
      raised.progress = next.progress;
      update = &raised;
    }
    if (auto r = jobs::ApplyUpdate(next, *update, now_ms); !r) {
      outcomes.emplace_back(r.error());
      continue;
    }
    if (auto r = rows.CheckStorable(next); !r) {
      outcomes.emplace_back(r.error());
      continue;
    }
    *it->second = next;
    outcomes.emplace_back(AppliedFor(next, now_ms));
  }
  for (auto& o : outcomes)
    if (o) appended.push_back(&*o);
  if (appended.empty()) return outcomes;

  std::unordered_map<int64_t, int> appended_per_job;
  for (const Applied* a : appended) ++appended_per_job[a->job.id];
  std::vector<const jobs::Job*> changed;
  PruneCutoffs cutoffs;
  for (const auto& job : *locked) {
    auto count = appended_per_job.find(job.id);
    if (count == appended_per_job.end()) continue;
    changed.push_back(&job);
    cutoffs.Add(job, count->second, retention);
  }
  if (auto r = rows.WriteJobs(changed); !r) return r.error();
  // Most of the pruning before the append, so a backend that serialises
  // appends (PostgreSQL's feed lock) holds that lock as briefly as possible;
  // the rest after it.
  if (!cutoffs.before_append.empty())
    if (auto r = rows.PruneEvents(cutoffs.before_append); !r) return r.error();
  if (auto r = rows.AppendEvents(appended); !r) return r.error();
  if (!cutoffs.after_append.empty())
    if (auto r = rows.PruneEvents(cutoffs.after_append); !r) return r.error();
  return outcomes;
}

Result<Applied> JobStore::UpdateJob(int64_t id, const jobs::ProgressUpdate& update) {
  JobUpdate one{id, update, false};
  auto outcomes = UpdateJobs(std::span<const JobUpdate>(&one, 1));
  if (!outcomes) return outcomes.error();
  return std::move(outcomes->front());
}

std::string SearchPattern(std::string_view search) {
  std::string pattern = "%";
  for (char c : search) {
    if (c == '\\' || c == '%' || c == '_') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  return pattern;
}

}  // namespace herald::store
