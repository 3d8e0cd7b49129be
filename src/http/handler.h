#pragma once
// The seam between the HTTP server (Beast) and the API: a handler gets a
// parsed Request and answers with a Reply, or takes the connection over
// for an event stream.

#include <boost/asio/awaitable.hpp>

#include <functional>

#include "common/tcp_socket.h"
#include "http/request.h"

namespace herald::http {

using Socket = TcpSocket;

struct Outcome {
  Reply reply;
  // When set, the server writes nothing: it hands the bare socket over
  // (parser and buffers are freed) and the stream writes its own response.
  std::function<void(Socket)> stream;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs on the connection's thread.
  virtual boost::asio::awaitable<Outcome> Handle(Request& request) = 0;
};

}  // namespace herald::http
