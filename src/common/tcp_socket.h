#pragma once
// The socket of an accepted connection, typed on its io_context's executor
// rather than the polymorphic any_io_executor: 48 bytes less in every open
// stream and in every operation pending on it. Each connection lives on one
// single-threaded io_context (see http::Server), so nothing needs more.

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace herald {

using TcpSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

}  // namespace herald
