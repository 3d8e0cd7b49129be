#include "receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "seq_check.h"
#include "sse_parser.h"
#include "stats.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace herald::bench {
namespace {

constexpr uint64_t kControlTag = ~uint64_t{0};
// A stream that saw the terminal event but is still open this long after is
// closed by us and counted in open_after_terminal.
constexpr int64_t kTerminalLingerNs = 5'000'000'000;
constexpr int kMaxEpollEvents = 1024;
constexpr int kReadsPerWakeup = 8;
constexpr std::size_t kReadBuffer = 64 * 1024;
// A failed attempt is tried again after this pause (same for every attempt,
// so the retry queue stays in time order).
constexpr int64_t kRetryDelayNs = 200'000'000;

class Receiver;

// One SSE stream. Lives in Receiver::streams_ and never moves.
struct Stream final : SseSink {
  enum class State : uint8_t { kPending, kConnecting, kSending, kReading, kDone };

  bool OnHeaders(int status) override;
  void OnEvent(const SseEvent& event) override;
  void OnComment(std::string_view text) override;

  Receiver* owner = nullptr;
  uint32_t index = 0;
  uint32_t job = 0;  // Index into ReceiverOptions::requests.
  int fd = -1;
  State state = State::kPending;
  uint8_t attempts = 0;
  bool established = false;  // 200 and the first event.
  bool terminal = false;     // Saw status completed or failed.
  bool resuming = false;     // Cut; reconnecting until a 200 head.
  bool has_last_id = false;
  std::size_t sent = 0;  // Request bytes written.
  int64_t first_start_ns = 0;
  int64_t terminal_ns = 0;
  int64_t last_id = 0;
  uint64_t unique_stamped = 0;  // Stamped events with a new, higher id.
  std::string last_event_id;    // The last id: line as sent, for Last-Event-ID.
  std::string resume_request;   // The request with Last-Event-ID, while resuming.
  SequenceChecker checker;      // Gaps and duplicates across the reconnect.
  SseResponseParser parser;
};

class Receiver {
 public:
  explicit Receiver(const ReceiverOptions& options)
      : options_(options), streams_(options.streams), read_buffer_(kReadBuffer) {
    counters_.streams = options.streams;
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      streams_[i].owner = this;
      streams_[i].index = static_cast<uint32_t>(i);
      streams_[i].job = static_cast<uint32_t>((options.first_index + i) %
                                              std::max<std::size_t>(1, options.requests.size()));
      pending_.push_back(static_cast<uint32_t>(i));
    }
  }

  int Run();

  // Called from Stream's SseSink methods.
  bool HandleHeaders(Stream& s, int status);
  void HandleEvent(Stream& s, const SseEvent& event);
  void HandleComment() { ++counters_.heartbeats; }
  // Counts the stream as established (200 and, for Herald, its first event).
  void MarkEstablished(Stream& s, int64_t now);

 private:
  enum class Phase { kConnecting, kLive, kResuming };
  enum class EndKind { kByServer, kByUs, kError };

  bool StartConnect(Stream& s, int64_t now);
  void OnWritable(Stream& s);
  void OnReadable(Stream& s);
  // Gives up the current attempt: re-queues the stream or marks it failed.
  void Retry(Stream& s);
  // Closes an established (or refused) stream for good.
  void End(Stream& s, EndKind kind);
  void CloseFd(Stream& s);
  // Remembers the first reason an attempt failed, for the parent to print.
  void NoteError(const char* what, int err);
  void ReadControl();
  void SweepTerminal(int64_t now);
  // The storm: closes every open stream and queues it for a reconnect.
  void Cut(int64_t cut_ns);
  // The numeric sequence of an event: its id (Herald) or its "seq" (peers).
  bool SequenceOf(const SseEvent& event, int64_t* seq) const;
  void Report(const std::string& line);
  void SendFinal();

  const ReceiverOptions& options_;
  std::vector<Stream> streams_;
  std::deque<uint32_t> pending_;
  std::deque<std::pair<int64_t, uint32_t>> retry_;  // (not before, stream)
  std::string first_error_;
  std::vector<char> read_buffer_;
  int epoll_fd_ = -1;
  int in_flight_ = 0;         // Connecting, not yet established or given up.
  std::size_t open_fds_ = 0;  // Stream sockets open.
  uint64_t connects_started_ = 0;
  int64_t connect_start_ns_ = 0;
  Phase phase_ = Phase::kConnecting;
  bool stop_ = false;
  bool drain_ = false;
  int64_t drain_deadline_ns_ = 0;
  uint64_t published_ = 0;
  std::vector<uint64_t> counts_;  // Accepted updates per job (COUNTS).
  int64_t cut_ns_ = 0;
  std::string control_buffer_;
  Counters counters_;
  Histogram latency_;
  Histogram connect_;
  Histogram resume_;
};

bool Stream::OnHeaders(int status) { return owner->HandleHeaders(*this, status); }
void Stream::OnEvent(const SseEvent& event) { owner->HandleEvent(*this, event); }
void Stream::OnComment(std::string_view) { owner->HandleComment(); }

bool Receiver::HandleHeaders(Stream& s, int status) {
  if (s.resuming) {
    if (status != 200) {
      ++counters_.resume_non200;
      if (first_error_.empty()) first_error_ = "reconnect: HTTP status " + std::to_string(status);
      return false;  // OnReadable retries it.
    }
    int64_t now = NowNs();
    s.resuming = false;
    s.resume_request.clear();
    s.resume_request.shrink_to_fit();
    --in_flight_;
    ++counters_.resumed;
    resume_.Add(now - cut_ns_);
    counters_.last_resumed_ns =
        std::max<uint64_t>(counters_.last_resumed_ns, static_cast<uint64_t>(now));
    return true;
  }
  if (status == 200) {
    if (options_.established_on_headers && !s.established) MarkEstablished(s, NowNs());
    return true;
  }
  ++counters_.non200;
  if (first_error_.empty()) first_error_ = "HTTP status " + std::to_string(status);
  return false;
}

void Receiver::NoteError(const char* what, int err) {
  if (first_error_.empty()) first_error_ = std::string(what) + ": " + std::strerror(err);
}

void Receiver::MarkEstablished(Stream& s, int64_t now) {
  s.established = true;
  --in_flight_;
  ++counters_.established;
  counters_.last_established_ns =
      std::max<uint64_t>(counters_.last_established_ns, static_cast<uint64_t>(now));
  connect_.Add(now - s.first_start_ns);
}

void Receiver::HandleEvent(Stream& s, const SseEvent& event) {
  int64_t now = NowNs();
  ++counters_.events_total;
  bool first = !s.established;
  if (first) {
    MarkEstablished(s, now);
    ++counters_.initial_events;
  }
  if (event.type == "error") ++counters_.error_events;

  bool in_order = true;
  int64_t id = 0;
  if (event.has_id) s.last_event_id.assign(event.id);
  if (SequenceOf(event, &id)) {
    s.checker.OnId(id);  // Summed up in SendFinal.
    if (s.has_last_id && id == s.last_id) {
      ++counters_.duplicates;
      in_order = false;
    } else if (s.has_last_id && id < s.last_id) {
      ++counters_.out_of_order;
      in_order = false;
    } else {
      s.last_id = id;
      s.has_last_id = true;
    }
  }

  if (!first) {
    std::string_view message;
    int64_t stamp = 0;
    if (FindJsonString(event.data, "message", &message) && message.substr(0, 2) == "t=" &&
        std::from_chars(message.data() + 2, message.data() + message.size(), stamp).ec ==
            std::errc()) {
      ++counters_.events_delivered;
      latency_.Add(now - stamp);
      if (in_order) ++s.unique_stamped;
      if (counters_.first_delivered_ns == 0) counters_.first_delivered_ns = now;
      counters_.last_delivered_ns = static_cast<uint64_t>(now);
    } else {
      ++counters_.unstamped;
    }
  }

  std::string_view status;
  if (!s.terminal && FindJsonString(event.data, "status", &status) &&
      (status == "completed" || status == "failed")) {
    s.terminal = true;
    s.terminal_ns = now;
    ++counters_.terminal;
  }
}

bool Receiver::SequenceOf(const SseEvent& event, int64_t* seq) const {
  if (options_.seq_from_payload) return FindJsonInt(event.data, "seq", seq);
  if (!event.has_id) return false;
  auto [ptr, ec] = std::from_chars(event.id.data(), event.id.data() + event.id.size(), *seq);
  return ec == std::errc() && ptr == event.id.data() + event.id.size();
}

void Receiver::Cut(int64_t cut_ns) {
  cut_ns_ = cut_ns;
  for (Stream& s : streams_) {
    // Only live streams: not the failed ones, not those that already ended.
    if (s.fd < 0 || !s.established || s.terminal || s.state != Stream::State::kReading) continue;
    CloseFd(s);
    ++counters_.cut;
    s.resuming = true;
    s.attempts = 0;
    s.checker.OnReconnect();
    // The same request plus Last-Event-ID, as EventSource sends it.
    const std::string& base = options_.requests[s.job];
    s.resume_request = base.substr(0, base.size() - 2);
    std::string last = s.last_event_id;
    if (options_.resume_id_offset != 0 && s.has_last_id) {
      last = std::to_string(s.last_id + options_.resume_id_offset);
    }
    if (!last.empty()) s.resume_request += "Last-Event-ID: " + last + "\r\n";
    s.resume_request += "\r\n";
    s.state = Stream::State::kPending;
    if (options_.resume_delay_ns > 0) {
      retry_.emplace_back(cut_ns + options_.resume_delay_ns, s.index);
    } else {
      pending_.push_back(s.index);
    }
  }
  phase_ = Phase::kResuming;
}

bool Receiver::StartConnect(Stream& s, int64_t now) {
  if (s.attempts == 0 && !s.resuming) {
    s.first_start_ns = now;
    if (counters_.first_connect_ns == 0) counters_.first_connect_ns = static_cast<uint64_t>(now);
  }
  ++connects_started_;
  ++in_flight_;
  s.parser = SseResponseParser();
  s.sent = 0;
  if (!s.resuming) {
    // A fresh attempt starts its id bookkeeping over; a resumed stream
    // carries it across the reconnect.
    s.has_last_id = false;
    s.unique_stamped = 0;
  }

  int family = options_.server.ss_family;
  s.fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    NoteError("socket", errno);
    Retry(s);
    return false;
  }
  ++open_fds_;
  int one = 1;
  if (options_.nodelay) ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (family == AF_INET && options_.source_count > 0) {
    // The kernel picks the port at connect() time, per 4-tuple, so every
    // source address gets its own ephemeral range.
    ::setsockopt(s.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    uint64_t global = options_.first_index + s.index + uint64_t{s.attempts} * 131;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_port = 0;
    src.sin_addr.s_addr =
        htonl(0x7F000001u + static_cast<uint32_t>(global % options_.source_count));
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      NoteError("bind", errno);
      Retry(s);
      return false;
    }
  }
  int r = ::connect(s.fd, reinterpret_cast<const sockaddr*>(&options_.server), options_.server_len);
  if (r != 0 && errno != EINPROGRESS) {
    NoteError("connect", errno);
    Retry(s);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = s.index;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
    NoteError("epoll_ctl", errno);
    Retry(s);
    return false;
  }
  s.state = Stream::State::kConnecting;
  return true;
}

void Receiver::CloseFd(Stream& s) {
  if (s.fd >= 0) {
    ::close(s.fd);  // Also removes it from the epoll set.
    s.fd = -1;
    --open_fds_;
  }
}

void Receiver::Retry(Stream& s) {
  CloseFd(s);
  --in_flight_;
  if (!s.resuming) ++counters_.connect_errors;
  if (s.attempts < options_.retries) {
    ++s.attempts;
    ++(s.resuming ? counters_.resume_retries : counters_.retries);
    s.state = Stream::State::kPending;
    retry_.emplace_back(NowNs() + kRetryDelayNs, s.index);
  } else {
    s.state = Stream::State::kDone;
    ++(s.resuming ? counters_.resume_failed : counters_.failed);
  }
}

void Receiver::End(Stream& s, EndKind kind) {
  CloseFd(s);
  s.state = Stream::State::kDone;
  if (!s.established) {
    // Refused (non-200) or ended before its first event.
    --in_flight_;
    ++counters_.failed;
    return;
  }
  if (kind == EndKind::kByServer || kind == EndKind::kError) {
    ++counters_.ended_by_server;
    if (!s.terminal) ++counters_.closed_early;
  }
}

void Receiver::OnWritable(Stream& s) {
  if (s.state == Stream::State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      NoteError("connect", err != 0 ? err : errno);
      Retry(s);
      return;
    }
    s.state = Stream::State::kSending;
  }
  if (s.state != Stream::State::kSending) return;
  const std::string& req = s.resuming ? s.resume_request : options_.requests[s.job];
  while (s.sent < req.size()) {
    ssize_t n = ::send(s.fd, req.data() + s.sent, req.size() - s.sent, MSG_NOSIGNAL);
    if (n > 0) {
      s.sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;  // Still registered for EPOLLOUT.
    } else {
      NoteError("send", errno);
      Retry(s);
      return;
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = s.index;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
  s.state = Stream::State::kReading;
}

void Receiver::OnReadable(Stream& s) {
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = ::recv(s.fd, read_buffer_.data(), read_buffer_.size(), 0);
    if (n > 0) {
      counters_.bytes += static_cast<uint64_t>(n);
      auto r = s.parser.Feed(read_buffer_.data(), static_cast<std::size_t>(n), s);
      if (s.resuming && r != SseResponseParser::Result::kMore) {
        // Refused, or ended before a 200 head: try the reconnect again.
        Retry(s);
        return;
      }
      switch (r) {
        case SseResponseParser::Result::kMore:
          if (options_.close_on_terminal && s.terminal) {
            End(s, EndKind::kByUs);
            return;
          }
          continue;
        case SseResponseParser::Result::kDone:
          End(s, EndKind::kByServer);
          return;
        case SseResponseParser::Result::kAbort:
          End(s, EndKind::kByUs);
          return;
        case SseResponseParser::Result::kError:
          End(s, EndKind::kError);
          return;
      }
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // EOF or a socket error. Before the response head this is a failed
    // attempt (a reset under load, say) and worth another try.
    if ((!s.parser.headers_done() && !s.established) || s.resuming) {
      if (n == 0) {
        if (first_error_.empty()) first_error_ = "connection closed before the response";
      } else {
        NoteError("recv", errno);
      }
      Retry(s);
      return;
    }
    auto r = n == 0 ? s.parser.Finish() : SseResponseParser::Result::kError;
    End(s, r == SseResponseParser::Result::kDone ? EndKind::kByServer : EndKind::kError);
    return;
  }
}

void Receiver::ReadControl() {
  char buf[512];
  while (true) {
    ssize_t n = ::read(options_.control_fd, buf, sizeof buf);
    if (n > 0) {
      control_buffer_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    stop_ = true;  // EOF or error: the parent is gone.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, options_.control_fd, nullptr);
    break;
  }
  std::size_t nl;
  while ((nl = control_buffer_.find('\n')) != std::string::npos) {
    std::string line = control_buffer_.substr(0, nl);
    control_buffer_.erase(0, nl + 1);
    unsigned long long published = 0;
    long long deadline = 0;
    if (line.rfind("COUNTS ", 0) == 0) {
      counts_.clear();
      const char* p = line.c_str() + 7;
      const char* end = line.c_str() + line.size();
      while (p < end) {
        uint64_t v = 0;
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc()) break;
        counts_.push_back(v);
        p = next;
        while (p < end && *p == ' ') ++p;
      }
    } else if (std::sscanf(line.c_str(), "CUT %lld", &deadline) == 1) {
      Cut(deadline);
    } else if (std::sscanf(line.c_str(), "DRAIN %llu %lld", &published, &deadline) == 2) {
      published_ = published;
      drain_ = true;
      drain_deadline_ns_ = std::min<int64_t>(deadline, options_.deadline_ns);
    } else if (std::sscanf(line.c_str(), "STOP %llu", &published) == 1) {
      published_ = published;
      stop_ = true;
    } else {
      stop_ = true;
    }
  }
}

void Receiver::SweepTerminal(int64_t now) {
  for (Stream& s : streams_) {
    if (s.fd >= 0 && s.terminal && now - s.terminal_ns > kTerminalLingerNs) {
      ++counters_.open_after_terminal;
      End(s, EndKind::kByUs);
    }
  }
}

void Receiver::Report(const std::string& line) {
  std::string_view rest(line);
  while (!rest.empty()) {
    ssize_t n = ::write(options_.report_fd, rest.data(), rest.size());
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // The parent is gone; nothing left to tell.
    }
  }
}

void Receiver::SendFinal() {
  for (Stream& s : streams_) {
    const SequenceChecker& c = s.checker;
    counters_.pre_cut_skips += c.pre_cut_skips();
    counters_.gaps += c.gaps();
    counters_.gap_ids += c.gap_ids();
    if (c.gaps() > 0) ++counters_.gap_streams;
    counters_.dup_ids += c.duplicates();
    counters_.late += c.late();
    if (!s.established) continue;
    // Updates this stream's job accepted; every job the same without COUNTS.
    uint64_t published = s.job < counts_.size() ? counts_[s.job] : published_;
    counters_.expected += published;
    if (published > s.unique_stamped) counters_.missing += published - s.unique_stamped;
  }
  std::string out;
  if (!first_error_.empty()) out += "NOTE " + first_error_ + "\n";
  out += "FINAL " + counters_.Serialize() + "\n";
  out += "HIST lat " + latency_.Serialize() + "\n";
  out += "HIST conn " + connect_.Serialize() + "\n";
  out += "HIST resume " + resume_.Serialize() + "\n";
  out += "END\n";
  Report(out);
}

int Receiver::Run() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    std::fprintf(stderr, "herald_loadgen: epoll_create1: %s\n", std::strerror(errno));
    return 1;
  }
  ::fcntl(options_.control_fd, F_SETFL, ::fcntl(options_.control_fd, F_GETFL) | O_NONBLOCK);
  epoll_event cev{};
  cev.events = EPOLLIN;
  cev.data.u64 = kControlTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, options_.control_fd, &cev);

  std::vector<epoll_event> events(kMaxEpollEvents);
  int64_t next_sweep_ns = 0;
  bool timed_out = false;
  connect_start_ns_ = NowNs();

  // Bounded by the deadline: every iteration waits at most 100 ms.
  while (!stop_) {
    int64_t now = NowNs();
    if (now >= options_.deadline_ns) {
      timed_out = true;
      break;
    }

    // Start connects, bounded by the in-flight cap and the rate.
    while (!retry_.empty() && retry_.front().first <= now) {
      pending_.push_back(retry_.front().second);
      retry_.pop_front();
    }
    int cap = options_.max_in_flight;
    if (phase_ == Phase::kResuming && options_.resume_in_flight > 0)
      cap = options_.resume_in_flight;
    if (phase_ == Phase::kResuming && options_.resume_in_flight <= 0) cap = INT32_MAX;
    while (!pending_.empty() && in_flight_ < cap) {
      if (options_.connect_rate > 0) {
        double allowed =
            1.0 + static_cast<double>(now - connect_start_ns_) * options_.connect_rate / 1e9;
        if (static_cast<double>(connects_started_) >= allowed) break;
      }
      uint32_t index = pending_.front();
      pending_.pop_front();
      StartConnect(streams_[index], now);
    }

    if (phase_ == Phase::kConnecting && pending_.empty() && retry_.empty() && in_flight_ == 0) {
      phase_ = Phase::kLive;
      if (!first_error_.empty()) Report("NOTE " + first_error_ + "\n");
      Report("READY " + counters_.Serialize() + "\n");
    }
    if (phase_ == Phase::kResuming && pending_.empty() && retry_.empty() && in_flight_ == 0) {
      phase_ = Phase::kLive;
      Report("RESUMED " + counters_.Serialize() + "\n");
    }
    if (drain_ && (open_fds_ == 0 || now >= drain_deadline_ns_)) break;
    if (now >= next_sweep_ns) {
      SweepTerminal(now);
      next_sweep_ns = now + 250'000'000;
    }

    int64_t wait_ns = 100'000'000;
    wait_ns = std::min(wait_ns, options_.deadline_ns - now);
    if (drain_) wait_ns = std::min(wait_ns, drain_deadline_ns_ - now);
    if (!pending_.empty() && in_flight_ < cap) {
      wait_ns = std::min<int64_t>(wait_ns, 1'000'000);
    }
    if (!retry_.empty()) wait_ns = std::min(wait_ns, retry_.front().first - now);
    int timeout_ms = static_cast<int>(std::max<int64_t>((wait_ns + 999'999) / 1'000'000, 0));
    int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEpollEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "herald_loadgen: epoll_wait: %s\n", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kControlTag) {
        ReadControl();
        continue;
      }
      Stream& s = streams_[tag];
      if (s.fd < 0) continue;  // Closed earlier in this batch.
      uint32_t mask = events[i].events;
      if (s.state == Stream::State::kConnecting || s.state == Stream::State::kSending) {
        if (mask & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnWritable(s);
      } else if (s.state == Stream::State::kReading) {
        if (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(s);
      }
    }
  }

  if (phase_ == Phase::kConnecting) {
    // Stopped before every stream was resolved: report what we have.
    Report("READY " + counters_.Serialize() + "\n");
  } else if (phase_ == Phase::kResuming) {
    Report("RESUMED " + counters_.Serialize() + "\n");
  }
  for (Stream& s : streams_) {
    if (s.fd < 0) continue;
    if (s.resuming) {
      ++counters_.resume_failed;
    } else if (s.established) {
      ++counters_.cut_at_end;
    } else {
      --in_flight_;
      ++counters_.failed;
    }
    CloseFd(s);
  }
  for (uint32_t index : pending_)
    ++(streams_[index].resuming ? counters_.resume_failed : counters_.failed);
  for (auto& [when, index] : retry_)
    ++(streams_[index].resuming ? counters_.resume_failed : counters_.failed);
  pending_.clear();
  retry_.clear();
  SendFinal();
  ::close(epoll_fd_);
  return timed_out ? 1 : 0;
}

}  // namespace

int RunReceiver(const ReceiverOptions& options) {
  auto receiver = std::make_unique<Receiver>(options);
  return receiver->Run();
}

}  // namespace herald::bench
