// herald_loadgen: opens many SSE progress streams to a Herald server (or a
// peer, see --mode) on loopback, publishes timestamped progress updates to
// one or many jobs, and reports connect rate, delivery, latency, publisher
// throughput and the server's memory and CPU per stream.
//
// Shape of a run (all of it bounded by --timeout):
//   1. optionally creates the jobs (create_jobs.cc);
//   2. forks --procs receivers; each opens its share of the streams on its
//      own epoll loop (receiver.cc) and says READY;
//   3. samples the server, waits --hold seconds, then publishes
//      (publisher.cc): progress updates on --publishers connections, open or
//      closed loop, then one "completed" per job, which ends every stream;
//      in a storm (--storm-after) every stream is cut and resumed meanwhile;
//   4. tells the receivers how many updates each job accepted and to drain,
//      collects their counters and histograms, and prints a summary and one
//      RESULT line.
//
// Standalone on purpose: it links nothing of Herald, so it measures the
// server and not itself.

#include <arpa/inet.h>
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
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "create_jobs.h"
#include "http_client.h"
#include "options.h"
#include "proc_stats.h"
#include "publisher.h"
#include "receiver.h"
#include "sse_parser.h"
#include "stats.h"

namespace herald::bench {
namespace {

// File descriptors a receiver needs besides its streams (pipes, epoll, stdio).
constexpr uint64_t kSpareFds = 32;
// A receiver that has not reported this long after the run's deadline is killed.
constexpr int64_t kCollectGraceNs = 10'000'000'000;
// When a terminal update was not accepted, streams get this long to drain.
constexpr int64_t kShortDrainNs = 3'000'000'000;
// After STOP (^C), receivers get this long to report.
constexpr int64_t kStopGraceNs = 3'000'000'000;

volatile sig_atomic_t g_interrupted = 0;

void OnSignal(int) { g_interrupted = 1; }

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

void SleepUntil(int64_t when_ns) {
  timespec ts;
  ts.tv_sec = when_ns / 1'000'000'000;
  ts.tv_nsec = when_ns % 1'000'000'000;
  while (!g_interrupted &&
         ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// The q-quantile of sorted samples (nearest rank), 0 when empty.
int64_t SortedQuantile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  std::size_t idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(idx, 1, sorted.size()) - 1];
}

// One receiver process as the parent sees it.
struct Child {
  pid_t pid = -1;
  int report_fd = -1;   // Read end of child -> parent.
  int control_fd = -1;  // Write end of parent -> child.
  std::string buffer;
  bool ready = false;
  bool resumed = false;  // RESUMED seen (or the pipe closed) after a CUT.
  bool done = false;     // END seen or the pipe closed.
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
  bool SetUpJobs();
  bool SpawnReceivers(const std::vector<std::string>& requests, uint32_t sources);
  // Reads children's reports until all of them satisfy `pred` or `until_ns`.
  // On ^C, `on_interrupt()` returns the new `until_ns` (0: return at once).
  template <class Pred, class OnInterrupt>
  bool Collect(int64_t until_ns, Pred pred, OnInterrupt on_interrupt);
  void HandleLine(Child& child, std::string_view line);
  void SendAll(const std::string& line);
  // Publishes (and runs the storm, if any) until done, ^C or the deadline.
  void Publish();
  // The job's current progress, so that updates never lower it (Herald, --job).
  int64_t CurrentProgress(const std::string& job);
  uint64_t ServerRssKb() const { return SumRssKb(o_.server_pids, o_.server_tree); }
  double ServerCpuSeconds() const { return SumCpuSeconds(o_.server_pids, o_.server_tree); }
  void Finish();
  int Report();

  const Options& o_;
  sockaddr_storage server_{};
  socklen_t server_len_ = 0;
  std::string host_header_;
  sockaddr_storage publish_server_{};  // --publish-port.
  socklen_t publish_server_len_ = 0;
  std::string publish_host_header_;
  std::vector<std::string> jobs_;
  int64_t start_ns_ = 0;
  int64_t deadline_ns_ = 0;
  bool timed_out_ = false;
  std::vector<Child> children_;
  std::string first_error_;  // First reason a stream attempt failed.

  // Publishing.
  uint64_t planned_ = 0;  // Updates planned (0 with --duration or a storm).
  PublishResult pub_;
  bool published_any_ = false;
  int64_t cut_ns_ = 0;

  // Server samples.
  uint64_t rss_before_ = 0;
  uint64_t rss_after_ = 0;
  uint64_t rss_after_hold_ = 0;
  uint64_t rss_after_publish_ = 0;
  double cpu_before_ = -1;
  double cpu_connected_ = -1;
  double cpu_after_ = -1;

  // Aggregates.
  Counters ready_total_;
  Counters total_;
  std::unique_ptr<Histogram> latency_;
  std::unique_ptr<Histogram> connect_;
  std::unique_ptr<Histogram> resume_;
  std::unique_ptr<Histogram> scratch_;
};

bool Parent::SetUpJobs() {
  if (o_.mode != Mode::kHerald && o_.jobs > 1) {
    // Peers: channel ids job-1 .. job-J (the nginx locations accept [\w-]+).
    for (uint64_t j = 1; j <= o_.jobs; ++j) jobs_.push_back("job-" + std::to_string(j));
    return true;
  }
  if (!o_.create) {
    jobs_.push_back(o_.job);
    return true;
  }
  std::string error;
  int64_t t0 = NowNs();
  if (!CreateJobs(publish_server_, publish_server_len_, publish_host_header_, o_.nodelay, o_.token,
                  o_.jobs, o_.create_connections, deadline_ns_, &jobs_, &error)) {
    std::fprintf(stderr, "herald_loadgen: %s\n", error.c_str());
    return false;
  }
  if (o_.jobs > 1) {
    std::fprintf(stderr, "herald_loadgen: created %" PRIu64 " jobs in %.2f s\n", o_.jobs,
                 static_cast<double>(NowNs() - t0) / 1e9);
  }
  return true;
}

bool Parent::SpawnReceivers(const std::vector<std::string>& requests, uint32_t sources) {
  std::fflush(stdout);
  std::fflush(stderr);
  uint64_t base = o_.streams / static_cast<uint64_t>(o_.procs);
  uint64_t extra = o_.streams % static_cast<uint64_t>(o_.procs);
  uint64_t first = 0;
  int per_child_concurrency = std::max(1, o_.concurrency / o_.procs);
  int per_child_resume =
      o_.storm_concurrency > 0 ? std::max(1, o_.storm_concurrency / o_.procs) : 0;
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
      ro.requests = requests;
      ro.streams = count;
      ro.first_index = first;
      ro.source_count = sources;
      ro.max_in_flight = per_child_concurrency;
      ro.resume_in_flight = per_child_resume;
      ro.resume_id_offset = o_.storm_id_offset;
      ro.resume_delay_ns = static_cast<int64_t>(o_.storm_delay * 1e9);
      ro.connect_rate = o_.connect_rate / o_.procs;
      ro.retries = o_.retries;
      ro.nodelay = o_.nodelay;
      ro.established_on_headers = o_.mode != Mode::kHerald;
      ro.close_on_terminal = o_.mode != Mode::kHerald;
      ro.seq_from_payload = o_.mode != Mode::kHerald;
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
  } else if (line.rfind("RESUMED ", 0) == 0) {
    child.resumed = true;
  } else if (line.rfind("FINAL ", 0) == 0) {
    child.got_final = true;
    child.final_counters.Parse(line.substr(6));
  } else if (line.rfind("HIST lat ", 0) == 0) {
    if (scratch_->Parse(line.substr(9))) latency_->Merge(*scratch_);
  } else if (line.rfind("HIST conn ", 0) == 0) {
    if (scratch_->Parse(line.substr(10))) connect_->Merge(*scratch_);
  } else if (line.rfind("HIST resume ", 0) == 0) {
    if (scratch_->Parse(line.substr(12))) resume_->Merge(*scratch_);
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
    bool all =
        std::all_of(children_.begin(), children_.end(), [&](const Child& c) { return pred(c); });
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
          c.resumed = true;
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
    // The control pipe blocks; the receivers read it on every loop turn
    // (100 ms at most). A gone child: EPIPE, ignored.
    std::string_view rest(line);
    while (!rest.empty()) {
      ssize_t n = ::write(c.control_fd, rest.data(), rest.size());
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
  }
}

int64_t Parent::CurrentProgress(const std::string& job) {
  if (o_.mode != Mode::kHerald) return 0;
  std::string target = Substitute(o_.publish_path, job);
  if (target.size() <= 9 || target.compare(target.size() - 9, 9, "/progress") != 0) return 0;
  target.replace(target.size() - 9, 9, "/status");
  HttpClient client(publish_server_, publish_server_len_, publish_host_header_, o_.nodelay);
  std::string headers;
  if (!o_.token.empty()) headers = "Authorization: Bearer " + o_.token + "\r\n";
  HttpResponse response;
  std::string error;
  int64_t base = 0;
  int64_t until = std::min(deadline_ns_, NowNs() + 5'000'000'000);
  if (client.Request("GET", target, headers, "", until, &response, &error) &&
      response.status == 200) {
    FindJsonInt(response.body, "progress", &base);
  }
  return std::clamp<int64_t>(base, 0, 99);
}

void Parent::Publish() {
  PublisherOptions po;
  po.mode = o_.mode;
  po.server = publish_server_;
  po.server_len = publish_server_len_;
  po.host_header = publish_host_header_;
  po.nodelay = o_.nodelay;
  po.token = o_.token;
  po.jobs = jobs_;
  po.base_progress.assign(jobs_.size(), 0);
  // Created jobs start at 0; an existing one may be further along.
  if (!o_.create && o_.mode == Mode::kHerald) po.base_progress[0] = CurrentProgress(jobs_[0]);
  po.publish_path = o_.publish_path;
  po.batch = o_.batch;
  po.connections = o_.publishers;
  po.rate = o_.rate;
  po.deadline_ns = deadline_ns_;
  bool storm = o_.storm_after > 0;
  if (!storm && o_.duration == 0) {
    po.progress_updates = o_.events - jobs_.size();
    planned_ = o_.events;
    // --events equal to --jobs: nothing but the terminal updates.
    if (po.progress_updates == 0) po.progress_until_ns = 1;
  }
  int64_t now = NowNs();
  if (!storm && o_.duration > 0) {
    po.progress_until_ns = now + static_cast<int64_t>(o_.duration * 1e9);
  }

  Publisher publisher(po);
  publisher.Start();
  published_any_ = true;
  auto wait_until = [&](int64_t when) {
    while (!Expired() && NowNs() < when && !publisher.Done()) {
      SleepUntil(std::min(when, NowNs() + 50'000'000));
    }
  };
  if (storm) {
    wait_until(now + static_cast<int64_t>(o_.storm_after * 1e9));
    if (!Expired() && !publisher.Done()) {
      cut_ns_ = NowNs();
      std::fprintf(stderr, "herald_loadgen: storm: cutting every stream\n");
      SendAll("CUT " + std::to_string(cut_ns_) + "\n");
      Collect(
          deadline_ns_, [](const Child& c) { return c.resumed; }, [] { return int64_t{0}; });
      std::fprintf(stderr, "herald_loadgen: storm: resumed after %.2f s; publishing %.1f s more\n",
                   static_cast<double>(NowNs() - cut_ns_) / 1e9, o_.storm_tail);
      wait_until(NowNs() + static_cast<int64_t>(o_.storm_tail * 1e9));
    }
    publisher.StopProgress();
  }
  wait_until(deadline_ns_);
  if (Expired()) publisher.Abort();
  pub_ = publisher.Join();
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
  const PublishResult& p = pub_;
  // Connect rate: first connect() to the last stream's first event.
  double connect_s = 0;
  if (ready_total_.last_established_ns > ready_total_.first_connect_ns &&
      ready_total_.first_connect_ns > 0) {
    connect_s =
        static_cast<double>(ready_total_.last_established_ns - ready_total_.first_connect_ns) / 1e9;
  }
  double connect_per_s =
      connect_s > 0 ? static_cast<double>(ready_total_.established) / connect_s : 0;
  uint64_t published = p.progress_accepted + p.completions_accepted;
  uint64_t publish_failed = p.progress_failed + p.completions_failed;
  double publish_s = p.end_ns > p.start_ns ? static_cast<double>(p.end_ns - p.start_ns) / 1e9 : 0;
  double requests_per_s = publish_s > 0 ? static_cast<double>(p.requests) / publish_s : 0;
  // Offered: progress updates sent over the schedule's span (the last one's
  // send time plus one slot), so an on-schedule run offers exactly --rate.
  double offered_per_s = 0, accepted_per_s = 0;
  if (p.progress_sent > 0 && p.last_progress_send_ns >= p.start_ns) {
    double slot = o_.rate > 0 ? static_cast<double>(std::max(1, o_.batch)) / o_.rate : 0;
    double window = static_cast<double>(p.last_progress_send_ns - p.start_ns) / 1e9 + slot;
    if (window > 0) offered_per_s = static_cast<double>(p.progress_sent) / window;
  }
  if (p.progress_accepted > 0 && p.last_progress_accept_ns > p.start_ns) {
    double slot = o_.rate > 0 ? static_cast<double>(std::max(1, o_.batch)) / o_.rate : 0;
    accepted_per_s = static_cast<double>(p.progress_accepted) /
                     (static_cast<double>(p.last_progress_accept_ns - p.start_ns) / 1e9 + slot);
  }
  double deliver_s = 0;
  if (t.last_delivered_ns > 0 && p.start_ns > 0 &&
      static_cast<int64_t>(t.last_delivered_ns) > p.start_ns) {
    deliver_s = static_cast<double>(static_cast<int64_t>(t.last_delivered_ns) - p.start_ns) / 1e9;
  }
  double delivered_per_s = deliver_s > 0 ? static_cast<double>(t.events_delivered) / deliver_s : 0;
  double rss_per_stream = 0;
  if (rss_before_ > 0 && rss_after_ > 0 && ready_total_.established > 0) {
    rss_per_stream = (static_cast<double>(rss_after_) - static_cast<double>(rss_before_)) /
                     static_cast<double>(ready_total_.established);
  }
  double cpu_s = (cpu_before_ >= 0 && cpu_after_ >= 0) ? cpu_after_ - cpu_before_ : -1;
  double cpu_connect_s =
      (cpu_before_ >= 0 && cpu_connected_ >= 0) ? cpu_connected_ - cpu_before_ : -1;
  double cpu_us_per_stream =
      cpu_connect_s >= 0 && ready_total_.established > 0
          ? cpu_connect_s * 1e6 / static_cast<double>(ready_total_.established)
          : -1;
  double wall_s = static_cast<double>(NowNs() - start_ns_) / 1e9;
  bool storm = cut_ns_ > 0;
  double resume_all_ms = storm && t.last_resumed_ns > static_cast<uint64_t>(cut_ns_)
                             ? Ms(static_cast<int64_t>(t.last_resumed_ns) - cut_ns_)
                             : 0;

  std::printf("herald_loadgen: %s %" PRIu64 " job%s (first %s), %" PRIu64
              " streams over %d process%s, %.1f s%s\n",
              host_header_.c_str(), static_cast<uint64_t>(jobs_.size()),
              jobs_.size() == 1 ? "" : "s", jobs_.empty() ? "-" : jobs_[0].c_str(), o_.streams,
              o_.procs, o_.procs == 1 ? "" : "es", wall_s, timed_out_ ? " (TIMED OUT)" : "");
  std::printf("  connect  %" PRIu64 "/%" PRIu64 " established, %" PRIu64 " failed (%" PRIu64
              " non-200, %" PRIu64 " connect errors, %" PRIu64
              " retries) in %.2f s = %.0f streams/s\n",
              ready_total_.established, o_.streams, t.failed, t.non200, t.connect_errors, t.retries,
              connect_s, connect_per_s);
  if (!first_error_.empty()) std::printf("           first error: %s\n", first_error_.c_str());
  std::printf("           connect to %s p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              o_.mode == Mode::kHerald ? "first event" : "response head",
              Ms(connect_->Quantile(0.50)), Ms(connect_->Quantile(0.99)), Ms(connect_->max_ns()));
  if (!published_any_) {
    std::printf("  publish  nothing published\n");
  } else {
    std::printf("  publish  %" PRIu64 " accepted (%s), %" PRIu64 " failed, %" PRIu64
                " requests on %d connection%s%s in %.2f s = %.1f requests/s; reply p50 %.2f ms,"
                " p99 %.2f ms, max %.2f ms\n",
                published,
                o_.mode == Mode::kHerald  ? "202"
                : o_.mode == Mode::kNchan ? "201/202"
                                          : "200",
                publish_failed, p.requests, o_.publishers, o_.publishers == 1 ? "" : "s",
                o_.batch > 0 ? (" (batches of " + std::to_string(o_.batch) + ")").c_str() : "",
                publish_s, requests_per_s, Ms(SortedQuantile(p.reply_ns, 0.50)),
                Ms(SortedQuantile(p.reply_ns, 0.99)), Ms(SortedQuantile(p.reply_ns, 1.0)));
    std::printf(
        "           progress %" PRIu64 " sent, %" PRIu64
        " accepted: offered %.0f/s (target %s),"
        " accepted %.0f/s; lag behind schedule last %.2f ms, max %.2f ms;"
        " completed %" PRIu64 "/%" PRIu64 " jobs%s\n",
        p.progress_sent, p.progress_accepted, offered_per_s,
        o_.rate > 0
            ? (std::to_string(o_.rate).substr(0, std::to_string(o_.rate).find('.')) + "/s").c_str()
            : "closed loop",
        accepted_per_s, Ms(p.lag_last_ns), Ms(p.lag_max_ns), p.completions_accepted,
        static_cast<uint64_t>(jobs_.size()),
        p.ordered      ? ""
        : o_.batch > 0 ? "; progress held constant (batches)"
                       : "; progress held constant (several connections per job)");
  }
  if (!p.first_error.empty()) std::printf("           first error: %s\n", p.first_error.c_str());
  std::printf("  deliver  %" PRIu64 "/%" PRIu64 " stamped events = %.0f/s; missing %" PRIu64
              ", out-of-order %" PRIu64 ", duplicates %" PRIu64 "\n",
              t.events_delivered, t.expected, delivered_per_s, t.missing, t.out_of_order,
              t.duplicates);
  std::printf("           %" PRIu64 " events in all: %" PRIu64 " initial, %" PRIu64
              " unstamped, %" PRIu64 " error; %" PRIu64 " heartbeats; %.1f MB read\n",
              t.events_total, t.initial_events, t.unstamped, t.error_events, t.heartbeats,
              static_cast<double>(t.bytes) / 1e6);
  std::printf("  end      terminal event seen by %" PRIu64 " streams; %" PRIu64
              " ended by the server (%" PRIu64 " before the terminal event); %" PRIu64
              " left open after it; %" PRIu64 " cut at the end\n",
              t.terminal, t.ended_by_server, t.closed_early, t.open_after_terminal, t.cut_at_end);
  std::printf(
      "  latency  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f "
      "ms\n",
      Ms(latency_->Quantile(0.50)), Ms(latency_->Quantile(0.90)), Ms(latency_->Quantile(0.99)),
      Ms(latency_->Quantile(0.999)), Ms(latency_->max_ns()), latency_->mean_ns() / 1e6);
  if (storm) {
    std::printf("  storm    %" PRIu64 " streams cut, %" PRIu64 " resumed, %" PRIu64 " not (%" PRIu64
                " non-200 answers, %" PRIu64
                " retries); last resumed %.2f ms"
                " after the cut; per stream p50 %.2f ms, p99 %.2f ms\n",
                t.cut, t.resumed, t.resume_failed, t.resume_non200, t.resume_retries, resume_all_ms,
                Ms(resume_->Quantile(0.50)), Ms(resume_->Quantile(0.99)));
    std::printf("           after the reconnect: %" PRIu64 " gaps in %" PRIu64 " streams (%" PRIu64
                " ids skipped), %" PRIu64 " ids received twice, %" PRIu64
                " late; before it: %" PRIu64 " skips\n",
                t.gaps, t.gap_streams, t.gap_ids, t.dup_ids, t.late, t.pre_cut_skips);
  }
  if (!o_.server_pids.empty()) {
    std::printf("  server   %s%s", o_.server_pids.size() > 1 ? "sum over the processes" : "",
                o_.server_tree
                    ? (o_.server_pids.size() > 1 ? " and their trees: " : "process tree ")
                    : (o_.server_pids.size() > 1 ? ": " : ""));
    std::printf("VmRSS %" PRIu64 " kB before, %" PRIu64
                " kB with streams up (%+.2f kB/stream), %" PRIu64 " kB after hold, %" PRIu64
                " kB after publishing; CPU %.2f s"
                " (%.2f s to connect = %.1f us/stream)\n",
                rss_before_, rss_after_, rss_per_stream, rss_after_hold_, rss_after_publish_, cpu_s,
                cpu_connect_s, cpu_us_per_stream);
  }
  std::printf(
      "RESULT streams=%" PRIu64 " procs=%d established=%" PRIu64 " failed=%" PRIu64
      " connect_s=%.3f connect_per_s=%.0f events_published=%" PRIu64 " publish_failed=%" PRIu64
      " events_expected=%" PRIu64 " events_delivered=%" PRIu64
      " delivered_per_s=%.0f lat_p50_ms=%.3f lat_p90_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f"
      " missing=%" PRIu64 " out_of_order=%" PRIu64 " duplicates=%" PRIu64 " terminal=%" PRIu64
      " closed_early=%" PRIu64 " heartbeats=%" PRIu64 " server_rss_kb_before=%" PRIu64
      " server_rss_kb_after=%" PRIu64 " server_rss_kb_after_publish=%" PRIu64
      " rss_per_stream_kb=%.2f server_cpu_s=%.2f"
      " timed_out=%d",
      o_.streams, o_.procs, ready_total_.established, t.failed, connect_s, connect_per_s, published,
      publish_failed, t.expected, t.events_delivered, delivered_per_s, Ms(latency_->Quantile(0.50)),
      Ms(latency_->Quantile(0.90)), Ms(latency_->Quantile(0.99)), Ms(latency_->max_ns()), t.missing,
      t.out_of_order, t.duplicates, t.terminal, t.closed_early, t.heartbeats, rss_before_,
      rss_after_, rss_after_publish_, rss_per_stream, cpu_s, timed_out_ ? 1 : 0);
  std::printf(
      " jobs=%zu publishers=%d batch=%d target_per_s=%.0f offered_per_s=%.0f"
      " accepted_per_s=%.0f lag_last_ms=%.3f lag_max_ms=%.3f pub_p50_ms=%.3f"
      " pub_p99_ms=%.3f pub_max_ms=%.3f completed_jobs=%" PRIu64
      " server_cpu_connect_s=%.2f cpu_us_per_stream=%.1f",
      jobs_.size(), o_.publishers, o_.batch, o_.rate, offered_per_s, accepted_per_s,
      Ms(p.lag_last_ns), Ms(p.lag_max_ns), Ms(SortedQuantile(p.reply_ns, 0.50)),
      Ms(SortedQuantile(p.reply_ns, 0.99)), Ms(SortedQuantile(p.reply_ns, 1.0)),
      p.completions_accepted, cpu_connect_s, cpu_us_per_stream);
  if (storm) {
    std::printf(" cut=%" PRIu64 " resumed=%" PRIu64 " resume_failed=%" PRIu64
                " resume_all_ms=%.3f resume_p50_ms=%.3f resume_p99_ms=%.3f gaps=%" PRIu64
                " gap_streams=%" PRIu64 " gap_ids=%" PRIu64 " dup_ids=%" PRIu64 " late=%" PRIu64
                " pre_cut_skips=%" PRIu64,
                t.cut, t.resumed, t.resume_failed, resume_all_ms, Ms(resume_->Quantile(0.50)),
                Ms(resume_->Quantile(0.99)), t.gaps, t.gap_streams, t.gap_ids, t.dup_ids, t.late,
                t.pre_cut_skips);
  }
  if (p.batch_unsupported) std::printf(" error=batch_unsupported");
  if (o_.mode != Mode::kHerald) std::printf(" mode=%s", ModeName(o_.mode));
  std::printf("\n");
  std::fflush(stdout);

  bool ok = !timed_out_ && ready_total_.established == o_.streams && !p.batch_unsupported;
  if (o_.events > 0) {
    ok = ok && published_any_ && publish_failed == 0 && p.completions_accepted == jobs_.size() &&
         t.terminal == ready_total_.established;
    if (planned_ > 0) ok = ok && published == planned_;
  }
  if (o_.storm_after > 0) {
    ok = ok && storm && t.resumed == t.cut && t.resume_failed == 0 && t.gaps == 0 && t.dup_ids == 0;
  }
  if (p.batch_unsupported) {
    std::fprintf(stderr, "herald_loadgen: %s\n", p.first_error.c_str());
  }
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
  uint64_t per_child =
      (o_.streams + static_cast<uint64_t>(o_.procs) - 1) / static_cast<uint64_t>(o_.procs);
  if (rl.rlim_cur != RLIM_INFINITY && per_child + kSpareFds > rl.rlim_cur) {
    UsageError("--streams " + std::to_string(o_.streams) + " over --procs " +
               std::to_string(o_.procs) + " needs " + std::to_string(per_child + kSpareFds) +
               " files per process but RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) +
               "; raise --procs");
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  start_ns_ = NowNs();
  deadline_ns_ = start_ns_ + static_cast<int64_t>(o_.timeout * 1e9);
  if (!SetUpJobs()) return 1;

  uint32_t sources = 0;
  if (server_.ss_family == AF_INET) {
    long auto_sources = std::max<long>(255, static_cast<long>((o_.streams + 16383) / 16384));
    sources = static_cast<uint32_t>(o_.sources < 0 ? auto_sources : o_.sources);
  }
  // One complete GET per job; stream g watches job g % jobs.
  std::vector<std::string> requests;
  requests.reserve(jobs_.size());
  for (const std::string& job : jobs_) {
    std::string target = Substitute(o_.path, job);
    if (!o_.token.empty() && target.find("token=") == std::string::npos) {
      target += (target.find('?') == std::string::npos ? "?token=" : "&token=");
      target += PercentEncode(o_.token);
    }
    requests.push_back("GET " + target + " HTTP/1.1\r\nHost: " + host_header_ +
                       "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
                       "User-Agent: herald_loadgen\r\n\r\n");
  }

  rss_before_ = ServerRssKb();
  cpu_before_ = ServerCpuSeconds();
  std::fprintf(stderr, "herald_loadgen: %zu job%s: opening %" PRIu64 " streams over %d process%s\n",
               jobs_.size(), jobs_.size() == 1 ? "" : "s", o_.streams, o_.procs,
               o_.procs == 1 ? "" : "es");
  if (!SpawnReceivers(requests, sources)) {
    SendAll("STOP 0\n");
    Finish();
    return 1;
  }
  requests.clear();
  requests.shrink_to_fit();
  // Allocated after fork so that the receivers do not inherit them.
  latency_ = std::make_unique<Histogram>();
  connect_ = std::make_unique<Histogram>();
  resume_ = std::make_unique<Histogram>();
  scratch_ = std::make_unique<Histogram>();

  bool all_ready = Collect(
      deadline_ns_, [](const Child& c) { return c.ready; }, [] { return int64_t{0}; });
  rss_after_ = ServerRssKb();
  cpu_connected_ = ServerCpuSeconds();
  if (o_.server_pids.size() > 1) {
    // How the kernel spread the streams over the processes (SO_REUSEPORT).
    std::string spread;
    for (long pid : o_.server_pids) {
      spread += (spread.empty() ? "" : " ") + std::to_string(CountFds(pid));
    }
    std::fprintf(stderr, "herald_loadgen: open files per server process: %s\n", spread.c_str());
  }
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
      std::fprintf(stderr,
                   "herald_loadgen: publishing at %g/s (0: closed loop) on %d connection%s\n",
                   o_.rate, o_.publishers, o_.publishers == 1 ? "" : "s");
      Publish();
    }
    rss_after_publish_ = ServerRssKb();
  }

  // What each job accepted, for the receivers' missing/expected counts.
  if (published_any_) {
    std::string counts = "COUNTS";
    for (uint64_t n : pub_.accepted_per_job) counts += " " + std::to_string(n);
    counts += "\n";
    SendAll(counts);
  }
  uint64_t published = pub_.progress_accepted + pub_.completions_accepted;
  bool all_terminal = published_any_ && pub_.completions_accepted == jobs_.size();
  char line[96];
  if (Expired()) {
    timed_out_ = true;
    std::snprintf(line, sizeof line, "STOP %" PRIu64 "\n", published);
  } else {
    int64_t drain_until =
        all_terminal ? deadline_ns_ : std::min(deadline_ns_, NowNs() + kShortDrainNs);
    std::snprintf(line, sizeof line, "DRAIN %" PRIu64 " %" PRId64 "\n", published, drain_until);
  }
  SendAll(line);
  // Receivers end by themselves at the deadline at the latest; the grace
  // covers reporting. ^C meanwhile turns into STOP and a short wait.
  int64_t collect_until = g_interrupted ? NowNs() + kStopGraceNs : deadline_ns_ + kCollectGraceNs;
  bool stopped = g_interrupted;
  Collect(
      collect_until, [](const Child& c) { return c.done; }, /*on_interrupt=*/
      [&]() -> int64_t {
        if (!stopped) {
          stopped = true;
          std::snprintf(line, sizeof line, "STOP %" PRIu64 "\n", published);
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
