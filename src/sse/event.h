#pragma once
// One SSE event, encoded once and shared by every stream that sends it: a
// publish to 19,000 subscribers costs one buffer, not 19,000 copies.

#include <cstdint>
#include <memory>
#include <string>

namespace herald::sse {

struct Event {
  int64_t seq = 0;        // the SSE id; 0 when the publisher gave none
  bool terminal = false;  // the stream ends after sending it
  bool failed = false;    // with terminal: the job failed (for the log line)
  bool comment = false;   // a heartbeat: not counted as a delivered event
  std::string wire;       // the complete frame, ending in a blank line
  // Notification events only: the plain form (no `event:` line, the name
  // inside the data as "event"), which the notification stream sends
  // unless asked for named events. Empty for every other event.
  std::string plain;
};
using EventPtr = std::shared_ptr<const Event>;

}  // namespace herald::sse
