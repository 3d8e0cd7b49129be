#pragma once
// The one path every change takes, whoever makes it (the REST API, the
// built-in audit workers, `herald worker`): persist in the store first, then
// publish on the bus. A stream that misses a publish still finds the event
// in the store, so nothing a client is owed is lost.
//
// Two threads of its own, so that neither callers nor subscribers wait on
// each other:
//   committer  takes everything queued since its last transaction and
//              commits it as one (group commit: one fsync for many
//              updates), then answers each caller: durable, or refused;
//   fan-out    publishes what was committed, in commit order, on the bus;
//              with the in-process bus that is where the hub hands each
//              event to its streams. A caller's answer never waits for it.
// One committer keeps commit order = publish order, per job (sequence
// numbers) and across jobs (feed ids, the /notify/events SSE ids).
//
// Thread-safe. The Submit* calls never block; their `done` runs on the
// committer thread and must not block either (post the answer somewhere).
// The blocking forms wait for the commit: for worker threads and tools.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald {
struct Metrics;
}
namespace herald::bus {
class Bus;
}

namespace herald::publish {

// Called on the committer thread for each committed job event before its
// caller is answered (the server keeps its hub's windows current with it,
// so a stream opened right after a 202 starts from that update or later).
using CommitObserver = std::function<void(std::string_view channel, std::string_view payload)>;

struct PublisherOptions {
  // Most updates one transaction commits; more wait for the next one.
  std::size_t max_batch = 1024;
  CommitObserver on_commit;  // optional
};

class Publisher {
 public:
  using UpdatesDone = std::function<void(Result<std::vector<store::UpdateOutcome>>)>;
  using CreateDone = std::function<void(Result<store::Applied>)>;
  using NoticeDone = std::function<void(Result<store::FeedEntry>)>;

  // All three must outlive the Publisher. Starts its threads.
  Publisher(store::JobStore& store, bus::Bus& bus, Metrics& metrics, PublisherOptions options = {});
  // Stop(): what was queued is committed and published first.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Commits and publishes everything already queued, then ends the threads.
  // Anything submitted afterwards is answered kUnavailable at once.
  void Stop();

  // Updates apply in the order given; the outcomes come back in that order.
  void SubmitUpdates(std::vector<store::JobUpdate> updates, UpdatesDone done);
  void SubmitCreate(store::NewJob job, CreateDone done);
  void SubmitNotice(store::NewNotice notice, NoticeDone done);

  // Blocking forms of the above.
  Result<store::Applied> Create(const store::NewJob& job);
  // Update is Herald's own (the audit runner, a worker giving up): a
  // progress below the job's is raised to it, never refused.
  Result<store::Applied> Update(int64_t job_id, const jobs::ProgressUpdate& update);
  Result<store::FeedEntry> Notify(const store::NewNotice& notice);

 private:
  struct UpdatesOp {
    std::vector<store::JobUpdate> updates;
    UpdatesDone done;
  };
  struct CreateOp {
    store::NewJob job;
    CreateDone done;
  };
  struct NoticeOp {
    store::NewNotice notice;
    NoticeDone done;
  };
  using Op = std::variant<UpdatesOp, CreateOp, NoticeOp>;
  // What the fan-out thread publishes: a job event on its channel (empty
  // for a notice) and the feed entry.
  struct Outgoing {
    std::string channel;
    std::string payload;
    store::FeedEntry feed;
  };

  // Queues `op` (moving from it) unless stopping: then false, op untouched.
  bool Enqueue(Op& op);
  // Tells the observer of a committed job event, then queues it for the
  // fan-out thread.
  void Committed(const store::Applied& applied, std::vector<Outgoing>& out);
  void CommitLoop();
  // Commits ops[begin, end), all UpdatesOps, in one transaction.
  void CommitUpdates(std::vector<Op>& ops, std::size_t begin, std::size_t end,
                     std::vector<Outgoing>& out);
  void FanOutLoop();

  store::JobStore& store_;
  bus::Bus& bus_;
  Metrics& metrics_;
  const PublisherOptions options_;

  std::mutex mu_;
  std::condition_variable wake_commit_;
  std::condition_variable wake_fanout_;
  std::vector<Op> ops_;            // guarded by mu_
  std::deque<Outgoing> outgoing_;  // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  bool committer_done_ = false;    // guarded by mu_
  std::thread committer_;
  std::thread fanout_;
};

}  // namespace herald::publish
