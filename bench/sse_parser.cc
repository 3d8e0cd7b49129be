#include "sse_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace herald::bench {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Position just after `"key"` followed by optional spaces and ':' and
// optional spaces, or npos.
std::size_t FindJsonValue(std::string_view json, std::string_view key) {
  std::size_t from = 0;
  while (true) {
    std::size_t pos = json.find(key, from);
    if (pos == std::string_view::npos) return pos;
    from = pos + 1;
    if (pos == 0 || json[pos - 1] != '"') continue;
    std::size_t i = pos + key.size();
    if (i >= json.size() || json[i] != '"') continue;
    ++i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t')) ++i;
    if (i >= json.size() || json[i] != ':') continue;
    ++i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t')) ++i;
    return i;
  }
}

}  // namespace

bool FindJsonString(std::string_view json, std::string_view key, std::string_view* value) {
  std::size_t i = FindJsonValue(json, key);
  if (i == std::string_view::npos || i >= json.size() || json[i] != '"') return false;
  std::size_t start = ++i;
  while (i < json.size() && json[i] != '"') {
    i += json[i] == '\\' ? 2 : 1;
  }
  if (i >= json.size()) return false;
  *value = json.substr(start, i - start);
  return true;
}

bool FindJsonInt(std::string_view json, std::string_view key, int64_t* value) {
  std::size_t i = FindJsonValue(json, key);
  if (i == std::string_view::npos || i >= json.size()) return false;
  if (json[i] == '"') ++i;
  auto [ptr, ec] = std::from_chars(json.data() + i, json.data() + json.size(), *value);
  return ec == std::errc() && ptr != json.data() + i;
}

SseResponseParser::Result SseResponseParser::Feed(const char* p, std::size_t n, SseSink& sink) {
  if (state_ == State::kDone) return Result::kDone;
  if (state_ != State::kHead) return FeedBody(p, n, sink);

  // Look for the blank line that ends the head; it may straddle two reads.
  std::size_t old = head_.size();
  head_.append(p, n);
  std::size_t end = head_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  std::size_t sep = 4;
  if (end == std::string::npos) {
    end = head_.find("\n\n", old >= 1 ? old - 1 : 0);
    sep = 2;
  }
  if (end == std::string::npos) {
    return head_.size() > kMaxHead ? Result::kError : Result::kMore;
  }
  std::string rest = head_.substr(end + sep);
  head_.resize(end);
  Result r = ParseHead(sink);
  std::string().swap(head_);
  if (r != Result::kMore) return r;
  if (rest.empty()) return Result::kMore;
  return FeedBody(rest.data(), rest.size(), sink);
}

SseResponseParser::Result SseResponseParser::ParseHead(SseSink& sink) {
  std::string_view head(head_);
  std::size_t eol = head.find('\n');
  std::string_view status_line = Trim(head.substr(0, eol));
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return Result::kError;
  std::size_t sp = status_line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > status_line.size()) return Result::kError;
  auto [ptr, ec] =
      std::from_chars(status_line.data() + sp + 1, status_line.data() + sp + 4, status_);
  if (ec != std::errc() || ptr != status_line.data() + sp + 4) return Result::kError;

  body_ = Body::kClose;
  bool have_length = false;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 1);
    eol = head.find('\n');
    std::string_view line = Trim(head.substr(0, eol));
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "transfer-encoding") && ContainsIgnoreCase(value, "chunked")) {
      body_ = Body::kChunked;
    } else if (EqualsIgnoreCase(name, "content-length")) {
      auto [p2, ec2] = std::from_chars(value.data(), value.data() + value.size(), remaining_);
      if (ec2 != std::errc() || p2 != value.data() + value.size()) return Result::kError;
      have_length = true;
    }
  }
  if (body_ != Body::kChunked && have_length) body_ = Body::kLength;
  if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) body_ = Body::kNone;

  if (!sink.OnHeaders(status_)) {
    state_ = State::kDone;
    return Result::kAbort;
  }
  switch (body_) {
    case Body::kChunked:
      state_ = State::kChunkSize;
      break;
    case Body::kNone:
      state_ = State::kDone;
      return Result::kDone;
    case Body::kLength:
      state_ = State::kBody;
      if (remaining_ == 0) {
        state_ = State::kDone;
        return Result::kDone;
      }
      break;
    case Body::kClose:
      state_ = State::kBody;
      break;
  }
  return Result::kMore;
}

SseResponseParser::Result SseResponseParser::FeedBody(const char* p, std::size_t n, SseSink& sink) {
  const char* end = p + n;
  while (p < end) {
    switch (state_) {
      case State::kHead:
      case State::kDone:
        return Result::kDone;

      case State::kBody: {
        std::size_t take = static_cast<std::size_t>(end - p);
        if (body_ == Body::kLength) take = std::min<uint64_t>(take, remaining_);
        if (!FeedSse(p, take, sink)) return Result::kError;
        p += take;
        if (body_ == Body::kLength) {
          remaining_ -= take;
          if (remaining_ == 0) {
            state_ = State::kDone;
            return Result::kDone;
          }
        }
        break;
      }

      case State::kChunkSize: {
        // "1a2b[;ext]\r\n"
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* stop = nl ? nl : end;
        chunk_line_.append(p, stop);
        if (chunk_line_.size() > 1024) return Result::kError;
        if (!nl) return Result::kMore;
        p = nl + 1;
        uint64_t size = 0;
        bool digits = false;
        for (char c : chunk_line_) {
          int v = HexValue(c);
          if (v < 0) break;
          if (size > (uint64_t{1} << 40)) return Result::kError;
          size = size * 16 + static_cast<uint64_t>(v);
          digits = true;
        }
        chunk_line_.clear();
        if (!digits) return Result::kError;
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }

      case State::kChunkData: {
        std::size_t take = std::min<uint64_t>(static_cast<std::size_t>(end - p), remaining_);
        if (!FeedSse(p, take, sink)) return Result::kError;
        p += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }

      case State::kChunkDataEnd:
        // The CRLF after the chunk data; tolerate a bare LF.
        if (*p == '\r') {
          ++p;
        } else if (*p == '\n') {
          ++p;
          state_ = State::kChunkSize;
        } else {
          return Result::kError;
        }
        break;

      case State::kTrailer: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* stop = nl ? nl : end;
        chunk_line_.append(p, stop);
        if (chunk_line_.size() > kMaxHead) return Result::kError;
        if (!nl) return Result::kMore;
        p = nl + 1;
        bool blank = Trim(chunk_line_).empty();
        chunk_line_.clear();
        if (blank) {
          state_ = State::kDone;
          return Result::kDone;
        }
        break;
      }
    }
  }
  return state_ == State::kDone ? Result::kDone : Result::kMore;
}

SseResponseParser::Result SseResponseParser::Finish() {
  if (state_ == State::kDone) return Result::kDone;
  if (state_ == State::kBody && body_ == Body::kClose) {
    // A partial event (no blank line yet) is discarded, as EventSource does.
    state_ = State::kDone;
    return Result::kDone;
  }
  // Some servers close right after the last chunk without the final CRLF.
  if (state_ == State::kTrailer && chunk_line_.empty()) {
    state_ = State::kDone;
    return Result::kDone;
  }
  state_ = State::kDone;
  return Result::kError;
}

bool SseResponseParser::FeedSse(const char* p, std::size_t n, SseSink& sink) {
  std::size_t i = 0;
  while (i < n) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (p[i] == '\n') {
        ++i;
        continue;
      }
    }
    const char* s = p + i;
    std::size_t len = n - i;
    std::size_t j = 0;
    while (j < len && s[j] != '\n' && s[j] != '\r') ++j;
    if (j == len) {
      line_.append(s, len);
      return line_.size() <= kMaxLine;
    }
    bool ok;
    if (line_.empty()) {
      ok = ProcessLine(std::string_view(s, j), sink);
    } else {
      line_.append(s, j);
      ok = ProcessLine(line_, sink);
      line_.clear();
    }
    if (!ok) return false;
    if (s[j] == '\r') skip_lf_ = true;
    i += j + 1;
  }
  return true;
}

bool SseResponseParser::ProcessLine(std::string_view line, SseSink& sink) {
  if (line.empty()) {
    // Dispatch. An event without data lines is not dispatched.
    if (has_data_) {
      SseEvent event;
      event.has_id = has_id_;
      event.id = id_;
      event.type = type_.empty() ? std::string_view("message") : std::string_view(type_);
      event.data = data_;
      sink.OnEvent(event);
    }
    has_data_ = false;
    has_id_ = false;
    data_.clear();
    type_.clear();
    return true;
  }
  if (line.front() == ':') {
    sink.OnComment(line.substr(1));
    return true;
  }
  std::size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
    if (data_.size() > kMaxLine) return false;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_.assign(value);
      has_id_ = true;
    }
  } else if (name == "event") {
    type_.assign(value);
  }
  // "retry" and unknown fields are ignored.
  return true;
}

}  // namespace herald::bench
