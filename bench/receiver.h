// The receiving side of the load generator: one process holding many SSE
// streams on one epoll loop. It runs in a forked child and talks to the
// parent over two pipes.
//
// Protocol, one text line per message:
//   child -> parent  "READY <counters>"   every stream established or given up
//                    "RESUMED <counters>" after a CUT: every cut stream
//                                         resumed or given up
//                    "FINAL <counters>"   then "HIST lat <histogram>",
//                    "HIST conn <histogram>", "HIST resume <histogram>" and "END"
//   parent -> child  "COUNTS <n0> <n1> ..." updates the server accepted per
//                    job (job i of the request list); sent before DRAIN
//                    "CUT <ns>"  close every open stream now and reconnect it
//                    at once with Last-Event-ID (the storm); <ns> is when the
//                    parent decided to cut, the zero of the resume times
//                    "DRAIN <published> <deadline_ns>"  publishing is over:
//                    finish when every stream has ended or at the deadline
//                    "STOP <published>"  finish now
// EOF on the control pipe counts as STOP.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace herald::bench {

struct ReceiverOptions {
  sockaddr_storage server{};
  socklen_t server_len = 0;
  // The complete GET request per job; stream with global index g watches
  // job g % requests.size(). A resumed stream adds Last-Event-ID.
  std::vector<std::string> requests;
  std::size_t streams = 0;      // Streams this process opens.
  std::size_t first_index = 0;  // Global index of its first stream.
  // Source addresses 127.0.0.1 + (index % source_count), bound with
  // IP_BIND_ADDRESS_NO_PORT; 0 leaves the choice to the kernel (IPv6).
  uint32_t source_count = 0;
  int max_in_flight = 512;   // Streams connecting but not yet established.
  int resume_in_flight = 0;  // The same cap after a CUT; 0 = none (all at once).
  // Fault injection, to show the storm's checks fire: resume with
  // Last-Event-ID = last id + offset (-2 asks for a replay of ids already
  // seen: duplicates; +2 skips two: a gap). Numeric ids only. 0 = honest.
  int64_t resume_id_offset = 0;
  // Reconnect this long after the cut instead of at once (EventSource waits
  // its retry: time); updates published meanwhile must come as a replay.
  int64_t resume_delay_ns = 0;
  double connect_rate = 0;  // New connects per second; 0 = unlimited.
  int retries = 3;          // Extra attempts after a connect error.
  bool nodelay = true;
  // Peer servers (Nchan, Pushpin) send no event at connect: a stream counts
  // as established on its 200 response head, and every stamped event after
  // it is a delivery (no "initial" event).
  bool established_on_headers = false;
  // Peer servers keep a stream open after the terminal event: close it as
  // soon as that event is read (counted as terminal, not as open_after_terminal).
  bool close_on_terminal = false;
  // Take an event's sequence number from the "seq" field of its data
  // instead of its id: line (Nchan's ids are "<time>:<n>"; the publisher
  // writes "seq" into peer payloads).
  bool seq_from_payload = false;
  int64_t deadline_ns = 0;  // Hard end of the run (CLOCK_MONOTONIC).
  int report_fd = -1;       // Write end of the child -> parent pipe.
  int control_fd = -1;      // Read end of the parent -> child pipe.
};

// Runs until the streams are done, the parent says stop, or the deadline.
// Returns the process exit code.
int RunReceiver(const ReceiverOptions& options);

}  // namespace herald::bench
