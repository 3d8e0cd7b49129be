// herald_loadgen's flags (see --help and bench/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mode.h"

namespace herald::bench {

struct Options {
  Mode mode = Mode::kHerald;
  std::string host = "127.0.0.1";
  int port = 8000;
  int publish_port = 0;  // 0: same as port.
  std::string path = "/api/v1/sse/jobs/{id}/progress";
  std::string publish_path = "/api/v1/jobs/{id}/progress";
  bool path_set = false;
  bool publish_path_set = false;
  std::string job = "1";
  uint64_t jobs = 1;  // Jobs watched; stream i watches job i % jobs.
  bool create = false;
  int create_connections = 4;
  std::string token;
  uint64_t streams = 1000;
  int procs = 1;
  uint64_t events = 100;        // Updates in all, one terminal per job included.
  double duration = 0;          // Seconds of progress updates instead of --events.
  double rate = 50;             // Updates per second over all jobs; 0 = closed loop.
  int publishers = 1;           // Publishing connections, one request in flight each.
  int batch = 0;                // Updates per request to POST /api/v1/progress (Herald).
  double storm_after = 0;       // Seconds into publishing to cut every stream; 0 = no storm.
  double storm_tail = 3;        // Seconds of publishing after every stream resumed.
  int storm_concurrency = 0;    // Reconnects in flight after the cut; 0 = all at once.
  int64_t storm_id_offset = 0;  // Fault injection: Last-Event-ID = last + offset.
  double storm_delay = 0;       // Seconds between the cut and the reconnects.
  double timeout = 120;
  std::vector<long> server_pids;
  bool server_tree = false;
  bool nodelay = true;
  double hold = 0;
  int concurrency = 512;
  double connect_rate = 0;
  int retries = 3;
  long sources = -1;  // -1: automatic.
};

// Parses argv; prints usage and exits 0 for --help, exits 2 with one line
// on stderr for a bad flag.
Options ParseFlags(int argc, char** argv);

[[noreturn]] void UsageError(const std::string& message);

}  // namespace herald::bench
