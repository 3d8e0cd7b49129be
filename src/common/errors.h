#pragma once
// Herald's one error currency. Expected failures (bad input, missing job,
// expired token, dependency down) travel as values: an Errc that decides the
// HTTP status and a message a person can read. Bugs are asserts; start-up
// failures throw and stop the process.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace herald {

enum class Errc {
  kBadRequest,        // 400: the client sent something that does not parse
  kUnauthorized,      // 401: missing or invalid token
  kForbidden,         // 403: a valid token, but not allowed
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409: e.g. a terminal job cannot change
  kPayloadTooLarge,   // 413
  kRateLimited,       // 429
  kUnavailable,       // 503: a dependency (database, broker) is down
  kInternal,          // 500: a bug or an unexpected failure
};

// An error with the reason a person reads (it becomes {"error": message}).
struct Error {
  Errc code;
  std::string message;
  // What only the log may show (a database's address, its own words): the
  // caller is told `message`, operators read both. Empty: `message` says all.
  std::string detail = {};
};

inline Error MakeError(Errc code, std::string message) { return Error{code, std::move(message)}; }

// The database cannot answer now (down, hung, busy, full, read-only): the
// caller gets 503 {"error": "database unavailable"}, naming no host, user,
// port, file or database; `detail` says why, in the log.
Error DatabaseUnavailable(std::string detail);

// "message: detail" (or the message alone), for log lines.
std::string Describe(const Error& error);
// A library's multi-line message (libpq's) as one line: runs of newlines,
// tabs and spaces folded into one space, none at either end.
std::string OneLine(std::string_view text);

// The HTTP status that `code` maps to; the single place that decides it.
int HttpStatus(Errc code);
std::string_view ToString(Errc code);

template <class T>
using Result = boost::system::result<T, Error>;

// Lets Result<T>::value() throw when it holds an Error (found through ADL).
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

// Thrown by Result::value() on an error; carries the Error.
class ErrorException : public std::exception {
 public:
  explicit ErrorException(Error e) : error_(std::move(e)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
};

}  // namespace herald
