// The publishing side of the load generator: sends timestamped updates to
// one or many jobs over several keep-alive connections, on an open-loop
// schedule (update k is due at start + k / rate, whether or not earlier ones
// were answered) or closed loop (rate 0: each connection sends its next
// update as soon as the previous one is answered), then one terminal update
// per job.
//
// One thread per connection, each with one request in flight. Which
// connection sends an update is fixed in advance:
//   - with at least as many jobs as connections, every update of job j goes
//     through connection j % P, so one job's updates arrive in the order they
//     were stamped: progress can rise (Herald answers 409 to a decrease) and
//     Nchan payloads can carry a per-job "seq" the receivers check;
//   - with fewer jobs than connections (one job, several connections),
//     update k goes through connection k % P; their order at the server is
//     not known, so progress stays at the job's starting value and no "seq"
//     is written.
// Terminal updates start only when every progress request has been
// answered, so that none of them overtakes a progress update of its job
// (which would then get 409).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mode.h"

namespace herald::bench {

struct PublisherOptions {
  Mode mode = Mode::kHerald;
  sockaddr_storage server{};
  socklen_t server_len = 0;
  std::string host_header;
  bool nodelay = true;
  std::string token;                   // Herald: Authorization: Bearer.
  std::vector<std::string> jobs;       // Job ids (Herald) or channel ids (peers).
  std::vector<int64_t> base_progress;  // Each job's progress before the run (Herald).
  std::string publish_path;            // Per-update path, {id} = job.
  // Herald's batch endpoint: K updates per request as a JSON array, answered
  // 202 with one result per item. 0 = one update per request.
  int batch = 0;
  std::string batch_path = "/api/v1/progress";
  int connections = 1;
  double rate = 0;  // Updates per second over all jobs; 0 = closed loop.
  // The progress phase ends after this many updates, at this time (open
  // loop: the schedule's time; closed loop: the clock), or on StopProgress(),
  // whichever comes first. 0 = no such limit.
  uint64_t progress_updates = 0;
  int64_t progress_until_ns = 0;
  bool completions = true;  // Then one "completed" per job.
  int64_t deadline_ns = 0;  // Hard end (CLOCK_MONOTONIC).
};

struct PublishResult {
  uint64_t progress_sent = 0, progress_accepted = 0, progress_failed = 0;
  uint64_t completions_sent = 0, completions_accepted = 0, completions_failed = 0;
  uint64_t requests = 0;
  int64_t start_ns = 0;  // The schedule's start.
  int64_t first_progress_send_ns = 0;
  int64_t last_progress_send_ns = 0;
  int64_t last_progress_accept_ns = 0;  // Reply time of the last accepted progress update.
  int64_t end_ns = 0;
  // Open loop only: how late a request went out against its due time; for
  // the progress update with the highest index, and the worst of any.
  int64_t lag_last_ns = 0;
  int64_t lag_max_ns = 0;
  std::vector<int64_t> reply_ns;           // Send -> reply, every request, sorted.
  std::vector<uint64_t> accepted_per_job;  // Updates the server accepted, per job.
  bool ordered = false;                    // Per-job order kept (see above).
  bool batch_unsupported = false;          // The batch path answered 404 or 405.
  std::string first_error;
};

class Publisher {
 public:
  explicit Publisher(PublisherOptions options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Starts the connection threads; returns at once.
  void Start();
  // Ends the progress phase as soon as each connection's current request
  // is answered (the terminal updates follow). Thread-safe.
  void StopProgress() { stop_progress_.store(true); }
  // Abandons everything (^C, deadline). Thread-safe.
  void Abort() {
    abort_.store(true);
    stop_progress_.store(true);
  }
  // True once every connection has finished both phases.
  bool Done() const { return finished_.load() == o_.connections; }
  // Waits for both phases to end and returns what happened.
  PublishResult Join();

 private:
  struct Worker;
  void RunWorker(int index);
  void Fail(Worker& w, const std::string& error);

  PublisherOptions o_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<std::atomic<uint64_t>[]> accepted_;  // Per job.
  std::atomic<bool> stop_progress_{false};
  std::atomic<bool> abort_{false};
  std::atomic<int> progress_running_{0};  // Workers still in the progress phase.
  std::atomic<int64_t> completion_start_ns_{0};
  std::atomic<int> finished_{0};  // Set when the last one is done.
  // Ordered mode: updates sent so far per job, each written by the job's
  // one connection only.
  std::vector<uint64_t> sent_per_job_;
  bool ordered_ = false;
  int64_t start_ns_ = 0;
};

// Builds the JSON body of one update to job `job` for the given mode; `seq`
// is written into peer payloads when > 0. Exposed for the unit tests.
std::string UpdateJson(Mode mode, bool terminal, int64_t progress, int64_t stamp_ns, uint64_t seq);

// Reads Herald's batch reply, `[{"id":n}|{"error":...,"status":409}, ...]`:
// true for each accepted item, false for each refused one, in order.
// Returns false when the text is not such an array.
bool ParseBatchReply(std::string_view body, std::vector<bool>* accepted);

}  // namespace herald::bench
