#pragma once
// Herald's own view of an HTTP request and reply, so that handlers never
// include Beast: only http/server.cc converts between the two.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace herald::http {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: path and query
  std::string path;                                          // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote_address;
  int version = 11;  // 10 or 11
  bool keep_alive = true;

  // First header named `name` (lower-case).
  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
  // The value of cookie `name` from the Cookie header.
  std::optional<std::string> Cookie(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Reply Json(int status, std::string body);
  // {"error": message}
  static Reply Error(int status, std::string_view message);
  // The one mapping of a herald::Error to its HTTP status and body. The
  // error's detail goes to the log (at most once a second), never out.
  static Reply FromError(const herald::Error& error);
};

// RFC 9112 on a parsed request head: why it must be refused with 400, or
// empty. HTTP/1.1 needs a Host; a Transfer-Encoding other than exactly
// "chunked" (read by length instead, it would desynchronize a proxy in
// front of us: request smuggling), or next to a Content-Length, is refused.
std::string FramingProblem(int version, bool has_host,
                           std::optional<std::string_view> transfer_encoding,
                           bool has_content_length);

// The origin-form of a request target: "http://host/a?b" (absolute-form,
// which RFC 9112 3.2.2 says servers must accept) becomes "/a?b".
std::string OriginForm(std::string_view target);

// Splits "a=1&b=%20x" into decoded pairs ('+' is a space).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace herald::http
