#include "options.h"

#include <errno.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace herald::bench {
namespace {

constexpr int kMaxProcs = 256;

constexpr const char* kUsage = R"(usage: herald_loadgen [flags]

Opens many SSE streams to a Herald server on loopback, publishes timestamped
progress updates, and reports connect rate, delivery, latency and server RSS.

  --mode M            herald, nchan or pushpin (herald); see "Peer modes" below
  --host H            server address: 127.x.x.x, ::1 or localhost (127.0.0.1)
  --port P            server port (8000)
  --publish-port P    port for publishing, when not the stream port (--port)
  --path T            stream path; {id} is the job (/api/v1/sse/jobs/{id}/progress);
                      ?token= is appended unless T already has token= (herald only)
  --publish-path T    update path (/api/v1/jobs/{id}/progress)
  --job ID            job to watch and update (1)
  --jobs J            watch J jobs; stream i watches job i % J (1). Herald needs
                      --create; peers use channels job-1 .. job-J
  --create            create the job(s) first: POST /api/v1/jobs {"type":"bench"}
  --create-conns C    connections creating jobs in parallel (4)
  --token JWT         worker or admin token, for streams and publishing
  --streams N         streams to open in total (1000)
  --procs K           receiver processes; each holds N/K streams (1)
  --events M          updates to publish in all, one "completed" per job
                      included (100); 0 = publish nothing
  --duration S        publish progress for S seconds (open loop: S x rate
                      updates), then one "completed" per job; overrides --events
  --rate R            updates per second over all jobs, open loop: update k is
                      due at start + k/R whether or not earlier ones were
                      answered; 0 = closed loop, back to back (50)
  --publishers P      publishing connections, one request in flight each (1)
  --batch K           K updates per request to POST /api/v1/progress as a JSON
                      array (Herald only; a 404 there is reported as such)
  --storm-after S     the storm: S seconds into publishing, close every stream
                      at once and reconnect it with Last-Event-ID; report
                      resume times, gaps and duplicates (0 = no storm)
  --storm-tail S      keep publishing S seconds after every stream resumed (3)
  --storm-concurrency C  reconnects in flight after the cut; 0 = all at once (0)
  --storm-delay S     reconnect S seconds after the cut, as EventSource does
                      after its retry: time, so that updates published
                      meanwhile must be replayed (0)
  --storm-id-offset N a deliberate fault, to see the checks fire: resume with
                      Last-Event-ID = last id + N (-2: duplicates, 2: a gap);
                      Herald's numeric ids only (0)
  --timeout S         hard limit for the whole run, seconds (120)
  --server-pid PID[,PID...]  read the server's VmRSS and CPU from /proc/PID
                      (summed over the list)
  --server-tree 0|1   sum VmRSS and CPU over each PID and all its descendants (0)
  --nodelay 0|1       TCP_NODELAY on client sockets (1)
  --hold S            keep the streams idle S seconds before publishing (0)
  --concurrency C     connects in flight at once, over all processes (512)
  --connect-rate R    new connections per second over all processes; 0 = no cap (0)
  --retries N         extra attempts per stream after a connect error (3)
  --sources N         source addresses 127.0.0.1 + 0..N-1; 0 = do not bind
                      (max(255, N/16384) by default; IPv6 never binds)
  --help              this text

Peer modes publish the same JSON payloads (plus a per-job "seq" when each
job's updates go through one connection) and measure latency the same way
(receive time - the t= stamp), for a same-run comparison:
  nchan    streams GET /sub/{id} (nginx nchan_subscriber eventsource), publish
           POST /pub/{id} with the JSON as the raw body (2xx accepted)
  pushpin  streams GET /stream/{id} (through Pushpin to an origin that answers
           Grip-Hold: stream, Grip-Channel: job-{id}); publish POST /publish/
           on --publish-port with {"items":[{"channel":"job-{id}","formats":
           {"http-stream":{"content":"event: message\ndata: <json>\n\n"}}}]}
In both a stream is established at its 200 response head (they send no event
at connect), every stamped event counts as delivered, and the loadgen closes a
stream itself when it reads the "completed" event. --create, --token and
--batch are Herald's only.

Prints a summary and one line starting with RESULT. Exit status: 0 when every
stream was established, every update accepted and every stream saw the
terminal event before the timeout (and, in a storm, every stream resumed with
no gap and no duplicate); 1 otherwise; 2 for bad flags.
)";

template <class T>
T ParseNumber(std::string_view flag, std::string_view text, T min, T max) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    UsageError("bad value for " + std::string(flag) + ": '" + std::string(text) + "'");
  }
  return value;
}

double ParseDouble(std::string_view flag, const std::string& text, double min, double max) {
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !std::isfinite(value) || value < min ||
      value > max) {
    UsageError("bad value for " + std::string(flag) + ": '" + text + "'");
  }
  return value;
}

}  // namespace

void UsageError(const std::string& message) {
  std::fprintf(stderr, "herald_loadgen: %s (see --help)\n", message.c_str());
  std::exit(2);
}

Options ParseFlags(int argc, char** argv) {
  Options o;
  bool events_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) UsageError("unexpected argument '" + arg + "'");
    std::string name = arg;
    std::string value;
    bool has_value = false;
    if (std::size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "--create") {
      o.create = has_value ? ParseNumber<int>(name, value, 0, 1) == 1 : true;
      continue;
    }
    static const char* const kValued[] = {"--host",
                                          "--port",
                                          "--path",
                                          "--publish-path",
                                          "--job",
                                          "--token",
                                          "--streams",
                                          "--procs",
                                          "--events",
                                          "--rate",
                                          "--timeout",
                                          "--server-pid",
                                          "--nodelay",
                                          "--hold",
                                          "--concurrency",
                                          "--connect-rate",
                                          "--retries",
                                          "--sources",
                                          "--mode",
                                          "--publish-port",
                                          "--server-tree",
                                          "--jobs",
                                          "--create-conns",
                                          "--duration",
                                          "--publishers",
                                          "--batch",
                                          "--storm-after",
                                          "--storm-tail",
                                          "--storm-concurrency",
                                          "--storm-id-offset",
                                          "--storm-delay"};
    bool known = std::any_of(std::begin(kValued), std::end(kValued),
                             [&](const char* k) { return name == k; });
    if (!known) UsageError("unknown flag '" + name + "'");
    if (!has_value) {
      if (i + 1 >= argc) UsageError("missing value for " + name);
      value = argv[++i];
    }
    if (name == "--mode") {
      if (value == "herald") {
        o.mode = Mode::kHerald;
      } else if (value == "nchan") {
        o.mode = Mode::kNchan;
      } else if (value == "pushpin") {
        o.mode = Mode::kPushpin;
      } else {
        UsageError("bad value for --mode: '" + value + "' (herald, nchan or pushpin)");
      }
    } else if (name == "--host") {
      o.host = value;
    } else if (name == "--port") {
      o.port = ParseNumber<int>(name, value, 1, 65535);
    } else if (name == "--publish-port") {
      o.publish_port = ParseNumber<int>(name, value, 1, 65535);
    } else if (name == "--path") {
      if (value.empty() || value[0] != '/') UsageError("--path must start with '/'");
      o.path = value;
      o.path_set = true;
    } else if (name == "--publish-path") {
      if (value.empty() || value[0] != '/') UsageError("--publish-path must start with '/'");
      o.publish_path = value;
      o.publish_path_set = true;
    } else if (name == "--job") {
      if (value.empty() || value.find_first_of("/?# \r\n") != std::string::npos) {
        UsageError("bad value for --job: '" + value + "'");
      }
      o.job = value;
    } else if (name == "--jobs") {
      o.jobs = ParseNumber<uint64_t>(name, value, 1, 1'000'000);
    } else if (name == "--create-conns") {
      o.create_connections = ParseNumber<int>(name, value, 1, 256);
    } else if (name == "--token") {
      if (value.find_first_of(" \r\n") != std::string::npos) UsageError("bad value for --token");
      o.token = value;
    } else if (name == "--streams") {
      o.streams = ParseNumber<uint64_t>(name, value, 1, 10'000'000);
    } else if (name == "--procs") {
      o.procs = ParseNumber<int>(name, value, 1, kMaxProcs);
    } else if (name == "--events") {
      o.events = ParseNumber<uint64_t>(name, value, 0, 100'000'000);
      events_set = true;
    } else if (name == "--duration") {
      o.duration = ParseDouble(name, value, 0, 86400);
    } else if (name == "--rate") {
      o.rate = ParseDouble(name, value, 0, 1e7);
    } else if (name == "--publishers") {
      o.publishers = ParseNumber<int>(name, value, 1, 1024);
    } else if (name == "--batch") {
      o.batch = ParseNumber<int>(name, value, 0, 100'000);
    } else if (name == "--storm-after") {
      o.storm_after = ParseDouble(name, value, 0, 86400);
    } else if (name == "--storm-tail") {
      o.storm_tail = ParseDouble(name, value, 0, 86400);
    } else if (name == "--storm-concurrency") {
      o.storm_concurrency = ParseNumber<int>(name, value, 0, 10'000'000);
    } else if (name == "--storm-delay") {
      o.storm_delay = ParseDouble(name, value, 0, 3600);
    } else if (name == "--storm-id-offset") {
      o.storm_id_offset = ParseNumber<int64_t>(name, value, -1'000'000, 1'000'000);
    } else if (name == "--timeout") {
      o.timeout = ParseDouble(name, value, 0.001, 86400);
    } else if (name == "--server-pid") {
      o.server_pids.clear();
      std::string_view rest = value;
      while (true) {
        std::size_t comma = rest.find(',');
        o.server_pids.push_back(ParseNumber<long>(name, rest.substr(0, comma), 1, 1L << 31));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == "--server-tree") {
      o.server_tree = ParseNumber<int>(name, value, 0, 1) == 1;
    } else if (name == "--nodelay") {
      o.nodelay = ParseNumber<int>(name, value, 0, 1) == 1;
    } else if (name == "--hold") {
      o.hold = ParseDouble(name, value, 0, 86400);
    } else if (name == "--concurrency") {
      o.concurrency = ParseNumber<int>(name, value, 1, 1'000'000);
    } else if (name == "--connect-rate") {
      o.connect_rate = ParseDouble(name, value, 0, 1e9);
    } else if (name == "--retries") {
      o.retries = ParseNumber<int>(name, value, 0, 100);
    } else if (name == "--sources") {
      o.sources = ParseNumber<long>(name, value, 0, 1L << 24);
    }
  }
  if (static_cast<uint64_t>(o.procs) > o.streams) UsageError("--procs exceeds --streams");
  if (o.mode != Mode::kHerald) {
    if (o.create) UsageError("--create is for --mode herald only");
    if (!o.token.empty()) UsageError("--token is for --mode herald only");
    if (o.batch > 0) UsageError("--batch is for --mode herald only (POST /api/v1/progress)");
    if (o.storm_id_offset != 0) UsageError("--storm-id-offset is for --mode herald only");
    if (!o.path_set) o.path = o.mode == Mode::kNchan ? "/sub/{id}" : "/stream/{id}";
    if (!o.publish_path_set) o.publish_path = o.mode == Mode::kNchan ? "/pub/{id}" : "/publish/";
  }
  if (o.mode == Mode::kHerald && o.jobs > 1 && !o.create) {
    UsageError("--jobs above 1 needs --create with --mode herald");
  }
  if (o.duration > 0 && o.rate > 0 && o.duration * o.rate < 1) {
    UsageError("--duration x --rate is less than one update");
  }
  if (o.duration == 0 && o.storm_after == 0 && o.events > 0 && o.events < o.jobs) {
    UsageError("--events must be at least --jobs (one \"completed\" per job)");
  }
  if (o.storm_after > 0 && events_set && o.events == 0) {
    UsageError("--storm-after needs updates flowing (--events above 0)");
  }
  if (o.publish_port == 0) o.publish_port = o.port;
  return o;
}

}  // namespace herald::bench
