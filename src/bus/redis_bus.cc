#include "bus/redis_bus.h"

// hiredis 0.14 has no Asio adapter. This file is the bridge: each
// redisAsyncContext's ev.addRead/delRead/addWrite/delWrite/cleanup hooks turn
// into async_wait(wait_read / wait_write) on a posix::stream_descriptor that
// wraps the context's socket, and readiness calls redisAsyncHandleRead/Write.
// Everything that touches a context runs on one strand. The socket belongs to
// hiredis (redisFree closes it), so the descriptor is released, never closed.

#include <hiredis/async.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <optional>
#include <random>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/backoff.h"
#include "common/log.h"
#include "config/service_url.h"

namespace herald::bus {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kMinProbeInterval = 50ms;  // probes go out every timeout / 2,
constexpr auto kMaxProbeInterval = 1s;    // within these bounds
constexpr auto kStopWait = 2s;            // Stop() waits this long for the strand
constexpr int kKeepAliveSeconds = 15;     // notices a peer that vanished silently

}  // namespace

// ---------------------------------------------------------------------------

class RedisBus::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using Strand = asio::strand<asio::io_context::executor_type>;

  enum class Role { kSubscriber, kPublisher };

  // One hiredis connection and its Asio plumbing. Only touched on the strand.
  struct Conn {
    Conn(Impl* o, Role r, const Strand& s) : owner(o), role(r), retry(s), deadline(s) {}

    Impl* owner;
    Role role;
    redisAsyncContext* ac = nullptr;
    std::optional<asio::posix::stream_descriptor> fd;
    uint64_t generation = 0;  // bumped whenever `ac` goes away
    bool want_read = false, want_write = false;
    bool read_armed = false, write_armed = false;
    bool ready = false;  // AUTH/SELECT/PING answered
    // When the oldest probe still unanswered went out (nullopt: none is).
    std::optional<std::chrono::steady_clock::time_point> probe_since;
    Backoff backoff;          // reconnects: 100 ms doubling to 5 s
    std::string drop_reason;  // why we freed it ourselves, if we did
    asio::steady_timer retry;
    asio::steady_timer deadline;

    const char* Name() const { return role == Role::kSubscriber ? "subscriber" : "publisher"; }
  };

  Impl(asio::io_context& ioc, config::RedisUrl ep, RedisBusOptions options)
      : ioc_(ioc),
        strand_(asio::make_strand(ioc)),
        ep_(std::move(ep)),
        timeout_(std::max<std::chrono::milliseconds>(options.timeout, 1ms)),
        probe_interval_(std::clamp<std::chrono::milliseconds>(timeout_ / 2, kMinProbeInterval,
                                                              kMaxProbeInterval)),
        health_channel_(HealthChannelName()),
        sub_(this, Role::kSubscriber, strand_),
        pub_(this, Role::kPublisher, strand_),
        probe_timer_(strand_) {}

  ~Impl() {
    // Normally Stop() ran on the strand already. If the io_context never ran
    // it, free what is left here (nothing else can run concurrently: every
    // handler holds a reference to us).
    stopping_ = true;
    for (Conn* c : {&sub_, &pub_}) {
      if (c->ac) redisAsyncFree(c->ac);  // Cleanup() releases the descriptor
    }
  }

  // --- Called from any thread --------------------------------------------

  void SetHandler(Handler h) { handler_ = std::move(h); }
  void SetHealthHandler(HealthHandler h) { health_handler_ = std::move(h); }

  void WhenSubscribed(const std::string& channel, std::function<void()> ready) {
    asio::post(strand_, [self = shared_from_this(), channel, ready = std::move(ready)]() mutable {
      // Nothing to wait for: no connection (the fallback polls), already
      // confirmed, or no longer wanted.
      if (!self->sub_.ac || self->confirmed_.contains(channel) ||
          !self->channels_.contains(channel)) {
        ready();
        return;
      }
      self->waiters_[channel].push_back(std::move(ready));
    });
  }

  void Start() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->started_ || self->stopping_) return;
      self->started_ = true;
      // The subscriber's probe channel, held like any other (re-subscribed
      // on reconnect) but never handed to the handler.
      self->channels_.insert(self->health_channel_);
      self->Connect(self->sub_);
      self->Connect(self->pub_);
      self->ArmProbe();
    });
  }

  void Stop() {
    stopped_ = true;  // from now on the handler is not called
    // A stopped io_context runs nothing (its threads have returned, as in
    // Runtime::Wait), so the strand is ours: stop here instead of waiting.
    if (strand_.running_in_this_thread() || ioc_.stopped()) {
      DoStop();
      return;
    }
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    asio::post(strand_, [self = shared_from_this(), done] {
      self->DoStop();
      done->set_value();
    });
    // Bounded: if nobody runs the io_context, the shutdown stays posted.
    future.wait_for(kStopWait);
  }

  void Publish(const std::string& channel, std::string payload) {
    asio::post(strand_, [self = shared_from_this(), channel = std::string(channel),
                         payload = std::move(payload)]() mutable {
      self->DoPublish(std::move(channel), std::move(payload));
    });
  }

  void Subscribe(const std::string& channel) {
    asio::post(strand_, [self = shared_from_this(), channel] { self->DoSubscribe(channel); });
  }

  void Unsubscribe(const std::string& channel) {
    asio::post(strand_, [self = shared_from_this(), channel] { self->DoUnsubscribe(channel); });
  }

  std::string_view Health() const { return up_.load() ? "up" : "down"; }

 private:
  // --- Connection lifecycle (strand) --------------------------------------

  void Connect(Conn& c) {
    if (stopping_) return;
    // Note: a host name is resolved synchronously by hiredis (getaddrinfo).
    redisAsyncContext* ac = redisAsyncConnect(ep_.host.c_str(), ep_.port);
    if (ac == nullptr) {
      ConnectionLost(c, "cannot allocate a hiredis context");
      return;
    }
    if (ac->err) {
      std::string reason = ac->errstr ? ac->errstr : "connect failed";
      redisAsyncFree(ac);
      ConnectionLost(c, reason);
      return;
    }
    try {
      c.fd.emplace(strand_, ac->c.fd);
    } catch (const std::exception& e) {
      c.fd.reset();
      redisAsyncFree(ac);
      ConnectionLost(c, std::string("cannot watch the socket: ") + e.what());
      return;
    }
    c.ac = ac;
    c.want_read = c.want_write = c.read_armed = c.write_armed = false;
    c.ready = false;
    c.drop_reason.clear();
    ac->data = &c;
    ac->ev.data = &c;
    ac->ev.addRead = &AddRead;
    ac->ev.delRead = &DelRead;
    ac->ev.addWrite = &AddWrite;
    ac->ev.delWrite = &DelWrite;
    ac->ev.cleanup = &Cleanup;
    redisAsyncSetConnectCallback(ac, &OnConnect);

    // Pipelined; replies come back in this order. PING must precede any
    // SUBSCRIBE: once subscribed, hiredis 0.14 cannot match a PING reply.
    if (!ep_.password.empty()) {
      if (ep_.username.empty()) {
        redisAsyncCommand(ac, &OnSetupReply, const_cast<char*>("AUTH"), "AUTH %b",
                          ep_.password.data(), ep_.password.size());
      } else {
        redisAsyncCommand(ac, &OnSetupReply, const_cast<char*>("AUTH"), "AUTH %b %b",
                          ep_.username.data(), ep_.username.size(), ep_.password.data(),
                          ep_.password.size());
      }
    }
    if (ep_.db != 0) {
      redisAsyncCommand(ac, &OnSetupReply, const_cast<char*>("SELECT"), "SELECT %d", ep_.db);
    }
    redisAsyncCommand(ac, &OnPingReply, nullptr, "PING");
    if (c.role == Role::kSubscriber) {
      unsub_in_flight_.clear();
      confirmed_.clear();
      resubscribing_ = channels_;
      for (const auto& channel : channels_) SendSubscribe(channel);
    }

    c.probe_since.reset();
    c.deadline.expires_after(timeout_);
    c.deadline.async_wait([self = shared_from_this(), &c, gen = c.generation](auto ec) {
      if (ec || gen != c.generation || c.ready) return;
      self->Drop(c, fmt::format("no answer within {} ms of connecting", self->timeout_.count()));
    });
  }

  // Frees the context outside any hiredis callback; Cleanup() then schedules
  // the reconnect.
  void Drop(Conn& c, std::string reason) {
    asio::post(strand_, [self = shared_from_this(), &c, gen = c.generation,
                         reason = std::move(reason)]() mutable {
      if (gen != c.generation || c.ac == nullptr) return;
      c.drop_reason = std::move(reason);
      redisAsyncFree(c.ac);
    });
  }

  void ConnectionLost(Conn& c, const std::string& reason) {
    UpdateHealth(reason);
    if (stopping_) return;
    if (!outage_logged_) {
      outage_logged_ = true;
      log::Warn("SSE Redis read failed: {}", reason);
    } else {
      log::Debug("SSE Redis {} still down: {}", c.Name(), reason);
    }
    c.retry.expires_after(c.backoff.Next());
    c.retry.async_wait([self = shared_from_this(), &c](auto ec) {
      if (!ec) self->Connect(c);
    });
  }

  void Ready(Conn& c) {
    c.ready = true;
    c.backoff.Reset();
    c.deadline.cancel();
    UpdateHealth();
    if (c.role == Role::kPublisher) FlushPending();
  }

  // Up means push delivery works for every channel: both connections ready
  // and the subscriptions held before a reconnect confirmed again (until
  // then a publish could still be missed, so the fallback keeps polling).
  void UpdateHealth(std::string_view reason = {}) {
    bool up = sub_.ready && pub_.ready && resubscribing_.empty() && !stopping_;
    bool was = up_.exchange(up);
    if (up == was) return;
    if (up && outage_logged_) {
      outage_logged_ = false;
      log::Info("SSE Redis connection restored");
    }
    if (health_handler_ && !stopping_) health_handler_(up, reason);
  }

  // --- Probes (strand) ------------------------------------------------------

  static std::string HealthChannelName() {
    std::random_device random;
    return fmt::format("herald:probe:{:08x}{:08x}", random(), random());
  }

  void ArmProbe() {
    probe_timer_.expires_after(probe_interval_);
    probe_timer_.async_wait([self = shared_from_this()](auto ec) {
      if (ec || self->stopping_) return;
      self->Probe();
      self->ArmProbe();
    });
  }

  // Drops a connection whose oldest probe went unanswered for the timeout,
  // then sends the next probes: PING to the publisher, and through it a
  // message the subscriber must hear. A probe still unanswered is not sent
  // again (its time keeps running).
  void Probe() {
    const auto now = std::chrono::steady_clock::now();
    for (Conn* c : {&pub_, &sub_}) {
      if (c->ac && c->ready && c->probe_since && now - *c->probe_since >= timeout_) {
        Drop(*c, fmt::format("no answer to PING within {} ms", timeout_.count()));
        c->probe_since.reset();
      }
    }
    if (!pub_.ready || !pub_.ac) {
      sub_.probe_since.reset();  // nothing can reach it: not the subscriber's fault
      return;
    }
    if (!pub_.probe_since &&
        redisAsyncCommand(pub_.ac, &OnProbeReply, nullptr, "PING") == REDIS_OK) {
      pub_.probe_since = now;
    }
    if (sub_.ready && confirmed_.contains(health_channel_) && !sub_.probe_since &&
        redisAsyncCommand(pub_.ac, &OnPublishReply, nullptr, "PUBLISH %b %b",
                          health_channel_.data(), health_channel_.size(), "ping",
                          size_t{4}) == REDIS_OK) {
      sub_.probe_since = now;
    }
  }

  static void OnProbeReply(redisAsyncContext* ac, void* r, void*) {
    if (r == nullptr) return;  // the context is going away
    static_cast<Conn*>(ac->data)->probe_since.reset();
  }

  void DoStop() {
    if (stopping_) return;
    stopping_ = true;
    probe_timer_.cancel();
    pending_.clear();
    waiters_.clear();
    for (Conn* c : {&sub_, &pub_}) {
      c->retry.cancel();
      c->deadline.cancel();
      if (c->ac) redisAsyncFree(c->ac);  // deferred by hiredis inside a callback
    }
    up_ = false;
  }

  // --- Event hooks: hiredis → Asio (strand) --------------------------------

  static void AddRead(void* p) {
    auto& c = *static_cast<Conn*>(p);
    c.want_read = true;
    c.owner->ArmRead(c);
  }
  static void DelRead(void* p) { static_cast<Conn*>(p)->want_read = false; }
  static void AddWrite(void* p) {
    auto& c = *static_cast<Conn*>(p);
    c.want_write = true;
    c.owner->ArmWrite(c);
  }
  static void DelWrite(void* p) { static_cast<Conn*>(p)->want_write = false; }

  // hiredis is freeing the context (error, server gone, or our own free);
  // redisFree closes the socket after this returns.
  static void Cleanup(void* p) {
    auto& c = *static_cast<Conn*>(p);
    Impl* self = c.owner;
    std::string reason = c.drop_reason;
    if (reason.empty()) {
      reason = (c.ac && c.ac->c.errstr[0] != '\0') ? c.ac->c.errstr : "connection closed";
    }
    if (c.fd) {
      boost::system::error_code ignored;
      c.fd->cancel(ignored);
      c.fd->release();
      c.fd.reset();
    }
    c.ac = nullptr;
    ++c.generation;
    c.ready = false;
    c.want_read = c.want_write = c.read_armed = c.write_armed = false;
    c.drop_reason.clear();
    c.deadline.cancel();
    if (c.role == Role::kSubscriber) {
      self->unsub_in_flight_.clear();
      self->confirmed_.clear();
      self->resubscribing_.clear();
    }
    self->ConnectionLost(c, reason);
    if (c.role == Role::kSubscriber) self->ReleaseAllWaiters();
  }

  void ArmRead(Conn& c) {
    if (c.read_armed || !c.fd) return;
    c.read_armed = true;
    c.fd->async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this(), &c, gen = c.generation](auto ec) {
                       if (gen != c.generation) return;  // that context is gone
                       c.read_armed = false;
                       if (ec || !c.ac || !c.want_read) return;
                       redisAsyncHandleRead(c.ac);  // may free the context
                       if (gen == c.generation && c.want_read) self->ArmRead(c);
                     });
  }

  void ArmWrite(Conn& c) {
    if (c.write_armed || !c.fd) return;
    c.write_armed = true;
    c.fd->async_wait(asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), &c, gen = c.generation](auto ec) {
                       if (gen != c.generation) return;
                       c.write_armed = false;
                       if (ec || !c.ac || !c.want_write) return;
                       redisAsyncHandleWrite(c.ac);  // connects, then flushes
                       if (gen == c.generation && c.want_write) self->ArmWrite(c);
                     });
  }

  // --- Replies (strand, inside hiredis) ------------------------------------

  static void OnConnect(const redisAsyncContext* ac, int status) {
    if (status != REDIS_OK) return;  // hiredis frees it next; Cleanup() reports
    // TCP keepalive (hiredis 0.14 does not export redisKeepAlive).
    int fd = ac->c.fd, on = 1, idle = kKeepAliveSeconds, interval = kKeepAliveSeconds / 3,
        count = 3;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  }

  static void OnSetupReply(redisAsyncContext* ac, void* r, void* what) {
    auto* reply = static_cast<redisReply*>(r);
    if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return;
    auto& c = *static_cast<Conn*>(ac->data);
    // The reply is Redis's own text; it never contains the password.
    c.owner->Drop(c, fmt::format("{} failed: {}", static_cast<const char*>(what),
                                 std::string_view(reply->str, reply->len)));
  }

  static void OnPingReply(redisAsyncContext* ac, void* r, void*) {
    auto* reply = static_cast<redisReply*>(r);
    if (reply == nullptr) return;
    auto& c = *static_cast<Conn*>(ac->data);
    if (reply->type == REDIS_REPLY_ERROR) {
      c.owner->Drop(c, "PING failed: " + std::string(reply->str, reply->len));
      return;
    }
    c.owner->Ready(c);
  }

  static void OnSubscriberReply(redisAsyncContext* ac, void* r, void*) {
    auto* reply = static_cast<redisReply*>(r);
    if (reply == nullptr) return;  // the context is going away
    auto& c = *static_cast<Conn*>(ac->data);
    Impl* self = c.owner;
    if (reply->type == REDIS_REPLY_ERROR) {
      self->Drop(c, "SUBSCRIBE failed: " + std::string(reply->str, reply->len));
      return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    auto str = [&](size_t i) -> std::string_view {
      const redisReply* e = reply->element[i];
      if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS) return {};
      return {e->str, e->len};
    };
    std::string_view kind = str(0);
    std::string_view channel = str(1);
    if (kind == "message") {
      self->Deliver(channel, str(2));
    } else if (kind == "subscribe") {
      log::Info("SSE Redis subscribed: {}", channel);
      self->Confirmed(std::string(channel));
    } else if (kind == "unsubscribe") {
      self->confirmed_.erase(std::string(channel));
      self->Unsubscribed(std::string(channel));
    }
  }

  static void OnPublishReply(redisAsyncContext*, void* r, void*) {
    auto* reply = static_cast<redisReply*>(r);
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
      log::Warn("SSE Redis publish failed: {}", std::string_view(reply->str, reply->len));
    }
  }

  // --- Pub/sub (strand) ----------------------------------------------------

  void Deliver(std::string_view channel, std::string_view payload) {
    if (channel == health_channel_) {
      sub_.probe_since.reset();
      return;
    }
    if (stopped_ || !handler_) return;
    // A message can still arrive between UNSUBSCRIBE and its confirmation.
    if (!channels_.contains(std::string(channel))) return;
    handler_(channel, payload);
  }

  void DoSubscribe(const std::string& channel) {
    if (!channels_.insert(channel).second) return;
    // While an UNSUBSCRIBE for it is unanswered, a new SUBSCRIBE would have
    // its callback removed by that answer (hiredis 0.14); Unsubscribed()
    // re-subscribes instead.
    if (sub_.ac && !unsub_in_flight_.contains(channel)) SendSubscribe(channel);
  }

  void Confirmed(const std::string& channel) {
    confirmed_.insert(channel);
    if (auto it = waiters_.find(channel); it != waiters_.end()) {
      auto ready = std::move(it->second);
      waiters_.erase(it);
      for (auto& r : ready) r();
    }
    if (resubscribing_.erase(channel) && resubscribing_.empty()) UpdateHealth();
  }

  void ReleaseAllWaiters() {
    auto all = std::move(waiters_);
    waiters_.clear();
    for (auto& [channel, ready] : all)
      for (auto& r : ready) r();
  }

  void DoUnsubscribe(const std::string& channel) {
    if (channels_.erase(channel) == 0) return;
    if (auto it = waiters_.find(channel); it != waiters_.end()) {
      auto ready = std::move(it->second);
      waiters_.erase(it);
      for (auto& r : ready) r();
    }
    if (!sub_.ac || unsub_in_flight_.contains(channel)) return;
    // hiredis routes the confirmation to the channel's SUBSCRIBE callback.
    if (redisAsyncCommand(sub_.ac, nullptr, nullptr, "UNSUBSCRIBE %b", channel.data(),
                          channel.size()) == REDIS_OK) {
      unsub_in_flight_.insert(channel);
    }
  }

  void Unsubscribed(const std::string& channel) {
    unsub_in_flight_.erase(channel);
    if (channels_.contains(channel) && sub_.ac) SendSubscribe(channel);
  }

  void SendSubscribe(const std::string& channel) {
    redisAsyncCommand(sub_.ac, &OnSubscriberReply, nullptr, "SUBSCRIBE %b", channel.data(),
                      channel.size());
  }

  void DoPublish(std::string channel, std::string payload) {
    if (stopping_) return;
    if (pub_.ready && pending_.empty() && SendPublish(channel, payload)) return;
    if (pending_.size() >= kMaxPendingPublishes) {
      pending_.pop_front();
      if (!dropped_logged_) {
        dropped_logged_ = true;
        log::Warn("SSE Redis publish queue full ({}), dropping the oldest", kMaxPendingPublishes);
      }
    }
    pending_.emplace_back(std::move(channel), std::move(payload));
  }

  void FlushPending() {
    while (!pending_.empty() && pub_.ready) {
      auto& [channel, payload] = pending_.front();
      if (!SendPublish(channel, payload)) return;
      pending_.pop_front();
    }
    dropped_logged_ = false;
  }

  bool SendPublish(const std::string& channel, const std::string& payload) {
    if (!pub_.ac) return false;
    return redisAsyncCommand(pub_.ac, &OnPublishReply, nullptr, "PUBLISH %b %b", channel.data(),
                             channel.size(), payload.data(), payload.size()) == REDIS_OK;
  }

  asio::io_context& ioc_;
  Strand strand_;
  const config::RedisUrl ep_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds probe_interval_;
  const std::string health_channel_;
  Handler handler_;               // set before Start(); then read on the strand only
  HealthHandler health_handler_;  // likewise

  // Strand-only state.
  Conn sub_;
  Conn pub_;
  asio::steady_timer probe_timer_;
  std::unordered_set<std::string> channels_;         // what we want to hear
  std::unordered_set<std::string> unsub_in_flight_;  // UNSUBSCRIBE unanswered
  std::unordered_set<std::string> confirmed_;        // SUBSCRIBE answered
  std::unordered_set<std::string> resubscribing_;    // held at reconnect, unanswered
  std::unordered_map<std::string, std::vector<std::function<void()>>> waiters_;
  std::deque<std::pair<std::string, std::string>> pending_;  // publisher down
  bool started_ = false;
  bool stopping_ = false;
  bool outage_logged_ = false;
  bool dropped_logged_ = false;

  std::atomic<bool> up_{false};
  std::atomic<bool> stopped_{false};
};

// ---------------------------------------------------------------------------

Result<std::unique_ptr<RedisBus>> RedisBus::Create(asio::io_context& ioc,
                                                   std::string_view redis_url,
                                                   RedisBusOptions options) {
  auto endpoint = config::ParseRedisUrl(redis_url);
  if (!endpoint) return endpoint.error();
  return std::unique_ptr<RedisBus>(new RedisBus(ioc, *endpoint, options));
}

RedisBus::RedisBus(asio::io_context& ioc, const config::RedisUrl& endpoint, RedisBusOptions options)
    : impl_(std::make_shared<Impl>(ioc, endpoint, options)) {}

RedisBus::~RedisBus() {
  // A destructor must not throw; Stop() can only if the system cannot lock
  // or post, and then the process is going down anyway.
  try {
    impl_->Stop();
  } catch (...) {
  }
}

void RedisBus::SetHandler(Handler handler) { impl_->SetHandler(std::move(handler)); }
void RedisBus::SetHealthHandler(HealthHandler handler) {
  impl_->SetHealthHandler(std::move(handler));
}
void RedisBus::WhenSubscribed(const std::string& channel, std::function<void()> ready) {
  impl_->WhenSubscribed(channel, std::move(ready));
}
void RedisBus::Start() { impl_->Start(); }
void RedisBus::Stop() { impl_->Stop(); }
void RedisBus::Publish(const std::string& channel, std::string payload) {
  impl_->Publish(channel, std::move(payload));
}
void RedisBus::Subscribe(const std::string& channel) { impl_->Subscribe(channel); }
void RedisBus::Unsubscribe(const std::string& channel) { impl_->Unsubscribe(channel); }
std::string_view RedisBus::RedisHealth() const { return impl_->Health(); }

}  // namespace herald::bus
