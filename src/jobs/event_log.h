#pragma once
// What a job's history and the notification feed are made of, and the one
// question the polling bus asks of whoever keeps them. Here, not in store/,
// so bus/ and sse/ depend on these types without depending on a database.

#include <cstdint>
#include <string>
#include <vector>

#include "common/errors.h"

namespace herald::jobs {

// One entry of a job's event log. `seq` is 1, 2, 3, ... per job.
struct StoredEvent {
  int64_t job_id = 0;
  int64_t seq = 0;
  std::string payload;  // the progress payload as sent on the wire
  int64_t created_at_ms = 0;
};

// One entry of the notification feed (`/notify/events`): every job event and
// every notice, in one global id order.
struct FeedEntry {
  int64_t id = 0;
  bool notice = false;  // false: a job event
  int64_t job_id = 0;   // job events: the job and its sequence number
  int64_t seq = 0;
  std::string audience;  // job owner, or the notice's user, or "*"
  std::string event;     // SSE event name: "audit", "job" or the notice type
  std::string data;      // JSON text: progress payload, or the notice object
};

// The feed in id order, as the polling bus reads it (store::JobStore is one).
// Blocking and thread-safe.
class FeedReader {
 public:
  virtual ~FeedReader() = default;
  // Every feed entry with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<FeedEntry>> FeedAll(int64_t after_id, int limit) = 0;
  // The newest feed id (0 when empty).
  virtual Result<int64_t> LatestFeedId() = 0;
};

}  // namespace herald::jobs
