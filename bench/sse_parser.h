// Incremental reader of one HTTP/1.1 SSE response: status line and headers,
// then a chunked, Content-Length or close-delimited body, then the
// text/event-stream framing inside it (WHATWG HTML, "Server-sent events",
// parsing an event stream). Bytes may arrive split anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

// One dispatched event. The views are valid only during the callback.
struct SseEvent {
  bool has_id = false;
  std::string_view id;
  std::string_view type;  // "message" when the stream named none.
  std::string_view data;  // data: lines joined by '\n'.
};

// Receives what the parser finds. Implemented by each stream.
class SseSink {
 public:
  virtual ~SseSink() = default;
  // The response head arrived. Returning false stops parsing (kAbort).
  virtual bool OnHeaders(int status) = 0;
  virtual void OnEvent(const SseEvent& event) = 0;
  virtual void OnComment(std::string_view text) = 0;
};

class SseResponseParser {
 public:
  enum class Result {
    kMore,   // Need more bytes.
    kDone,   // The response body ended (last chunk or Content-Length reached).
    kAbort,  // The sink refused the headers.
    kError,  // Malformed response or a limit exceeded.
  };

  // Feeds bytes read from the socket.
  Result Feed(const char* p, std::size_t n, SseSink& sink);
  // The peer closed the connection. kDone when that ends a close-delimited
  // body; kError when headers or a framed body were cut short.
  Result Finish();

  bool headers_done() const { return state_ != State::kHead; }
  bool chunked() const { return body_ == Body::kChunked; }
  int status() const { return status_; }

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kDone };
  enum class Body { kClose, kLength, kChunked, kNone };

  static constexpr std::size_t kMaxHead = 64 * 1024;
  static constexpr std::size_t kMaxLine = 4 * 1024 * 1024;

  Result ParseHead(SseSink& sink);
  Result FeedBody(const char* p, std::size_t n, SseSink& sink);
  bool FeedSse(const char* p, std::size_t n, SseSink& sink);
  bool ProcessLine(std::string_view line, SseSink& sink);

  State state_ = State::kHead;
  Body body_ = Body::kClose;
  int status_ = 0;
  std::string head_;        // The response head until the blank line.
  uint64_t remaining_ = 0;  // Content-Length or current chunk bytes left.
  std::string chunk_line_;  // Chunk size line or trailer line so far.
  bool chunk_digits_ = false;

  // SSE state.
  std::string line_;  // A line split across reads.
  bool skip_lf_ = false;
  bool has_data_ = false;
  bool has_id_ = false;
  std::string data_;
  std::string id_;
  std::string type_;
};

// Finds `"key": "value"` in a JSON text and returns the raw value between
// the quotes (escapes are not decoded). Good enough for the flat payloads of
// the contract; not a JSON parser.
bool FindJsonString(std::string_view json, std::string_view key, std::string_view* value);

// Finds `"key": 123` (or `"key": "123"`) and parses the integer.
bool FindJsonInt(std::string_view json, std::string_view key, int64_t* value);

}  // namespace herald::bench
