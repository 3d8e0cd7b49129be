// Reading one request with Beast's parser: the limits, the refusals and
// the conversion to Herald's Request, shared by the connection loop
// (server.cc) and ParseRequest (tests, fuzzing). No coroutines here, so
// every sanitizer builds it.
#include <boost/asio/buffer.hpp>

#include <cctype>
#include <memory>
#include <tuple>

#include "http/beast_request.h"
#include "http/server.h"

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Request ToRequest(const BeastRequest& req, const std::string& remote) {
  Request r;
  r.method = std::string(req.method_string());
  r.target = OriginForm(req.target());
  std::string_view target = r.target;
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) r.query = ParseQuery(target.substr(q + 1));
  for (const auto& field : req) r.headers.emplace_back(Lower(field.name_string()), field.value());
  r.body = req.body();
  r.version = static_cast<int>(req.version());
  r.keep_alive = req.keep_alive();
  r.remote_address = remote;
  return r;
}

// The answer to a request Beast could not read: 413, 431 or 400.
std::pair<int, std::string> ReadProblem(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) return {413, "request body too large"};
  if (ec == bhttp::error::header_limit) return {431, "request headers too large"};
  return {400, "malformed HTTP request: " + ec.message()};
}

// RFC 9112 framing checks on a parsed head (see FramingProblem).
std::string HeadProblem(const BeastRequest& head) {
  auto te = head.find(bhttp::field::transfer_encoding);
  return FramingProblem(
      static_cast<int>(head.version()), head.find(bhttp::field::host) != head.end(),
      te != head.end() ? std::optional<std::string_view>(te->value()) : std::nullopt,
      head.find(bhttp::field::content_length) != head.end());
}

void ApplyLimits(BeastRequestParser& parser, const config::HttpConfig& config) {
  parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
  parser.body_limit(config.max_body_bytes);
}

ParsedRequest ParseRequest(std::string_view bytes, const config::HttpConfig& limits) {
  ParsedRequest out;
  BeastRequestParser parser;
  ApplyLimits(parser, limits);
  parser.eager(true);
  beast::error_code ec;
  asio::const_buffer rest(bytes.data(), bytes.size());
  while (!parser.is_done()) {
    const std::size_t used = parser.put(rest, ec);
    rest += used;
    // need_more: the bytes end before the request does; the server would
    // wait for the rest. No progress without an error is the same.
    if (ec == bhttp::error::need_more || (!ec && used == 0)) return out;
    if (ec) break;
  }
  out.complete = true;
  if (ec) {
    std::tie(out.status, out.error) = ReadProblem(ec);
    return out;
  }
  if (std::string problem = HeadProblem(parser.get()); !problem.empty()) {
    out.status = 400;
    out.error = std::move(problem);
    return out;
  }
  out.request = std::make_shared<Request>(ToRequest(parser.get(), "127.0.0.1"));
  return out;
}

}  // namespace herald::http
