#pragma once
// Runs one audit: crawl, analyse, check the site, score, report, and tells
// the story as it goes ("Fetching robots.txt", "Crawling pages (7/20)",
// "Analyzing pages (7/20)", "Checking AI crawler access", "Generating
// report"). Every update goes through the Publisher, the same path as any
// external worker's: store first, then bus.
//
// Blocking; runs on a worker thread. Thread-compatible: one Run at a time
// per runner.

#include <functional>
#include <string>

#include "audit/crawler.h"
#include "jobs/job.h"

namespace herald::publish {
class Publisher;
}

namespace herald::worker {

struct RunnerOptions {
  bool allow_private = false;  // AUDIT_ALLOW_PRIVATE
  audit::CrawlOptions crawl;   // max_pages is taken from the job
};

class AuditRunner {
 public:
  // `publisher` must outlive the runner.
  AuditRunner(publish::Publisher& publisher, RunnerOptions options);

  // Runs `job` to completion or failure. `cancelled` is polled often; when
  // it turns true the run stops within a second and publishes nothing more
  // (whoever cancelled has already ended the job).
  void Run(const jobs::Job& job, const std::function<bool()>& cancelled);

 private:
  // Publishes a progress update; false when the job no longer accepts
  // updates (cancelled, or taken over), which ends the run.
  bool Report(int64_t job_id, jobs::ProgressUpdate update);

  publish::Publisher& publisher_;
  RunnerOptions options_;
  int last_progress_ = 0;  // progress never decreases within a run
};

}  // namespace herald::worker
