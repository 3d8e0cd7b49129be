#include "common/errors.h"

namespace herald {

int HttpStatus(Errc code) {
  switch (code) {
    case Errc::kBadRequest:
      return 400;
    case Errc::kUnauthorized:
      return 401;
    case Errc::kForbidden:
      return 403;
    case Errc::kNotFound:
      return 404;
    case Errc::kMethodNotAllowed:
      return 405;
    case Errc::kConflict:
      return 409;
    case Errc::kPayloadTooLarge:
      return 413;
    case Errc::kRateLimited:
      return 429;
    case Errc::kUnavailable:
      return 503;
    case Errc::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ToString(Errc code) {
  switch (code) {
    case Errc::kBadRequest:
      return "bad request";
    case Errc::kUnauthorized:
      return "unauthorized";
    case Errc::kForbidden:
      return "forbidden";
    case Errc::kNotFound:
      return "not found";
    case Errc::kMethodNotAllowed:
      return "method not allowed";
    case Errc::kConflict:
      return "conflict";
    case Errc::kPayloadTooLarge:
      return "payload too large";
    case Errc::kRateLimited:
      return "rate limited";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kInternal:
      return "internal error";
  }
  return "internal error";
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw ErrorException(e);
}

Error DatabaseUnavailable(std::string detail) {
  return Error{Errc::kUnavailable, "database unavailable", std::move(detail)};
}

std::string Describe(const Error& error) {
  if (error.detail.empty()) return error.message;
  return error.message + ": " + error.detail;
}

std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace herald
