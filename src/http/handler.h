#pragma once
// The seam between the HTTP server (Beast) and the API: a handler gets a
// parsed Request and answers with a Reply, or takes the connection over
// for an event stream.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>

#include "http/request.h"

namespace herald::http {

struct Outcome {
  Reply reply;
  // When set, the server writes nothing: it hands the bare socket over
  // (parser and buffers are freed) and the stream writes its own response.
  std::function<void(boost::asio::ip::tcp::socket)> stream;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs on the connection's strand.
  virtual boost::asio::awaitable<Outcome> Handle(Request& request) = 0;
};

}  // namespace herald::http
