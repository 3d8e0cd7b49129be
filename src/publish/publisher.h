#pragma once
// The one path every change takes, whoever makes it (the REST API, the
// built-in audit workers, `herald worker`): persist in the store first, then
// publish on the bus. A stream that misses a publish still finds the event
// in the store, so nothing a client is owed is lost.
//
// Blocking (it writes the store); call it from a blocking pool. Thread-safe.

#include <cstdint>
#include <mutex>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald {
struct Metrics;
}
namespace herald::bus {
class Bus;
}

namespace herald::publish {

class Publisher {
 public:
  // All three must outlive the Publisher.
  Publisher(store::JobStore& store, bus::Bus& bus, Metrics& metrics);

  Result<store::Applied> Create(const store::NewJob& job);
  Result<store::Applied> Update(int64_t job_id, const jobs::ProgressUpdate& update);
  Result<store::FeedEntry> Notify(const store::NewNotice& notice);

 private:
  void Publish(const store::Applied& applied);

  store::JobStore& store_;
  bus::Bus& bus_;
  Metrics& metrics_;
  // Held across "store, then publish" so that the bus sees changes in commit
  // order: per job (sequence numbers) and across jobs (feed ids, which
  // /notify/events streams use as their SSE ids). SQLite serialises writes
  // anyway, so one lock costs no parallelism there.
  std::mutex order_;
};

}  // namespace herald::publish
