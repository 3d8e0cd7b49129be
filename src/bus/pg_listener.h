#pragma once
// SSE_SOURCE=postgres: PostgreSQL LISTEN/NOTIFY on one channel, so every
// Herald process that shares a database shares one live feed (a Bus composes
// this class; it knows nothing of Herald's channels or messages).
//
// One libpq connection, entirely non-blocking, driven by the caller's
// io_context on one strand (no thread of its own). It LISTENs on the channel,
// hands every notification to the NotifyHandler, and sends NOTIFYs on the same
// connection. When the connection fails or drops it reconnects with backoff
// (100 ms doubling to 5 s) and LISTENs again. libpq stays inside
// pg_listener.cc.
//
// Delivery:
//  - PostgreSQL delivers a notification to every session listening on the
//    channel, the sender's included: a listener hears its own Notify() too.
//  - NOTIFYs are sent one at a time, in Notify() order. While the connection
//    is down (or not started yet) up to kMaxPending wait; beyond that the
//    oldest is dropped (logged once per overflow). A NOTIFY in flight when the
//    connection drops is sent again after the reconnect (it may have been
//    committed already: at least once, so callers send idempotent ids).
//  - Notifications sent while the listener is down are lost (PostgreSQL keeps
//    none for a session that is not there); whoever composes this into a Bus
//    resynchronizes from the store when health comes back up.
//  - Payloads must be shorter than kMaxPayload (8000) bytes, PostgreSQL's own
//    limit, and cannot hold a NUL byte: Notify() logs an error and drops such
//    a payload. Callers send short ids, not documents.
//
// Thread-safe: every public method may be called from any thread; Start,
// Notify and Stop post to the strand and return at once (Stop waits, bounded,
// for the close). Handlers run on the strand, one at a time, and must not
// block.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/errors.h"

namespace boost::asio {
class io_context;
}

namespace herald::bus {

class PgListener {
 public:
  struct Options {
    // A postgresql:// URL (config::ParsePostgresUrl). connect_timeout in
    // it bounds connect + LISTEN (default 10 s); keepalives default to
    // 15 s idle / 5 s interval / 3 probes unless the URL says otherwise.
    std::string url;
    // A plain lower-case identifier ([a-z_][a-z0-9_]*, at most 63 bytes).
    std::string channel = "herald_feed";
  };
  using NotifyHandler = std::function<void(std::string_view payload)>;
  // Called on transitions only: true once LISTEN is confirmed, false when a
  // connection attempt fails or the connection drops (once per outage).
  using HealthHandler = std::function<void(bool up)>;

  static constexpr size_t kMaxPending = 10000;
  static constexpr size_t kMaxPayload = 8000;  // payloads must be shorter

  // `ioc` must outlive the listener. An error (kBadRequest) when the URL
  // does not parse ("DATABASE_URL: ...", never showing the password) or the
  // channel is not a plain identifier. Nothing connects before Start().
  static Result<std::unique_ptr<PgListener>> Create(boost::asio::io_context& ioc, Options options);
  ~PgListener();  // Stop()

  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Either may be empty. Meant for before Start(); safe at any time except
  // from inside a handler.
  void SetHandlers(NotifyHandler on_notify, HealthHandler on_health);
  // Connects (non-blocking) and LISTENs. Once only; ignored after Stop().
  void Start();
  // Closes the connection and drops what waits. Once Stop() returns no
  // handler runs again, even if the io_context does not run; the close itself
  // is done by the time it returns when the io_context is running on another
  // thread (bounded wait), else it is posted.
  void Stop();

  // Sends NOTIFY <channel>, '<payload>' (as SELECT pg_notify($1, $2)).
  void Notify(std::string payload);

  // Connected and LISTEN confirmed.
  bool up() const;

  class Impl;

 private:
  explicit PgListener(std::shared_ptr<Impl> impl);

  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::bus
