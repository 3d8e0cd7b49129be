// herald_loadgen: opens many SSE progress streams to a Herald server on
// loopback, publishes timestamped progress updates to the job, and reports
// connect rate, delivery, latency and the server's memory per stream.
//
// Shape of a run (all of it bounded by --timeout):
//   1. the parent forks --procs receivers; each opens its share of the
//      streams on its own epoll loop (receiver.cc) and says READY;
//   2. the parent samples the server's RSS, waits --hold seconds, then
//      publishes --events updates at --rate per second on one keep-alive
//      connection, the last one `completed`, which ends every stream;
//   3. the parent tells the receivers to drain, collects their counters and
//      histograms, and prints a summary and one RESULT line.
//
// Standalone on purpose: it links nothing of Herald, so it measures the
// server and not itself.

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.h"
#include "receiver.h"
#include "sse_parser.h"
#include "stats.h"

namespace herald::bench {
namespace {

constexpr int kMaxProcs = 256;
// File descriptors a receiver needs besides its streams (pipes, epoll, stdio).
constexpr uint64_t kSpareFds = 32;
// A receiver that has not reported this long after the run's deadline is killed.
constexpr int64_t kCollectGraceNs = 10'000'000'000;
// When the terminal update was not accepted, streams get this long to drain.
constexpr int64_t kShortDrainNs = 3'000'000'000;
// After STOP (^C), receivers get this long to report.
constexpr int64_t kStopGraceNs = 3'000'000'000;

volatile sig_atomic_t g_interrupted = 0;

void OnSignal(int) { g_interrupted = 1; }

// Which server speaks on the other end. Herald is the default; the peers are
// measured by bench/compare-peers.sh with the same scenario.
enum class Mode { kHerald, kNchan, kPushpin };

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kHerald: return "herald";
    case Mode::kNchan: return "nchan";
    case Mode::kPushpin: return "pushpin";
  }
  return "?";
}

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
  bool create = false;
  std::string token;
  uint64_t streams = 1000;
  int procs = 1;
  uint64_t events = 100;
  double rate = 50;
  double timeout = 120;
  long server_pid = 0;
  bool server_tree = false;
  bool nodelay = true;
  double hold = 0;
  int concurrency = 512;
  double connect_rate = 0;
  int retries = 3;
  long sources = -1;  // -1: automatic.
};

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
  --create            create a job first: POST /api/v1/jobs {"type":"bench"}
  --token JWT         worker or admin token, for streams and publishing
  --streams N         streams to open in total (1000)
  --procs K           receiver processes; each holds N/K streams (1)
  --events M          updates to publish; the last one is "completed" (100)
  --rate R            updates per second; 0 = back to back (50)
  --timeout S         hard limit for the whole run, seconds (120)
  --server-pid PID    read the server's VmRSS from /proc/PID/status
  --server-tree 0|1   sum VmRSS and CPU over PID and all its descendants (0)
  --nodelay 0|1       TCP_NODELAY on client sockets (1)
  --hold S            keep the streams idle S seconds before publishing (0)
  --concurrency C     connects in flight at once, over all processes (512)
  --connect-rate R    new connections per second over all processes; 0 = no cap (0)
  --retries N         extra attempts per stream after a connect error (3)
  --sources N         source addresses 127.0.0.1 + 0..N-1; 0 = do not bind
                      (max(255, N/16384) by default; IPv6 never binds)
  --help              this text

Peer modes publish the same JSON payloads and measure latency the same way
(receive time - the t= stamp), for a same-run comparison:
  nchan    streams GET /sub/{id} (nginx nchan_subscriber eventsource), publish
           POST /pub/{id} with the JSON as the raw body (2xx accepted)
  pushpin  streams GET /stream/{id} (through Pushpin to an origin that answers
           Grip-Hold: stream, Grip-Channel: job-{id}); publish POST /publish/
           on --publish-port with {"items":[{"channel":"job-{id}","formats":
           {"http-stream":{"content":"event: message\ndata: <json>\n\n"}}}]}
In both a stream is established at its 200 response head (they send no event
at connect), every stamped event counts as delivered, and the loadgen closes a
stream itself when it reads the "completed" event. --create and --token are
Herald's only.

Prints a summary and one line starting with RESULT. Exit status: 0 when every
stream was established, every update accepted and every stream saw the
terminal event before the timeout; 1 otherwise; 2 for bad flags.
)";

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "herald_loadgen: %s (see --help)\n", message.c_str());
  std::exit(2);
}

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

Options ParseFlags(int argc, char** argv) {
  Options o;
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
    static const char* const kValued[] = {
        "--host", "--port", "--path", "--publish-path", "--job", "--token", "--streams",
        "--procs", "--events", "--rate", "--timeout", "--server-pid", "--nodelay", "--hold",
        "--concurrency", "--connect-rate", "--retries", "--sources", "--mode",
        "--publish-port", "--server-tree"};
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
    } else if (name == "--token") {
      if (value.find_first_of(" \r\n") != std::string::npos) UsageError("bad value for --token");
      o.token = value;
    } else if (name == "--streams") {
      o.streams = ParseNumber<uint64_t>(name, value, 1, 10'000'000);
    } else if (name == "--procs") {
      o.procs = ParseNumber<int>(name, value, 1, kMaxProcs);
    } else if (name == "--events") {
      o.events = ParseNumber<uint64_t>(name, value, 0, 100'000'000);
    } else if (name == "--rate") {
      o.rate = ParseDouble(name, value, 0, 1e7);
    } else if (name == "--timeout") {
      o.timeout = ParseDouble(name, value, 0.001, 86400);
    } else if (name == "--server-pid") {
      o.server_pid = ParseNumber<long>(name, value, 1, 1L << 31);
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
    if (!o.path_set) o.path = o.mode == Mode::kNchan ? "/sub/{id}" : "/stream/{id}";
    if (!o.publish_path_set) o.publish_path = o.mode == Mode::kNchan ? "/pub/{id}" : "/publish/";
  }
  if (o.publish_port == 0) o.publish_port = o.port;
  return o;
}

// Resolves --host to a loopback socket address, or stops.
void ResolveLoopback(const Options& o, int port, sockaddr_storage* addr, socklen_t* len,
                     std::string* host_header) {
  std::string host = o.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  std::memset(addr, 0, sizeof *addr);
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    if ((ntohl(v4.sin_addr.s_addr) >> 24) != 127) {
      UsageError("refusing non-loopback --host '" + o.host + "'");
    }
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(addr, &v4, sizeof v4);
    *len = sizeof v4;
    *host_header = host + ":" + std::to_string(port);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr)) {
      UsageError("refusing non-loopback --host '" + o.host + "'");
    }
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(addr, &v6, sizeof v6);
    *len = sizeof v6;
    *host_header = "[" + host + "]:" + std::to_string(port);
  } else {
    UsageError("refusing non-loopback --host '" + o.host + "'");
  }
}

std::string Substitute(std::string text, std::string_view job) {
  for (std::size_t pos; (pos = text.find("{id}")) != std::string::npos;) {
    text.replace(pos, 4, job);
  }
  return text;
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// VmRSS of a process in kB, or 0 when unknown.
uint64_t ReadRssKb(long pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// User plus system CPU time of a process in seconds, or -1 when unknown.
double ReadCpuSeconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // Fields after the command: state is field 3; utime and stime are 14 and 15.
  const char* p = stat.c_str() + paren + 2;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// `root` and every process below it (nginx's workers, Pushpin's services),
// from the parent pids in /proc/*/stat. Just `root` when /proc is unreadable.
std::vector<long> ProcessTree(long root) {
  std::multimap<long, long> children;  // parent -> child
  if (DIR* dir = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(dir)) {
      char* end = nullptr;
      long pid = std::strtol(entry->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
      std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::size_t paren = stat.rfind(')');
      long ppid = 0;
      if (paren == std::string::npos ||
          std::sscanf(stat.c_str() + paren + 2, "%*c %ld", &ppid) != 1) {
        continue;
      }
      children.emplace(ppid, pid);
    }
    ::closedir(dir);
  }
  std::vector<long> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto [lo, hi] = children.equal_range(tree[i]);
    for (auto it = lo; it != hi; ++it) tree.push_back(it->second);
  }
  return tree;
}

// VmRSS summed over the process tree of `root` in kB, or 0 when unknown.
uint64_t ReadTreeRssKb(long root) {
  if (root <= 0) return 0;
  uint64_t sum = 0;
  for (long pid : ProcessTree(root)) sum += ReadRssKb(pid);
  return sum;
}

// CPU seconds summed over the process tree of `root`, or -1 when unknown.
double ReadTreeCpuSeconds(long root) {
  double root_cpu = ReadCpuSeconds(root);
  if (root_cpu < 0) return -1;
  double sum = 0;
  for (long pid : ProcessTree(root)) sum += std::max(0.0, ReadCpuSeconds(pid));
  return sum;
}

void SleepUntil(int64_t when_ns) {
  timespec ts;
  ts.tv_sec = when_ns / 1'000'000'000;
  ts.tv_nsec = when_ns % 1'000'000'000;
  while (!g_interrupted &&
         ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// One receiver process as the parent sees it.
struct Child {
  pid_t pid = -1;
  int report_fd = -1;   // Read end of child -> parent.
  int control_fd = -1;  // Write end of parent -> child.
  std::string buffer;
  bool ready = false;
  bool done = false;    // END seen or the pipe closed.
  bool got_final = false;
  Counters ready_counters;
  Counters final_counters;
};

class Parent {
 public:
  explicit Parent(const Options& options) : o_(options) {}
  int Run();

 private:
  bool Expired() const { return g_interrupted || NowNs() >= deadline_ns_; }
  bool SpawnReceivers(const std::string& request, uint32_t sources);
  // Reads children's reports until all of them satisfy `pred` or `until_ns`.
  // On ^C, `on_interrupt()` returns the new `until_ns` (0: return at once).
  template <class Pred, class OnInterrupt>
  bool Collect(int64_t until_ns, Pred pred, OnInterrupt on_interrupt);
  void HandleLine(Child& child, std::string_view line);
  void SendAll(const std::string& line);
  bool CreateJob();
  void Publish();
  // Request body and accepted statuses for one update in the current mode.
  std::string PublishBody(const char* json) const;
  bool Accepted(int status) const;
  uint64_t ServerRssKb() const {
    return o_.server_tree ? ReadTreeRssKb(o_.server_pid) : ReadRssKb(o_.server_pid);
  }
  double ServerCpuSeconds() const {
    return o_.server_tree ? ReadTreeCpuSeconds(o_.server_pid) : ReadCpuSeconds(o_.server_pid);
  }
  void Finish();
  int Report();

  const Options& o_;
  sockaddr_storage server_{};
  socklen_t server_len_ = 0;
  std::string host_header_;
  sockaddr_storage publish_server_{};  // --publish-port, for the HttpClient.
  socklen_t publish_server_len_ = 0;
  std::string publish_host_header_;
  std::string job_;
  int64_t start_ns_ = 0;
  int64_t deadline_ns_ = 0;
  bool timed_out_ = false;
  std::vector<Child> children_;
  std::unique_ptr<HttpClient> client_;

  // Publishing.
  uint64_t published_ = 0;
  uint64_t publish_failed_ = 0;
  bool terminal_accepted_ = false;
  int64_t publish_start_ns_ = 0;
  int64_t publish_end_ns_ = 0;
  std::string publish_error_;
  std::string first_error_;  // First reason a stream attempt failed.
  std::vector<int64_t> post_ns_;

  // Server samples.
  uint64_t rss_before_ = 0;
  uint64_t rss_after_ = 0;
  uint64_t rss_after_hold_ = 0;
  uint64_t rss_after_publish_ = 0;
  double cpu_before_ = -1;
  double cpu_after_ = -1;

  // Aggregates.
  Counters ready_total_;
  Counters total_;
  std::unique_ptr<Histogram> latency_;
  std::unique_ptr<Histogram> connect_;
  std::unique_ptr<Histogram> scratch_;
};

bool Parent::SpawnReceivers(const std::string& request, uint32_t sources) {
  std::fflush(stdout);
  std::fflush(stderr);
  uint64_t base = o_.streams / static_cast<uint64_t>(o_.procs);
  uint64_t extra = o_.streams % static_cast<uint64_t>(o_.procs);
  uint64_t first = 0;
  int per_child_concurrency = std::max(1, o_.concurrency / o_.procs);
  children_.resize(static_cast<std::size_t>(o_.procs));
  for (int k = 0; k < o_.procs; ++k) {
    uint64_t count = base + (static_cast<uint64_t>(k) < extra ? 1 : 0);
    int report[2], control[2];
    if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(control, O_CLOEXEC) != 0) {
      std::fprintf(stderr, "herald_loadgen: pipe: %s\n", std::strerror(errno));
      return false;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "herald_loadgen: fork: %s\n", std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      // Receiver. Drop the parent's ends of every earlier child's pipes.
      ::signal(SIGINT, SIG_IGN);  // The parent turns ^C into STOP.
      ::signal(SIGTERM, SIG_DFL);
      for (int j = 0; j < k; ++j) {
        ::close(children_[static_cast<std::size_t>(j)].report_fd);
        ::close(children_[static_cast<std::size_t>(j)].control_fd);
      }
      ::close(report[0]);
      ::close(control[1]);
      ReceiverOptions ro;
      ro.server = server_;
      ro.server_len = server_len_;
      ro.request = request;
      ro.streams = count;
      ro.first_index = first;
      ro.source_count = sources;
      ro.max_in_flight = per_child_concurrency;
      ro.connect_rate = o_.connect_rate / o_.procs;
      ro.retries = o_.retries;
      ro.nodelay = o_.nodelay;
      ro.established_on_headers = o_.mode != Mode::kHerald;
      ro.close_on_terminal = o_.mode != Mode::kHerald;
      ro.deadline_ns = deadline_ns_;
      ro.report_fd = report[1];
      ro.control_fd = control[0];
      int rc = RunReceiver(ro);
      ::_exit(rc);
    }
    ::close(report[1]);
    ::close(control[0]);
    Child& c = children_[static_cast<std::size_t>(k)];
    c.pid = pid;
    c.report_fd = report[0];
    c.control_fd = control[1];
    ::fcntl(c.report_fd, F_SETFL, ::fcntl(c.report_fd, F_GETFL) | O_NONBLOCK);
    first += count;
  }
  return true;
}

void Parent::HandleLine(Child& child, std::string_view line) {
  if (line.rfind("READY ", 0) == 0) {
    child.ready = true;
    child.ready_counters.Parse(line.substr(6));
  } else if (line.rfind("FINAL ", 0) == 0) {
    child.got_final = true;
    child.final_counters.Parse(line.substr(6));
  } else if (line.rfind("HIST lat ", 0) == 0) {
    if (scratch_->Parse(line.substr(9))) latency_->Merge(*scratch_);
  } else if (line.rfind("HIST conn ", 0) == 0) {
    if (scratch_->Parse(line.substr(10))) connect_->Merge(*scratch_);
  } else if (line.rfind("NOTE ", 0) == 0) {
    if (first_error_.empty()) first_error_ = std::string(line.substr(5));
  } else if (line == "END") {
    child.done = true;
  }
}

template <class Pred, class OnInterrupt>
bool Parent::Collect(int64_t until_ns, Pred pred, OnInterrupt on_interrupt) {
  std::vector<pollfd> fds;
  std::vector<Child*> owners;
  while (true) {
    bool all = std::all_of(children_.begin(), children_.end(),
                           [&](const Child& c) { return pred(c); });
    if (all) return true;
    if (g_interrupted) {
      int64_t until = on_interrupt();
      if (until == 0) return false;
      until_ns = std::min(until_ns, until);
    }
    int64_t now = NowNs();
    if (now >= until_ns) return false;
    fds.clear();
    owners.clear();
    for (Child& c : children_) {
      if (c.done) continue;
      fds.push_back(pollfd{c.report_fd, POLLIN, 0});
      owners.push_back(&c);
    }
    if (fds.empty()) return false;
    int timeout_ms = static_cast<int>(std::clamp<int64_t>((until_ns - now) / 1'000'000, 1, 200));
    int r = ::poll(fds.data(), fds.size(), timeout_ms);
    if (r <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Child& c = *owners[i];
      char buf[65536];
      while (true) {
        ssize_t n = ::read(c.report_fd, buf, sizeof buf);
        if (n > 0) {
          c.buffer.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          c.done = true;  // The receiver exited.
          c.ready = true;
        }
        break;
      }
      std::size_t nl;
      std::size_t start = 0;
      while ((nl = c.buffer.find('\n', start)) != std::string::npos) {
        HandleLine(c, std::string_view(c.buffer).substr(start, nl - start));
        start = nl + 1;
      }
      c.buffer.erase(0, start);
    }
  }
}

void Parent::SendAll(const std::string& line) {
  for (Child& c : children_) {
    if (c.control_fd < 0) continue;
    // A few bytes on an empty pipe: never blocks. A gone child: EPIPE, ignored.
    ssize_t n = ::write(c.control_fd, line.data(), line.size());
    (void)n;
  }
}

bool Parent::CreateJob() {
  std::string headers;
  if (!o_.token.empty()) headers = "Authorization: Bearer " + o_.token + "\r\n";
  HttpResponse response;
  std::string error;
  int64_t until = std::min(deadline_ns_, NowNs() + 10'000'000'000);
  if (!client_->Request("POST", "/api/v1/jobs", headers, R"({"type":"bench","title":"bench"})",
                        until, &response, &error)) {
    std::fprintf(stderr, "herald_loadgen: POST /api/v1/jobs: %s\n", error.c_str());
    return false;
  }
  if (response.status != 201 && response.status != 200) {
    std::fprintf(stderr, "herald_loadgen: POST /api/v1/jobs: status %d: %.200s\n",
                 response.status, response.body.c_str());
    return false;
  }
  int64_t id = 0;
  std::string_view sid;
  if (FindJsonInt(response.body, "id", &id) || FindJsonInt(response.body, "job_id", &id)) {
    job_ = std::to_string(id);
  } else if (FindJsonString(response.body, "id", &sid) && !sid.empty()) {
    job_ = std::string(sid);
  } else {
    std::fprintf(stderr, "herald_loadgen: no \"id\" in the created job: %.200s\n",
                 response.body.c_str());
    return false;
  }
  return true;
}

void Parent::Publish() {
  std::string headers;
  if (!o_.token.empty()) headers = "Authorization: Bearer " + o_.token + "\r\n";
  std::string target = Substitute(o_.publish_path, job_);
  std::string error;
  HttpResponse response;

  // Progress may never decrease: start from the job's current value.
  int64_t base = 0;
  std::string status_target = target;
  if (o_.mode == Mode::kHerald && status_target.size() > 9 &&
      status_target.compare(status_target.size() - 9, 9, "/progress") == 0) {
    status_target.replace(status_target.size() - 9, 9, "/status");
    int64_t until = std::min(deadline_ns_, NowNs() + 5'000'000'000);
    if (client_->Request("GET", status_target, headers, "", until, &response, &error) &&
        response.status == 200) {
      FindJsonInt(response.body, "progress", &base);
      base = std::clamp<int64_t>(base, 0, 99);
    }
  }

  post_ns_.reserve(o_.events);
  publish_start_ns_ = NowNs();
  for (uint64_t i = 0; i < o_.events; ++i) {
    if (o_.rate > 0) {
      int64_t when = publish_start_ns_ + static_cast<int64_t>(static_cast<double>(i) * 1e9 / o_.rate);
      if (when >= deadline_ns_) break;
      SleepUntil(when);
    }
    if (Expired()) break;
    bool last = i + 1 == o_.events;
    int64_t progress = base + (99 - base) * static_cast<int64_t>(i) / static_cast<int64_t>(o_.events);
    int64_t stamp = NowNs();
    char body[160];
    if (last) {
      std::snprintf(body, sizeof body, R"({"status":"completed","message":"t=%)" PRId64 R"("})",
                    stamp);
    } else {
      std::snprintf(body, sizeof body, R"({"progress":%)" PRId64 R"(,"message":"t=%)" PRId64 R"("})",
                    progress, stamp);
    }
    int64_t until = std::min(deadline_ns_, stamp + 10'000'000'000);
    bool ok = client_->Request("POST", target, headers, PublishBody(body), until, &response,
                               &error);
    post_ns_.push_back(NowNs() - stamp);
    if (ok && Accepted(response.status)) {
      ++published_;
      if (last) terminal_accepted_ = true;
    } else {
      ++publish_failed_;
      if (publish_error_.empty()) {
        publish_error_ = ok ? "status " + std::to_string(response.status) + ": " +
                                  response.body.substr(0, 200)
                            : error;
      }
    }
  }
  publish_end_ns_ = NowNs();
}

std::string Parent::PublishBody(const char* json) const {
  if (o_.mode != Mode::kPushpin) return json;  // Nchan: the payload is the message.
  // Pushpin: one item for the job's channel, in http-stream format, i.e. the
  // SSE bytes to write to every held stream, as a JSON string.
  std::string content = "event: message\ndata: ";
  content += json;
  content += "\n\n";
  std::string escaped;
  for (char c : content) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return R"({"items":[{"channel":"job-)" + job_ + R"(","formats":{"http-stream":{"content":")" +
         escaped + R"("}}}]})";
}

bool Parent::Accepted(int status) const {
  switch (o_.mode) {
    case Mode::kHerald: return status == 202;
    // Nchan: 201 when subscribers got it, 202 when queued for none.
    case Mode::kNchan: return status == 201 || status == 202;
    case Mode::kPushpin: return status == 200;
  }
  return false;
}

void Parent::Finish() {
  // Kill what did not report in time, then reap everything.
  for (Child& c : children_) {
    if (!c.done && c.pid > 0) ::kill(c.pid, SIGKILL);
  }
  for (Child& c : children_) {
    if (c.pid > 0) {
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (c.report_fd >= 0) ::close(c.report_fd);
    if (c.control_fd >= 0) ::close(c.control_fd);
    c.report_fd = c.control_fd = -1;
  }
}

int Parent::Report() {
  for (const Child& c : children_) {
    ready_total_.Merge(c.ready_counters);
    total_.Merge(c.got_final ? c.final_counters : c.ready_counters);
  }
  const Counters& t = total_;
  // Connect rate: first connect() to the last stream's first event.
  double connect_s = 0;
  if (ready_total_.last_established_ns > ready_total_.first_connect_ns &&
      ready_total_.first_connect_ns > 0) {
    connect_s = static_cast<double>(ready_total_.last_established_ns - ready_total_.first_connect_ns) / 1e9;
  }
  double connect_per_s = connect_s > 0 ? static_cast<double>(ready_total_.established) / connect_s : 0;
  double publish_s = publish_end_ns_ > publish_start_ns_
                         ? static_cast<double>(publish_end_ns_ - publish_start_ns_) / 1e9 : 0;
  double publish_per_s = publish_s > 0 ? static_cast<double>(published_ + publish_failed_) / publish_s : 0;
  double deliver_s = 0;
  if (t.last_delivered_ns > 0 && publish_start_ns_ > 0 &&
      static_cast<int64_t>(t.last_delivered_ns) > publish_start_ns_) {
    deliver_s = static_cast<double>(static_cast<int64_t>(t.last_delivered_ns) - publish_start_ns_) / 1e9;
  }
  double delivered_per_s = deliver_s > 0 ? static_cast<double>(t.events_delivered) / deliver_s : 0;
  uint64_t expected = published_ * ready_total_.established;
  std::vector<int64_t> posts = post_ns_;
  std::sort(posts.begin(), posts.end());
  auto post_q = [&](double q) -> double {
    if (posts.empty()) return 0;
    std::size_t idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(posts.size())));
    return Ms(posts[std::clamp<std::size_t>(idx, 1, posts.size()) - 1]);
  };
  double rss_per_stream = 0;
  if (rss_before_ > 0 && rss_after_ > 0 && ready_total_.established > 0) {
    rss_per_stream = (static_cast<double>(rss_after_) - static_cast<double>(rss_before_)) /
                     static_cast<double>(ready_total_.established);
  }
  double cpu_s = (cpu_before_ >= 0 && cpu_after_ >= 0) ? cpu_after_ - cpu_before_ : -1;
  double wall_s = static_cast<double>(NowNs() - start_ns_) / 1e9;

  std::printf("herald_loadgen: %s job %s, %" PRIu64 " streams over %d process%s, %.1f s%s\n",
              host_header_.c_str(), job_.c_str(), o_.streams, o_.procs,
              o_.procs == 1 ? "" : "es", wall_s, timed_out_ ? " (TIMED OUT)" : "");
  std::printf("  connect  %" PRIu64 "/%" PRIu64 " established, %" PRIu64 " failed (%" PRIu64
              " non-200, %" PRIu64 " connect errors, %" PRIu64 " retries) in %.2f s = %.0f streams/s\n",
              ready_total_.established, o_.streams, t.failed, t.non200, t.connect_errors,
              t.retries, connect_s, connect_per_s);
  if (!first_error_.empty()) std::printf("           first error: %s\n", first_error_.c_str());
  std::printf("           connect to %s p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              o_.mode == Mode::kHerald ? "first event" : "response head",
              Ms(connect_->Quantile(0.50)), Ms(connect_->Quantile(0.99)), Ms(connect_->max_ns()));
  std::printf("  publish  %" PRIu64 "/%" PRIu64 " accepted (%s), %" PRIu64
              " failed, in %.2f s = %.1f/s; POST p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              published_, o_.events,
              o_.mode == Mode::kHerald ? "202" : o_.mode == Mode::kNchan ? "201/202" : "200",
              publish_failed_, publish_s, publish_per_s, post_q(0.50),
              post_q(0.99), post_q(1.0));
  if (!publish_error_.empty()) std::printf("           first error: %s\n", publish_error_.c_str());
  std::printf("  deliver  %" PRIu64 "/%" PRIu64 " stamped events = %.0f/s; missing %" PRIu64
              ", out-of-order %" PRIu64 ", duplicates %" PRIu64 "\n",
              t.events_delivered, expected, delivered_per_s, t.missing, t.out_of_order,
              t.duplicates);
  std::printf("           %" PRIu64 " events in all: %" PRIu64 " initial, %" PRIu64
              " unstamped, %" PRIu64 " error; %" PRIu64 " heartbeats; %.1f MB read\n",
              t.events_total, t.initial_events, t.unstamped, t.error_events, t.heartbeats,
              static_cast<double>(t.bytes) / 1e6);
  std::printf("  end      terminal event seen by %" PRIu64 " streams; %" PRIu64
              " ended by the server (%" PRIu64 " before the terminal event); %" PRIu64
              " left open after it; %" PRIu64 " cut at the end\n",
              t.terminal, t.ended_by_server, t.closed_early, t.open_after_terminal, t.cut_at_end);
  std::printf("  latency  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms\n",
              Ms(latency_->Quantile(0.50)), Ms(latency_->Quantile(0.90)),
              Ms(latency_->Quantile(0.99)), Ms(latency_->Quantile(0.999)), Ms(latency_->max_ns()),
              latency_->mean_ns() / 1e6);
  if (o_.server_pid > 0) {
    std::printf("  server   %s", o_.server_tree ? "process tree " : "");
    std::printf("VmRSS %" PRIu64 " kB before, %" PRIu64 " kB with streams up (%+.2f kB/stream), %"
                PRIu64 " kB after hold, %" PRIu64 " kB after publishing; CPU %.2f s\n",
                rss_before_, rss_after_, rss_per_stream, rss_after_hold_, rss_after_publish_, cpu_s);
  }
  std::printf("RESULT streams=%" PRIu64 " procs=%d established=%" PRIu64 " failed=%" PRIu64
              " connect_s=%.3f connect_per_s=%.0f events_published=%" PRIu64
              " publish_failed=%" PRIu64 " events_expected=%" PRIu64 " events_delivered=%" PRIu64
              " delivered_per_s=%.0f lat_p50_ms=%.3f lat_p90_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f"
              " missing=%" PRIu64 " out_of_order=%" PRIu64 " duplicates=%" PRIu64
              " terminal=%" PRIu64 " closed_early=%" PRIu64 " heartbeats=%" PRIu64
              " server_rss_kb_before=%" PRIu64 " server_rss_kb_after=%" PRIu64
              " server_rss_kb_after_publish=%" PRIu64 " rss_per_stream_kb=%.2f server_cpu_s=%.2f"
              " timed_out=%d%s%s\n",
              o_.streams, o_.procs, ready_total_.established, t.failed, connect_s, connect_per_s,
              published_, publish_failed_, expected, t.events_delivered, delivered_per_s,
              Ms(latency_->Quantile(0.50)), Ms(latency_->Quantile(0.90)),
              Ms(latency_->Quantile(0.99)), Ms(latency_->max_ns()), t.missing, t.out_of_order,
              t.duplicates, t.terminal, t.closed_early, t.heartbeats, rss_before_, rss_after_,
              rss_after_publish_, rss_per_stream, cpu_s, timed_out_ ? 1 : 0,
              o_.mode == Mode::kHerald ? "" : " mode=", o_.mode == Mode::kHerald ? "" : ModeName(o_.mode));
  std::fflush(stdout);

  bool ok = !timed_out_ && ready_total_.established == o_.streams &&
            published_ == o_.events && (o_.events == 0 || t.terminal == ready_total_.established);
  return ok ? 0 : 1;
}

int Parent::Run() {
  ResolveLoopback(o_, o_.port, &server_, &server_len_, &host_header_);
  ResolveLoopback(o_, o_.publish_port, &publish_server_, &publish_server_len_,
                  &publish_host_header_);

  // Each process may hold this many files; the hard limit cannot be raised.
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  uint64_t per_child = (o_.streams + static_cast<uint64_t>(o_.procs) - 1) / static_cast<uint64_t>(o_.procs);
  if (rl.rlim_cur != RLIM_INFINITY && per_child + kSpareFds > rl.rlim_cur) {
    UsageError("--streams " + std::to_string(o_.streams) + " over --procs " +
               std::to_string(o_.procs) + " needs " + std::to_string(per_child + kSpareFds) +
               " files per process but RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) +
               "; raise --procs");
  }

  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  start_ns_ = NowNs();
  deadline_ns_ = start_ns_ + static_cast<int64_t>(o_.timeout * 1e9);
  client_ = std::make_unique<HttpClient>(publish_server_, publish_server_len_,
                                         publish_host_header_, o_.nodelay);

  job_ = o_.job;
  if (o_.create && !CreateJob()) return 1;

  uint32_t sources = 0;
  if (server_.ss_family == AF_INET) {
    long auto_sources = std::max<long>(255, static_cast<long>((o_.streams + 16383) / 16384));
    sources = static_cast<uint32_t>(o_.sources < 0 ? auto_sources : o_.sources);
  }
  std::string target = Substitute(o_.path, job_);
  if (!o_.token.empty() && target.find("token=") == std::string::npos) {
    target += (target.find('?') == std::string::npos ? "?token=" : "&token=");
    target += PercentEncode(o_.token);
  }
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + host_header_ +
                        "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "User-Agent: herald_loadgen\r\n\r\n";

  // The receivers must not inherit the keep-alive connection.
  client_->Close();
  rss_before_ = ServerRssKb();
  cpu_before_ = ServerCpuSeconds();
  std::fprintf(stderr, "herald_loadgen: job %s: opening %" PRIu64 " streams over %d process%s\n",
               job_.c_str(), o_.streams, o_.procs, o_.procs == 1 ? "" : "es");
  if (!SpawnReceivers(request, sources)) {
    SendAll("STOP 0\n");
    Finish();
    return 1;
  }
  // Allocated after fork so that the receivers do not inherit them.
  latency_ = std::make_unique<Histogram>();
  connect_ = std::make_unique<Histogram>();
  scratch_ = std::make_unique<Histogram>();

  bool all_ready = Collect(deadline_ns_, [](const Child& c) { return c.ready; },
                           [] { return int64_t{0}; });
  rss_after_ = ServerRssKb();
  if (!all_ready) {
    timed_out_ = true;
  } else {
    uint64_t established = 0;
    for (const Child& c : children_) established += c.ready_counters.established;
    std::fprintf(stderr, "herald_loadgen: %" PRIu64 "/%" PRIu64 " streams up in %.2f s\n",
                 established, o_.streams, static_cast<double>(NowNs() - start_ns_) / 1e9);
    if (o_.hold > 0) {
      std::fprintf(stderr, "herald_loadgen: holding %.1f s\n", o_.hold);
      SleepUntil(std::min(deadline_ns_, NowNs() + static_cast<int64_t>(o_.hold * 1e9)));
    }
    rss_after_hold_ = ServerRssKb();
    if (o_.events > 0 && established > 0 && !Expired()) {
      std::fprintf(stderr, "herald_loadgen: publishing %" PRIu64 " updates at %g/s\n", o_.events,
                   o_.rate);
      Publish();
    }
    rss_after_publish_ = ServerRssKb();
  }

  char line[96];
  if (Expired()) {
    timed_out_ = true;
    std::snprintf(line, sizeof line, "STOP %" PRIu64 "\n", published_);
  } else {
    int64_t drain_until = terminal_accepted_ ? deadline_ns_
                                             : std::min(deadline_ns_, NowNs() + kShortDrainNs);
    std::snprintf(line, sizeof line, "DRAIN %" PRIu64 " %" PRId64 "\n", published_, drain_until);
  }
  SendAll(line);
  // Receivers end by themselves at the deadline at the latest; the grace
  // covers reporting. ^C meanwhile turns into STOP and a short wait.
  int64_t collect_until = g_interrupted ? NowNs() + kStopGraceNs : deadline_ns_ + kCollectGraceNs;
  bool stopped = g_interrupted;
  Collect(collect_until, [](const Child& c) { return c.done; }, /*on_interrupt=*/
          [&]() -> int64_t {
            if (!stopped) {
              stopped = true;
              std::snprintf(line, sizeof line, "STOP %" PRIu64 "\n", published_);
              SendAll(line);
            }
            return std::min(collect_until, NowNs() + kStopGraceNs);
          });
  if (NowNs() >= deadline_ns_ || g_interrupted) timed_out_ = true;
  cpu_after_ = ServerCpuSeconds();
  Finish();
  return Report();
}

}  // namespace
}  // namespace herald::bench

int main(int argc, char** argv) {
  herald::bench::Options options = herald::bench::ParseFlags(argc, argv);
  herald::bench::Parent parent(options);
  return parent.Run();
}
