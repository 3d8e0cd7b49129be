#include "sse/event_format.h"

#include <boost/json.hpp>

#include "common/json_text.h"
#include "common/log.h"

namespace herald::sse {
namespace json = boost::json;

std::string FormatEvent(std::optional<int64_t> id, std::string_view name, std::string_view data) {
  std::string out;
  out.reserve(data.size() + name.size() + 40);
  if (id) {
    out += "id: ";
    out += std::to_string(*id);
    out += '\n';
  }
  if (!name.empty()) {
    out += "event: ";
    for (char c : name)
      if (c != '\r' && c != '\n') out += c;
    out += '\n';
  }
  // Split on CRLF, CR and LF: all three end a line in the SSE grammar.
  size_t i = 0;
  do {
    size_t end = data.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = data.size();
    out += "data: ";
    out.append(data.substr(i, end - i));
    out += '\n';
    if (end < data.size() && data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n')
      ++end;
    i = end + 1;
  } while (i <= data.size());
  out += '\n';
  return out;
}

std::string FormatFeedEvent(int64_t id, bool notice, std::string_view name, std::string_view data,
                            bool named) {
  if (named) return FormatEvent(id, name, data);
  const std::string field = "\"event\":" + JsonQuote(notice ? std::string_view("notice") : name);
  std::string with;
  if (data.size() >= 2 && data.front() == '{') {
    // {"a":1} -> {"event":"job","a":1}; {} -> {"event":"job"}
    const bool empty = data.find_first_not_of(" \t\r\n", 1) == data.size() - 1;
    with = "{" + field + (empty ? "}" : "," + std::string(data.substr(1)));
  } else {
    with = "{" + field + ",\"data\":" + std::string(data) + "}";
  }
  return FormatEvent(id, "", with);
}

std::string FormatComment(std::string_view text) {
  std::string out = ":";
  if (!text.empty() && text.front() != ' ') out += ' ';
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
  out += '\n';
  return out;
}

std::string FormatRetry(int64_t milliseconds) {
  return "retry: " + std::to_string(milliseconds) + "\n";
}

EventPtr MakeProgressEvent(std::string_view payload) {
  auto event = std::make_shared<Event>();
  boost::system::error_code ec;
  json::value v = json::parse(payload, ec);
  if (!ec && v.is_object()) {
    const json::object& o = v.get_object();
    if (const json::value* s = o.if_contains("seq"); s && s->is_int64() && s->get_int64() > 0)
      event->seq = s->get_int64();
    if (const json::value* st = o.if_contains("status"); st && st->is_string()) {
      event->failed = st->get_string() == "failed";
      event->terminal = event->failed || st->get_string() == "completed";
    }
  }
  event->wire = FormatEvent(event->seq > 0 ? std::optional<int64_t>(event->seq) : std::nullopt,
                            "message", payload);
  return event;
}

std::string InternalErrorFrame(std::string_view label, const Error& error) {
  log::Error("SSE stream for {} failed: {}", label, Describe(error));
  return FormatEvent(std::nullopt, "error", kInternalErrorData);
}

}  // namespace herald::sse
