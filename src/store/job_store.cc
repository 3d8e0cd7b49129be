#include "store/job_store.h"

namespace herald::store {

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
  applied.feed = FeedEntry{0,         false, job.id, job.last_seq, job.owner, std::move(event),
                           applied.event.payload};
  return applied;
}

}  // namespace herald::store
