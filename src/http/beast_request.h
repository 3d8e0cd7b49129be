#pragma once
// The Beast side of reading a request: private to http/ (server.cc, which
// serves connections, and request_reader.cc, which turns a parsed Beast
// request into Herald's Request). Nothing outside http/ includes Beast.

#include <boost/beast/http.hpp>

#include <string>
#include <utility>

#include "config/config.h"
#include "http/request.h"

namespace herald::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The header and body limits of HERALD_MAX_HEADER_BYTES / HERALD_MAX_BODY_BYTES.
void ApplyLimits(BeastRequestParser& parser, const config::HttpConfig& config);
// The answer to a request Beast could not read: 413, 431 or 400.
std::pair<int, std::string> ReadProblem(const boost::beast::error_code& ec);
// RFC 9112 framing checks on a parsed head (see FramingProblem): why it is
// refused with 400, or "".
std::string HeadProblem(const BeastRequest& head);
// Herald's Request for a parsed Beast request.
Request ToRequest(const BeastRequest& req, const std::string& remote);

}  // namespace herald::http
