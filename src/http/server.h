#pragma once
// The HTTP/1.1 listener and connection loop (Beast, C++20 coroutines).
// Accepted sockets are dealt round-robin to the connection contexts, each
// run by one thread (no strands: a connection, and the event stream it may
// become, lives on one thread); a connection serves keep-alive
// requests until the client closes, a limit is hit, or a handler takes the
// socket for an event stream.
//
// Limits enforced here: header size (431), body size (413), the time to
// receive a whole request (slow clients are dropped) and keep-alive idle time.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/errors.h"
#include "config/config.h"

namespace herald {
struct Metrics;
}

namespace herald::http {

class Handler;

class Server {
 public:
  // All references must outlive the server. The acceptor runs on `ioc`;
  // connections on `connections` (each run by exactly one thread).
  Server(boost::asio::io_context& ioc, std::vector<boost::asio::io_context*> connections,
         const config::HttpConfig& config, Handler& handler, Metrics& metrics);

  // Binds and listens; the error names the address.
  Result<void> Listen();
  uint16_t port() const { return port_; }
  // Starts accepting (call after Listen).
  void Start();
  // Stops accepting; open connections are not touched. Any thread.
  void StopAccepting();

 private:
  boost::asio::io_context& ioc_;
  std::vector<boost::asio::io_context*> connections_;
  std::size_t next_connection_ = 0;  // only touched by the accept loop
  const config::HttpConfig& config_;
  Handler& handler_;
  Metrics& metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
};

}  // namespace herald::http
