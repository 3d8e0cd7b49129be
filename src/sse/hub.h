#pragma once
// A Hub routes events from the bus to the streams watching them. It
// subscribes to a job's channel when the first stream joins and unsubscribes
// when the last one leaves; notification streams share the one feed channel
// and are routed by user here.
//
// Thread-safe. Holds streams by weak_ptr: a Hub never keeps a stream alive.
// Each message is parsed and framed once, then the same buffer is handed to
// every subscriber; Deliver only posts, so nothing under the lock blocks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sse/event.h"

namespace herald::bus {
class Bus;
}

namespace herald::sse {

class StreamShard;

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Any thread; must not block.
  virtual void Deliver(EventPtr event) = 0;
  // The shard a stream is written from, if any: a fan-out hands each shard
  // its subscribers in one batch (one lock, one wakeup) instead of calling
  // Deliver per subscriber.
  virtual StreamShard* shard() { return nullptr; }
  // Any thread: end now (server shutdown).
  virtual void Stop() = 0;
};

// What a live window knows of its job: enough to admit a stream (owner,
// kind) and to answer a reconnect (last event, terminal) without the store.
struct JobInfo {
  int64_t job_id = 0;
  std::string owner;
  bool audit = false;
  int64_t last_seq = 0;
  bool terminal = false;
};

// Where a progress stream opened by JoinProgress starts.
struct StartPoint {
  enum class From {
    kWindow,  // `frames` (the replay, or the current state) then live
    kStore,   // the window cannot serve it: read the store (joined already)
  };
  From from = From::kStore;
  std::vector<EventPtr> frames;
  int64_t last_seq = 0;   // for Stream::Start: what `frames` cover
  bool finished = false;  // the last frame is terminal: end after it
};

struct HubOptions {
  // Events a job's window keeps (and at most this many bytes of them): a
  // reconnect whose Last-Event-ID is within the window reads no database.
  std::size_t window_events = 64;
  std::size_t window_bytes = 32 * 1024;
  // How long a window (and its bus subscription) outlives the job's last
  // stream, so that a reconnect storm finds it. 0: dropped with the stream.
  std::chrono::milliseconds linger{30000};
};

class Hub {
 public:
  using Clock = std::chrono::steady_clock;

  // `bus` must outlive the Hub; the Hub installs itself as the bus's handler.
  explicit Hub(bus::Bus& bus, HubOptions options = {});

  // Progress streams: joins `subscriber` to the job's channel and decides
  // where it starts, atomically with respect to deliveries, so nothing
  // falls between the start point and the live events. `resume` is the
  // Last-Event-ID. With a live window: `ready` is called at once, on this
  // thread, with frames from the window. Without one the first joiner
  // gets true back and must load it: call SeedWindow (or DropWindow) once
  // the bus hears the channel and the store was read; `ready` of every
  // joiner, the loader's included, runs then.
  bool JoinProgress(int64_t job_id, const std::string& channel, std::optional<int64_t> resume,
                    const std::shared_ptr<Subscriber>& subscriber,
                    std::function<void(StartPoint)> ready);
  // `events`: the job's newest events, ascending and contiguous, the last
  // one its current state. Events delivered meanwhile are kept on top.
  void SeedWindow(const JobInfo& info, std::vector<EventPtr> events);
  // The load failed: the waiting joiners read the store themselves.
  void DropWindow(int64_t job_id);
  // A commit of this process, told before the bus carries it: a polling
  // bus would bring it only after its interval, and a stream opened
  // meanwhile must not start from an older state than its own writer saw.
  // Updates the job's window only; the streams get the event from the bus.
  void OnLocalCommit(std::string_view channel, std::string_view payload);
  // The job as its live window knows it; nullopt without one.
  std::optional<JobInfo> Info(int64_t job_id);
  // Drops windows whose last stream left more than `linger` ago and
  // unsubscribes their channels. Call periodically.
  void Sweep(Clock::time_point now = Clock::now());

  void Join(const std::string& channel, const std::shared_ptr<Subscriber>& subscriber);
  void Leave(const std::string& channel, const Subscriber* subscriber);

  // Notification streams: a user's job events (every job's, for admins) and
  // notices addressed to the user or to "*".
  void JoinFeed(const std::string& user, bool admin, const std::shared_ptr<Subscriber>& subscriber);
  void LeaveFeed(const Subscriber* subscriber);

  // The bus handler.
  void OnMessage(std::string_view channel, std::string_view payload);

  // Every stream joined now (progress and notification).
  std::vector<std::shared_ptr<Subscriber>> All();
  // Stops every stream that is joined (server shutdown).
  void StopAll();

  const HubOptions& options() const { return options_; }
  size_t SubscriberCountForTest(const std::string& channel);
  size_t WindowCountForTest();

 private:
  using Members = std::unordered_map<const Subscriber*, std::weak_ptr<Subscriber>>;
  // A job's recent events, shared by all its streams. kLoading: the first
  // joiner reads the store; what arrives meanwhile waits in `events`.
  struct Window {
    enum class State { kLoading, kLive };
    State state = State::kLoading;
    std::string channel;
    JobInfo info;
    std::deque<EventPtr> events;  // kLive: contiguous seqs, newest last
    std::size_t bytes = 0;
    struct Waiter {
      std::optional<int64_t> resume;
      std::function<void(StartPoint)> ready;
    };
    std::vector<Waiter> waiters;
    std::optional<Clock::time_point> empty_since;  // no stream joined
    // This process's commits (OnLocalCommit) the bus has not brought back
    // yet, oldest first: their payloads and the events framed from them.
    std::deque<std::pair<std::string, EventPtr>> local;
  };
  using Ready = std::vector<std::pair<std::function<void(StartPoint)>, StartPoint>>;

  StartPoint StartFor(const Window& window, std::optional<int64_t> resume) const;
  // false: the event cannot follow on (a gap, or no id); drop the window.
  bool Append(Window& window, const EventPtr& event);
  // Appends to the channel's window, if any; drops the window on a gap.
  void Remember(const std::string& channel, const EventPtr& event);
  // The event OnLocalCommit framed from `payload`, if it is the next one
  // of the channel's window the bus was to bring back; else null.
  EventPtr TakeLocal(const std::string& channel, std::string_view payload);
  void Trim(Window& window);
  void LeaveLocked(const std::string& channel, const Subscriber* subscriber);
  struct FeedMember {
    std::string user;
    bool admin = false;
  };

  void OnFeedMessage(std::string_view payload);
  static void DeliverAll(const Members& members, const EventPtr& event);

  bus::Bus& bus_;
  const HubOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Members> channels_;      // guarded by mu_
  std::unordered_map<int64_t, Window> windows_;            // guarded by mu_
  std::unordered_map<std::string, int64_t> window_of_;     // channel -> job, guarded by mu_
  std::unordered_map<std::string, Members> feed_by_user_;  // guarded by mu_
  Members feed_admins_;                                    // guarded by mu_
  std::unordered_map<const Subscriber*, FeedMember> feed_members_;  // guarded by mu_
};

}  // namespace herald::sse
