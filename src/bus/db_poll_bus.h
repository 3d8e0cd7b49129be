#pragma once
// Live updates found by reading the store's global feed: one FeedAll query
// per poll serves every stream of the process, however many jobs they
// watch. Publish is a no-op: the update is already in the store, which is
// what this bus reads.
//
// On its own it is SSE_SOURCE=db (a poll every `interval`). It is also the
// polling half of the push buses: they Wake() it when the broker says
// something changed (the feed channel, LISTEN/NOTIFY), and switch job
// delivery off while push works (SetDispatchJobs), so Redis carries job
// events and the store only orders the notification feed.
//
// Thread-safe. Owns one polling thread between Start() and Stop().

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bus/bus.h"

namespace herald::jobs {
class FeedReader;
}

namespace herald::bus {

class DbPollBus final : public Bus {
 public:
  // `store` must outlive the bus.
  DbPollBus(jobs::FeedReader& store, std::chrono::milliseconds interval);
  ~DbPollBus() override;

  void SetHandler(Handler handler) override { handler_ = std::move(handler); }
  void Start() override;
  void Stop() override;
  void Publish(const std::string&, std::string) override {}
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;

  // Polls now rather than at the next tick (coalesced: many wakes while a
  // poll runs cause one more poll, not many).
  void Wake();
  // Whether job-channel events are handed to the handler (default: yes).
  // Turning it off wakes one last poll that still delivers them: a push
  // bus turns it off once its subscriptions are confirmed, and that poll
  // catches what was committed before. While off and nobody follows the
  // feed, a poll only notes the newest feed id (one cheap query), keeping
  // the position one interval behind so that turning delivery back on
  // re-reads what a failing broker may have dropped (streams skip what they
  // already have, by sequence number).
  void SetDispatchJobs(bool on);

  // Up to `max` subscribed channels (for log lines).
  std::vector<std::string> SomeChannels(size_t max);

  // Runs one poll now, on the caller's thread (tests).
  void PollOnceForTest() { PollOnce(); }

 private:
  void Run();
  void PollOnce();
  void Dispatch(bool jobs);
  void NoteLatest();
  bool IsSubscribed(const std::string& channel);

  jobs::FeedReader& store_;
  const std::chrono::milliseconds interval_;
  Handler handler_;
  // Only touched by the polling thread (and Start).
  int64_t last_feed_id_ = 0;
  int64_t noted_feed_id_ = -1;  // the newest id seen by the previous NoteLatest

  std::atomic<bool> dispatch_jobs_{true};
  std::atomic<bool> final_job_poll_{false};

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                     // guarded by mu_
  bool woken_ = false;                        // guarded by mu_
  std::unordered_set<std::string> channels_;  // guarded by mu_
  // channels_ holds kFeedChannel; read without the lock once per feed entry.
  std::atomic<bool> feed_subscribed_{false};
  std::thread thread_;
};

}  // namespace herald::bus
