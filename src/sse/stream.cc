#include "sse/stream.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "common/log.h"
#include "common/metrics.h"
#include "sse/event_format.h"
#include "sse/stream_quota.h"
#include "sse/stream_shard.h"

namespace herald::sse {
namespace asio = boost::asio;

namespace {

// Thousands of streams opened together would otherwise send their
// heartbeats in the same millisecond forever after; the first interval is
// shortened by up to 10% at random (Pushpin's KEEPALIVE_RAND_MAX idea).
std::chrono::milliseconds Jittered(std::chrono::milliseconds interval) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto spread = std::max<int64_t>(1, interval.count() / 10);
  return interval - std::chrono::milliseconds(rng() % spread);
}

// How late the shard may wake a stream: a tenth of its shortest interval,
// between 5 ms and 1 s (30 s heartbeats are sent within a second).
std::chrono::milliseconds Resolution(const StreamOptions& options) {
  auto shortest = std::min(options.heartbeat, options.max_duration);
  return std::clamp<std::chrono::milliseconds>(shortest / 10, std::chrono::milliseconds(5),
                                               std::chrono::milliseconds(1000));
}

// A frame plus the response head: at most this many buffers per write
// (Stream::Accept keeps at most max_queued_events, 64 by default).
constexpr std::size_t kMaxIov = 128;

}  // namespace

Stream::Stream(TcpSocket socket, const StreamOptions& options, Metrics& metrics, StreamOwner& owner,
               std::string label, int64_t job_id, bool audit)
    : socket_(std::move(socket)),
      shard_(StreamShard::For(socket_.get_executor())),
      options_(options),
      metrics_(metrics),
      owner_(&owner),
      label_(std::move(label)),
      job_id_(job_id),
      audit_(audit) {
  metrics_.streams_total.fetch_add(1, std::memory_order_relaxed);
}

Stream::~Stream() {
  // Close() took it off the shard's list; only a context shutting down
  // destroys a listed stream. Not listed: nothing of the shard is touched,
  // since the last reference may go on another thread.
  if (shard_slot_ != kNoSlot) shard_.Remove(this);
}

void Stream::Start(std::string head, int64_t last_seq, bool finished) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), head = std::move(head), last_seq, finished]() mutable {
               self->DoStart(std::move(head), last_seq, finished);
             });
}

void Stream::Deliver(EventPtr event) { shard_.Deliver(shared_from_this(), std::move(event)); }

void Stream::Stop() {
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->Close("shutdown", false); });
}

void Stream::DoStart(std::string head, int64_t last_seq, bool finished) {
  if (closed_) return;
  started_ = true;
  finished_ = finished;
  if (!head.empty()) head_ = std::make_unique<std::string>(std::move(head));
  last_seq_ = last_seq;
  // Events that arrived while the replay was read: keep only the new ones.
  // The replay covered everything up to last_seq.
  std::erase_if(
      queue_, [&](const EventPtr& e) { return finished_ || (e->seq != 0 && e->seq <= last_seq_); });
  for (const auto& e : queue_) {
    last_seq_ = std::max(last_seq_, e->seq);
    if (e->terminal) terminal_queued_ = true;
  }
  if (finished_) terminal_queued_ = true;

  auto now = Clock::now();
  // deadline_ holds the credentials' expiry, if one was set: the sooner wins.
  if (now + options_.max_duration <= deadline_) {
    deadline_ = now + options_.max_duration;
    credentials_deadline_ = false;
  }
  last_write_ = now;
  WatchPeer();
  ArmTimer(std::min(deadline_, now + Jittered(options_.heartbeat)));
  shard_.Add(this, Resolution(options_));
  Flush();
}

void Stream::EndWhenCredentialsExpire(Clock::time_point at) {
  deadline_ = at;
  credentials_deadline_ = true;
}

void Stream::Enqueue(EventPtr event) {
  if (closed_ || terminal_queued_) return;
  if (started_ && event->seq != 0) {
    if (held_) {
      held_->push_back(std::move(event));
      return;
    }
    if (event->seq <= last_seq_) return;  // already sent (replay overlap)
    if (job_id_ != 0 && last_seq_ > 0 && event->seq > last_seq_ + 1) {
      log::Info("SSE {}: events {}..{} did not come over the bus; reading them from the store",
                label_, last_seq_ + 1, event->seq - 1);
      held_ = std::make_unique<std::vector<EventPtr>>();
      held_->push_back(std::move(event));
      owner_->Refill(*this, last_seq_, [self = shared_from_this()](std::vector<EventPtr> events) {
        asio::post(self->socket_.get_executor(), [self, events = std::move(events)]() mutable {
          self->EndRefill(std::move(events));
        });
      });
      return;
    }
    last_seq_ = event->seq;
  }
  Accept(std::move(event));
}

void Stream::EndRefill(std::vector<EventPtr> events) {
  auto held = std::move(held_);
  if (!held) return;
  // No gap check here: what the store no longer has (retention) or could
  // not read is skipped rather than asked for again.
  for (auto* batch : {&events, held.get()}) {
    for (auto& e : *batch) {
      if (closed_ || terminal_queued_) return;
      if (e->seq != 0 && e->seq <= last_seq_) continue;
      last_seq_ = std::max(last_seq_, e->seq);
      Accept(std::move(e));
    }
  }
}

void Stream::Accept(EventPtr event) {
  if (const std::size_t behind = queue_.size() - inflight_; behind >= options_.max_queued_events) {
    if (options_.lossless) {
      // Nothing more goes out: Close shuts the socket at once, so the queued
      // events are not sent and the one being written may arrive cut short
      // (an SSE client discards an unfinished event). The client's
      // Last-Event-ID is the last event it got whole, and its resume replays
      // everything after that from the store: nothing is skipped.
      metrics_.streams_cut_slow.fetch_add(1, std::memory_order_relaxed);
      Close(
          "the client fell " + std::to_string(behind) + " events behind; it resumes from the store",
          false);
      return;
    }
    // Conflate: the oldest intermediate event goes (never one being
    // written, never a terminal one).
    auto victim = std::find_if(queue_.begin() + inflight_, queue_.end(),
                               [](const EventPtr& e) { return !e->terminal; });
    if (victim != queue_.end()) {
      queue_.erase(victim);
      metrics_.events_dropped_slow.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (event->terminal) terminal_queued_ = true;
  queue_.push_back(std::move(event));
  // In a drain the stream is written once, after every event of the burst.
  if (shard_.draining()) {
    shard_.FlushLater(this);
  } else {
    Flush();
  }
}

void Stream::Flush() {
  if (writing_ || closed_ || !started_) return;
  if (queue_.empty() && !head_) {
    if (finished_) Close("completed", false);
    return;
  }
  // Everything queued goes out in one gather write: with TCP_NODELAY on,
  // a burst still leaves as few segments as Nagle would make.
  iovec iov[kMaxIov];
  std::size_t count = 0;
  std::size_t total = 0;
  auto add = [&](const std::string& bytes) {
    iov[count++] = iovec{const_cast<char*>(bytes.data()), bytes.size()};
    total += bytes.size();
  };
  if (head_) add(*head_);
  // More than one sendmsg takes (a huge max_queued_events) waits its turn.
  inflight_ = static_cast<uint32_t>(std::min(queue_.size(), kMaxIov - count));
  for (std::size_t i = 0; i < inflight_; ++i) {
    const Event& e = *queue_[i];
    add(plain_frames_ && !e.plain.empty() ? e.plain : e.wire);
  }
  writing_ = true;
  // Try the write now: the socket buffer nearly always takes it whole, and
  // then no asynchronous operation (an allocation, a completion) is needed.
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  const ssize_t sent = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    OnWritten(boost::system::error_code(errno, boost::system::system_category()));
    return;
  }
  std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
  if (done == total) {
    OnWritten({});
    return;
  }
  // The rest waits for the socket to drain.
  if (!rest_) rest_ = std::make_unique<std::vector<asio::const_buffer>>();
  rest_->clear();
  for (std::size_t i = 0; i < count; ++i) {
    if (done >= iov[i].iov_len) {
      done -= iov[i].iov_len;
      continue;
    }
    rest_->emplace_back(static_cast<const char*>(iov[i].iov_base) + done, iov[i].iov_len - done);
    done = 0;
  }
  asio::async_write(socket_, *rest_,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->OnWritten(ec);
                    });
}

void Stream::OnWritten(const boost::system::error_code& ec) {
  writing_ = false;
  rest_.reset();
  if (closed_) return;
  if (ec) {
    Close(ec.message(), true);
    return;
  }
  head_.reset();  // the replay can be large: free it
  last_write_ = Clock::now();
  bool ended = false;
  bool failed = false;
  int64_t delivered = 0;
  for (std::size_t i = 0; i < inflight_; ++i) {
    const Event& e = *queue_[i];
    if (e.comment) {
      metrics_.heartbeats_sent.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++delivered;
    }
    if (e.terminal) {
      ended = true;
      failed = e.failed;
    }
  }
  metrics_.events_delivered.fetch_add(delivered, std::memory_order_relaxed);
  queue_.erase(queue_.begin(), queue_.begin() + inflight_);
  inflight_ = 0;
  if (queue_.empty() && queue_.capacity() > 16) std::vector<EventPtr>().swap(queue_);
  if (ended) {
    Close(timed_out_ ? (credentials_deadline_ ? "token expired" : "timeout")
                     : (failed ? "failed" : "completed"),
          false);
    return;
  }
  if (finished_ && queue_.empty()) {
    Close("completed", false);
    return;
  }
  Flush();
}

void Stream::WatchPeer() {
  // An SSE client sends nothing after its request; readability means it
  // closed (or misbehaves). Reading one byte needs no buffer worth the name.
  socket_.async_read_some(
      asio::buffer(&peer_byte_, 1),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (self->closed_) return;
        self->Close(ec ? ec.message() : "client sent data", true);
      });
}

void Stream::OnTimer(Clock::time_point now) {
  if (timed_out_) {
    // The client did not take the timeout event in time.
    Close(credentials_deadline_ ? "token expired" : "timeout", true);
    return;
  }
  if (now >= deadline_) {
    timed_out_ = true;
    if (!terminal_queued_) {
      auto event = std::make_shared<Event>();
      event->terminal = true;
      event->wire = FormatEvent(std::nullopt, "error",
                                credentials_deadline_ ? kTokenExpiredData : kTimeoutData);
      terminal_queued_ = true;
      queue_.push_back(std::move(event));
      Flush();
    }
    ArmTimer(now + options_.timeout_grace);  // then the client is cut off
    return;
  }
  // Heartbeats count from the last write: a stream that is busy sends none.
  auto due = last_write_ + options_.heartbeat;
  if (now >= due) {
    if (!writing_ && queue_.empty()) {
      queue_.push_back(options_.heartbeat_frame);
      Flush();
    }
    due = now + options_.heartbeat;
  }
  ArmTimer(std::min(due, deadline_));
}

void Stream::Close(std::string_view reason, bool client_gone) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  shard_.Remove(this);
  wake_at_ = Clock::time_point::max();
  if (!client_gone) socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  socket_.close(ignored);
  // A write in flight still owns its buffers: OnWritten runs (aborted).
  if (!writing_) queue_.clear();
  held_.reset();
  if (client_gone) {
    log::Info("SSE client disconnected for {}", label_);
    log::Debug("SSE client of {} gone: {}", label_, reason);
  } else {
    log::Info("SSE stream ended for {}: {}", label_, reason);
  }
  if (options_.quota != nullptr) options_.quota->Release(std::exchange(quota_slot_, nullptr));
  if (auto* owner = std::exchange(owner_, nullptr)) owner->Closed(*this);
}

}  // namespace herald::sse
