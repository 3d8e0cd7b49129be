#pragma once
// A whole Herald server wired together: store, bus, hub, publisher, API and
// HTTP listener on an io_context with HERALD_THREADS threads. `herald serve`
// runs one; integration tests run one in-process on port 0.
//
// Lifecycle: Create -> Start -> (RequestStop from any thread or a signal)
// -> Wait. Not copyable; destroy only after Wait returned.

#include <cstdint>
#include <memory>

#include "common/errors.h"
#include "config/config.h"

namespace herald {
class Clock;
struct Metrics;
namespace store {
class JobStore;
}
namespace publish {
class Publisher;
}
}  // namespace herald

namespace herald::runtime {

class Runtime {
 public:
  // Opens the store, builds the bus and the API. Errors name the setting.
  // `clock` (optional) must outlive the runtime; default: the system clock.
  static Result<std::unique_ptr<Runtime>> Create(const config::Config& config,
                                                 const Clock* clock = nullptr);
  ~Runtime();

  // Binds, starts the bus and the I/O threads. Returns at once.
  Result<void> Start();
  // Stops on SIGINT/SIGTERM (herald serve).
  void StopOnSignals();
  // Graceful stop: stop accepting, end every stream, let in-flight
  // requests finish (at most ~2 s), then stop the threads. Any thread.
  void RequestStop();
  // Blocks until stopped.
  void Wait();

  uint16_t port() const;
  Metrics& metrics();
  store::JobStore& store();
  publish::Publisher& publisher();

  class Impl;

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `herald worker`: runs HERALD_WORKERS (at least 1) audit worker threads
// against the configured store until SIGINT/SIGTERM. Blocks.
Result<void> RunWorker(const config::Config& config);

}  // namespace herald::runtime
