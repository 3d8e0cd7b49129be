#include "http/request.h"

#include <atomic>
#include <cctype>
#include <chrono>

#include <boost/json.hpp>

#include "common/log.h"

namespace herald::http {

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  for (const auto& [k, header] : headers) {
    if (k != "cookie") continue;
    std::string_view rest = header;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view item = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      if (item.substr(0, eq) != name) continue;
      std::string_view value = item.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return PercentDecode(value, false);
    }
  }
  return std::nullopt;
}

Reply Reply::Json(int status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Reply Reply::Error(int status, std::string_view message) {
  boost::json::object o;
  o["error"] = message;
  return Json(status, boost::json::serialize(o));
}

Reply Reply::FromError(const herald::Error& error) {
  if (!error.detail.empty()) {
    // An outage fails every request: one line a second says why, and how
    // many more failed meanwhile.
    static std::atomic<int64_t> last_logged_ms{0};
    static std::atomic<int64_t> unlogged{0};
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_logged_ms.load(std::memory_order_relaxed);
    if (now - last >= 1000 && last_logged_ms.compare_exchange_strong(last, now)) {
      const int64_t more = unlogged.exchange(0);
      if (more > 0) {
        log::Warn("{} ({} more such failures in the last second)", Describe(error), more);
      } else {
        log::Warn("{}", Describe(error));
      }
    } else {
      unlogged.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return Error(HttpStatus(error.code), error.message);
}

std::string FramingProblem(int version, bool has_host,
                           std::optional<std::string_view> transfer_encoding,
                           bool has_content_length) {
  if (version >= 11 && !has_host) return "HTTP/1.1 request without a Host header";
  if (!transfer_encoding) return {};
  std::string_view te = *transfer_encoding;
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
  std::string lower(te);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "chunked") return "unsupported Transfer-Encoding (only chunked)";
  if (has_content_length) return "both Transfer-Encoding and Content-Length";
  return {};
}

std::string OriginForm(std::string_view target) {
  std::string_view rest;
  if (target.starts_with("http://")) {
    rest = target.substr(7);
  } else if (target.starts_with("https://")) {
    rest = target.substr(8);
  } else {
    return std::string(target);
  }
  const auto end = rest.find_first_of("/?");
  if (end == std::string_view::npos) return "/";
  if (rest[end] == '?') return "/" + std::string(rest.substr(end));
  return std::string(rest.substr(end));
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(PercentDecode(item, true), "");
    else
      out.emplace_back(PercentDecode(item.substr(0, eq), true),
                       PercentDecode(item.substr(eq + 1), true));
  }
  return out;
}

}  // namespace herald::http
