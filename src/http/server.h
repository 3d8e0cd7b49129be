#pragma once
// The HTTP/1.1 listener and connection loop (Beast, C++20 coroutines).
// Connections are dealt round-robin to the connection contexts, each run by
// one thread: no strands; a connection, and the event stream it may become,
// lives on one thread. A connection serves keep-alive
// requests until the client closes, a limit is hit, or a handler takes the
// socket for an event stream.
//
// Limits enforced here: header size (431), body size (413), the time to
// receive a whole request (slow clients are dropped) and keep-alive idle time.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"
#include "common/tcp_socket.h"
#include "config/config.h"

namespace herald {
struct Metrics;
}

namespace herald::http {

class Handler;
struct Request;

// What the server makes of the bytes of one request, without a socket: the
// Request its handler would get, or the error status it answers instead
// (400 malformed or badly framed, 413 body too large, 431 head too large);
// `complete` is false when the bytes end before the request does. Serve
// uses the same steps; tests and the fuzzer (tests/fuzz) call this.
struct ParsedRequest {
  std::shared_ptr<Request> request;  // set when the request is accepted
  int status = 0;                    // else the refusal's status (0: incomplete)
  std::string error;
  bool complete = false;
};
ParsedRequest ParseRequest(std::string_view bytes, const config::HttpConfig& limits);

class Server {
 public:
  // All references must outlive the server. Connections live on
  // `connections` (each run by exactly one thread); `ioc` is for the rest.
  Server(boost::asio::io_context& ioc, std::vector<boost::asio::io_context*> connections,
         const config::HttpConfig& config, Handler& handler, Metrics& metrics);
  ~Server();

  // Binds and listens (several SO_REUSEPORT sockets: see ListenerCount in
  // server.cc); the error names the address. Without HERALD_REUSE_PORT a
  // port someone else holds is refused.
  Result<void> Listen();
  uint16_t port() const { return port_; }
  // Starts accepting (call after Listen).
  void Start();
  // Stops accepting; open connections are not touched. Any thread. The
  // connection threads must run until listening() is false: a listener
  // left open in a SO_REUSEPORT group would keep taking connections.
  void StopAccepting();
  bool listening() const;

 private:
  void Accept(boost::asio::ip::tcp::acceptor& acceptor);
  boost::asio::io_context& NextContext();  // on ioc_ only
  void Serve(TcpSocket socket);
  bool TakeAcceptToken();  // on ioc_ only

  boost::asio::io_context& ioc_;
  std::vector<boost::asio::io_context*> connections_;
  std::size_t next_context_ = 0;  // on ioc_ only
  // HERALD_MAX_CONNECTIONS, or the open-file limit less a reserve; set by
  // Start() (after the runtime raised the limit), read by the sessions.
  int64_t max_connections_ = INT64_MAX;
  // HERALD_ACCEPT_RATE's bucket; on ioc_ only.
  double accept_tokens_ = 0;
  std::chrono::steady_clock::time_point accept_refilled_{};
  const config::HttpConfig& config_;
  Handler& handler_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  uint16_t port_ = 0;
  std::atomic<std::size_t> closed_acceptors_{0};
};

}  // namespace herald::http
