#pragma once
// The terminal client's view of a Herald server: a small blocking HTTP client
// (libcurl) and a reader for the progress stream (Server-Sent Events) that
// reconnects with Last-Event-ID when a connection drops before the job ends.
//
// Nothing here is shared between threads: each call owns its curl handles.
// Calls block the calling thread; Stream() polls `should_stop` every ~100 ms
// so a Ctrl-C handler that sets a flag ends it promptly.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace herald::cli {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  long status = 0;
  std::string body;
};

// One dispatched SSE event. `id` is the stream's last event id at dispatch
// time (an event without an `id:` line keeps the previous one, as in
// EventSource).
struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;  // `data:` lines joined by '\n'
};

// Incremental parser for the text/event-stream format (WHATWG HTML, "Server-
// sent events"): lines end in CR, LF or CRLF (a CRLF may be split between
// chunks), comments are ignored, one leading space after the colon is dropped,
// `retry` is honoured only when it is all digits, and a trailing partial event
// is discarded when the connection ends.
class SseParser {
 public:
  using Callback = std::function<bool(const SseEvent&)>;

  // Parses `chunk`, calling `on_event` for each complete event. Returns false
  // as soon as `on_event` returns false (the rest of the chunk is dropped).
  bool Feed(std::string_view chunk, const Callback& on_event);

  // Forgets a partial line and event, as when a connection ends; keeps the
  // last event id and the retry value for the reconnect.
  void ResetConnection();

  const std::string& last_event_id() const { return last_event_id_; }
  std::optional<std::chrono::milliseconds> retry() const { return retry_; }

 private:
  bool ProcessLine(std::string_view line, const Callback& on_event);

  std::string line_;
  bool skip_lf_ = false;  // the previous chunk ended in CR
  bool bom_checked_ = false;
  std::string data_;
  bool has_data_ = false;
  std::string event_type_;
  std::string last_event_id_;
  std::optional<std::chrono::milliseconds> retry_;
};

// "http://127.0.0.1:8000/api/v1/x" -> "http://127.0.0.1:8000".
std::string OriginOf(std::string_view url);

// The `error` string of a JSON error body, else the body itself (trimmed),
// else "HTTP <status>".
std::string ServerError(const HttpResponse& response);

// Blocking JSON-over-HTTP calls against one server. Transport failures come
// back as Error{kUnavailable, "cannot reach Herald at ... (is `herald serve`
// running?)"}; any HTTP status is a successful HttpResponse.
class HttpClient {
 public:
  // `base_url` like "http://127.0.0.1:8000"; `token` empty means no
  // Authorization header.
  HttpClient(std::string base_url, std::string token);

  Result<HttpResponse> Get(const std::string& path) const;
  Result<HttpResponse> Post(const std::string& path, const std::string& json_body) const;

  // base_url + path.
  std::string Url(const std::string& path) const;
  // {"Authorization": "Bearer <token>"} or nothing.
  HeaderList AuthHeaders() const;

  // Per request; the stream has no overall timeout.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};

 private:
  std::string base_url_;
  std::string token_;
};

struct StreamOptions {
  // Connection attempts in a row that deliver no event before Stream gives
  // up. A connection that delivers an event resets the count.
  int max_attempts = 5;
  // Delay before the first reconnect when the server sent no `retry:`.
  std::chrono::milliseconds default_retry{std::chrono::seconds(3)};
  // Each failed attempt in a row doubles the delay, up to this.
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // No bytes at all (not even a heartbeat) for this long: the connection is
  // treated as dropped. Herald's heartbeat defaults to 30 s.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(95)};
};

enum class StreamEnd {
  kTerminal,       // an event with status "completed" or "failed" was delivered
  kNoContent,      // the server answered 204: nothing more will come
  kCallerStopped,  // on_event returned false
  kInterrupted,    // should_stop() returned true
};

// Reads the SSE stream at `url` until it ends. `on_event` sees every event
// (including `event: error` ones); returning false ends the stream. A
// connection that ends before a terminal event is reopened with
// Last-Event-ID after the server's `retry` delay (with backoff), at most
// `options.max_attempts` failed attempts in a row. 401/403/404 and other 4xx
// answers are not retried: they come back as an Error with the server's
// message. `should_stop` may be empty.
Result<StreamEnd> Stream(const std::string& url, const HeaderList& headers,
                         const std::function<bool(const SseEvent&)>& on_event,
                         const std::function<bool()>& should_stop,
                         const StreamOptions& options = {});

// True for "completed" and "failed".
bool IsTerminalStatus(std::string_view status);

}  // namespace herald::cli
