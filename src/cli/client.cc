#include "cli/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "common/curl_handles.h"

namespace herald::cli {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// SseParser

bool SseParser::Feed(std::string_view chunk, const Callback& on_event) {
  if (chunk.empty()) return true;
  size_t i = 0;
  // A CR ended the previous chunk: a LF starting this one is the same line end.
  if (skip_lf_ && chunk[0] == '\n') i = 1;
  skip_lf_ = false;
  while (i < chunk.size()) {
    size_t j = chunk.find_first_of("\r\n", i);
    if (j == std::string_view::npos) {
      line_.append(chunk.substr(i));
      break;
    }
    line_.append(chunk.substr(i, j - i));
    if (chunk[j] == '\r') {
      if (j + 1 < chunk.size()) {
        if (chunk[j + 1] == '\n') ++j;
      } else {
        skip_lf_ = true;
      }
    }
    i = j + 1;
    std::string line = std::move(line_);
    line_.clear();
    if (!ProcessLine(line, on_event)) return false;
  }
  return true;
}

bool SseParser::ProcessLine(std::string_view line, const Callback& on_event) {
  if (!bom_checked_) {
    bom_checked_ = true;
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  }
  if (line.empty()) {
    // Dispatch. An event with no data line is dropped, but its id stays.
    if (!has_data_) {
      event_type_.clear();
      return true;
    }
    SseEvent event;
    event.id = last_event_id_;
    event.event = event_type_.empty() ? "message" : event_type_;
    event.data = std::move(data_);
    data_.clear();
    has_data_ = false;
    event_type_.clear();
    return on_event(event);
  }
  if (line[0] == ':') return true;  // comment, e.g. ": heartbeat"
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
  } else if (field == "retry") {
    bool digits =
        !value.empty() && value.size() <= 9 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) retry_ = std::chrono::milliseconds(std::stol(std::string(value)));
  }
  return true;
}

void SseParser::ResetConnection() {
  line_.clear();
  skip_lf_ = false;
  bom_checked_ = false;
  data_.clear();
  has_data_ = false;
  event_type_.clear();
}

// ---------------------------------------------------------------------------
// Helpers

std::string OriginOf(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t slash = url.find_first_of("/?#", start);
  return std::string(url.substr(0, slash));
}

std::string ServerError(const HttpResponse& response) {
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("error"); e && e->is_string())
      return std::string(e->as_string());
  }
  std::string body = response.body;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  if (!body.empty() && body.size() <= 200) return body;
  return "HTTP " + std::to_string(response.status);
}

bool IsTerminalStatus(std::string_view status) {
  return status == "completed" || status == "failed";
}

namespace {

// Herald usually runs on loopback; an http_proxy in the environment must not
// capture that, while the user's own no_proxy entries still apply.
std::string NoProxyList() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (const char* v = std::getenv(name); v && *v) return std::string(v) + "," + list;
  }
  return list;
}

// The sentence a person reads for a failed transfer.
std::string TransportError(CURLcode rc, const char* errbuf, std::string_view url) {
  std::string origin = OriginOf(url);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      return "cannot reach Herald at " + origin + " (is `herald serve` running?)";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve the host of " + origin;
    case CURLE_OPERATION_TIMEDOUT:
      return "Herald at " + origin + " did not answer in time";
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return "bad server address: " + origin;
    default:
      return "connection to Herald at " + origin + " failed: " +
             (errbuf && errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc)));
  }
}

Errc ErrcForStatus(long status) {
  switch (status) {
    case 400:
      return Errc::kBadRequest;
    case 401:
      return Errc::kUnauthorized;
    case 403:
      return Errc::kForbidden;
    case 404:
      return Errc::kNotFound;
    case 409:
      return Errc::kConflict;
    default:
      return status >= 500 ? Errc::kUnavailable : Errc::kBadRequest;
  }
}

size_t AppendBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
  return size * nmemb;
}

void CommonOptions(CURL* easy, const std::string& url, char* errbuf) {
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "herald-cli");
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
}

}  // namespace

// ---------------------------------------------------------------------------
// HttpClient

HttpClient::HttpClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl::GlobalInit();
}

std::string HttpClient::Url(const std::string& path) const { return base_url_ + path; }

HeaderList HttpClient::AuthHeaders() const {
  if (token_.empty()) return {};
  return {{"Authorization", "Bearer " + token_}};
}

namespace {
Result<HttpResponse> Perform(const std::string& url, const HeaderList& headers,
                             const std::string* post_body, std::chrono::milliseconds timeout) {
  curl::Easy easy(curl_easy_init());
  if (!easy) return MakeError(Errc::kInternal, "curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {};
  CommonOptions(easy.get(), url, errbuf);
  std::string noproxy = NoProxyList();
  curl_easy_setopt(easy.get(), CURLOPT_NOPROXY, noproxy.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl::Slist list;
  for (const auto& [name, value] : headers)
    curl::Append(list, std::string(name).append(": ").append(value));
  curl::Append(list, "Accept: application/json");
  if (post_body) {
    curl::Append(list, "Content-Type: application/json");
    curl_easy_setopt(easy.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list.get());
  HttpResponse response;
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &response.body);
  CURLcode rc = curl_easy_perform(easy.get());
  if (rc != CURLE_OK) return MakeError(Errc::kUnavailable, TransportError(rc, errbuf, url));
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}
}  // namespace

Result<HttpResponse> HttpClient::Get(const std::string& path) const {
  return Perform(Url(path), AuthHeaders(), nullptr, timeout);
}

Result<HttpResponse> HttpClient::Post(const std::string& path, const std::string& json_body) const {
  return Perform(Url(path), AuthHeaders(), &json_body, timeout);
}

// ---------------------------------------------------------------------------
// Stream

namespace {

bool IsTerminalEvent(const SseEvent& e) {
  if (e.event != "message") return false;
  boost::system::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec || !v.is_object()) return false;
  const json::value* status = v.as_object().if_contains("status");
  return status && status->is_string() && IsTerminalStatus(status->as_string());
}

// The state of one connection attempt, shared with the write callback.
struct Attempt {
  CURL* easy = nullptr;
  SseParser* parser = nullptr;
  const std::function<bool(const SseEvent&)>* on_event = nullptr;
  long status = 0;
  bool is_sse = false;
  std::string error_body;  // a non-200 answer's body, for its message
  bool got_event = false;
  bool terminal = false;
  bool caller_stopped = false;
  Clock::time_point last_byte = Clock::now();
};

size_t OnStreamBytes(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* a = static_cast<Attempt*>(userdata);
  size_t n = size * nmemb;
  a->last_byte = Clock::now();
  if (a->status == 0) {
    curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &a->status);
    char* type = nullptr;
    curl_easy_getinfo(a->easy, CURLINFO_CONTENT_TYPE, &type);
    a->is_sse = a->status == 200 && type && std::string_view(type).starts_with("text/event-stream");
  }
  if (!a->is_sse) {
    if (a->error_body.size() < 65536) a->error_body.append(ptr, n);
    return n;
  }
  bool more = a->parser->Feed(std::string_view(ptr, n), [a](const SseEvent& e) {
    a->got_event = true;
    if (!(*a->on_event)(e)) {
      a->caller_stopped = true;
      return false;
    }
    if (IsTerminalEvent(e)) {
      a->terminal = true;
      return false;
    }
    return true;
  });
  return more ? n : 0;  // 0 makes curl end the transfer
}

// Sleeps `d` in short slices; false when should_stop asked to stop.
bool SleepUnlessStopped(std::chrono::milliseconds d, const std::function<bool()>& should_stop) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (should_stop && should_stop()) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
  return !(should_stop && should_stop());
}

}  // namespace

Result<StreamEnd> Stream(const std::string& url, const HeaderList& headers,
                         const std::function<bool(const SseEvent&)>& on_event,
                         const std::function<bool()>& should_stop, const StreamOptions& options) {
  curl::GlobalInit();
  SseParser parser;
  std::string noproxy = NoProxyList();
  int failures = 0;  // attempts in a row that delivered no event
  std::string last_error;
  for (;;) {
    if (should_stop && should_stop()) return StreamEnd::kInterrupted;
    curl::Easy easy(curl_easy_init());
    curl::Multi multi(curl_multi_init());
    if (!easy || !multi) return MakeError(Errc::kInternal, "curl init failed");
    char errbuf[CURL_ERROR_SIZE] = {};
    CommonOptions(easy.get(), url, errbuf);
    curl_easy_setopt(easy.get(), CURLOPT_NOPROXY, noproxy.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_TCP_KEEPALIVE, 1L);
    curl::Slist list;
    for (const auto& [name, value] : headers)
      curl::Append(list, std::string(name).append(": ").append(value));
    curl::Append(list, "Accept: text/event-stream");
    curl::Append(list, "Cache-Control: no-cache");
    if (!parser.last_event_id().empty())
      curl::Append(list, "Last-Event-ID: " + parser.last_event_id());
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list.get());

    Attempt attempt;
    attempt.easy = easy.get();
    attempt.parser = &parser;
    attempt.on_event = &on_event;
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &OnStreamBytes);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &attempt);
    curl_multi_add_handle(multi.get(), easy.get());

    // The multi interface lets us wake every 100 ms to look at should_stop
    // and the idle clock while a stream sits quiet between heartbeats.
    bool interrupted = false;
    bool idle = false;
    CURLcode rc = CURLE_OK;
    for (;;) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi.get(), &running);
      if (mc != CURLM_OK) {
        curl_multi_remove_handle(multi.get(), easy.get());
        return MakeError(Errc::kInternal, std::string("curl: ") + curl_multi_strerror(mc));
      }
      if (running == 0) break;
      if (should_stop && should_stop()) {
        interrupted = true;
        break;
      }
      if (Clock::now() - attempt.last_byte > options.idle_timeout) {
        idle = true;
        break;
      }
      curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
    }
    if (attempt.status == 0) curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &attempt.status);
    curl_multi_remove_handle(multi.get(), easy.get());

    if (attempt.terminal) return StreamEnd::kTerminal;
    if (attempt.caller_stopped) return StreamEnd::kCallerStopped;
    if (interrupted) return StreamEnd::kInterrupted;
    if (attempt.status == 204) return StreamEnd::kNoContent;
    bool retryable_status = attempt.status >= 500 || attempt.status == 429 || attempt.status == 408;
    if (attempt.status >= 300 && !retryable_status) {
      HttpResponse r{attempt.status, attempt.error_body};
      return MakeError(ErrcForStatus(attempt.status),
                       "Herald answered " + std::to_string(attempt.status) + ": " + ServerError(r));
    }
    if (attempt.status == 200 && !attempt.is_sse) {
      return MakeError(Errc::kBadRequest, url + " is not an event stream");
    }

    // The connection ended before a terminal event: reconnect.
    if (idle) {
      last_error = "the progress stream went quiet for longer than " +
                   std::to_string(options.idle_timeout.count() / 1000) + " s";
    } else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
      last_error = TransportError(rc, errbuf, url);
    } else if (attempt.status >= 500 || attempt.status == 429 || attempt.status == 408) {
      HttpResponse r{attempt.status, attempt.error_body};
      last_error = "Herald answered " + std::to_string(attempt.status) + ": " + ServerError(r);
    } else {
      last_error = "the progress stream ended before the job finished";
    }
    if (attempt.got_event) failures = 0;
    ++failures;
    if (failures >= options.max_attempts) {
      return MakeError(Errc::kUnavailable,
                       last_error + " (gave up after " + std::to_string(failures) + " attempts)");
    }
    parser.ResetConnection();
    auto delay = parser.retry().value_or(options.default_retry);
    for (int i = 1; i < failures && delay < options.max_backoff; ++i) delay *= 2;
    delay = std::min(delay, options.max_backoff);
    if (!SleepUnlessStopped(delay, should_stop)) return StreamEnd::kInterrupted;
  }
}

}  // namespace herald::cli
