#include "bus/feed_message.h"

#include <boost/json.hpp>

#include "common/json_text.h"

namespace herald::bus {
namespace json = boost::json;

std::string EncodeFeedMessage(const jobs::FeedEntry& e) {
  // `data` is embedded as raw JSON so it is not escaped twice.
  json::object o;
  o["id"] = e.id;
  o["audience"] = e.audience;
  o["notice"] = e.notice;
  o["event"] = e.event;
  o["job_id"] = e.job_id;
  o["seq"] = e.seq;
  std::string head = JsonText(o);
  head.pop_back();  // drop '}'
  head += ",\"data\":";
  head += e.data;
  head += '}';
  return head;
}

std::optional<jobs::FeedEntry> DecodeFeedMessage(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  const json::value* id = o.if_contains("id");
  const json::value* audience = o.if_contains("audience");
  const json::value* event = o.if_contains("event");
  const json::value* data = o.if_contains("data");
  if (!id || !id->is_int64() || !audience || !audience->is_string() || !event ||
      !event->is_string() || !data)
    return std::nullopt;
  jobs::FeedEntry e;
  e.id = id->get_int64();
  e.audience = std::string(audience->get_string());
  e.event = std::string(event->get_string());
  if (const json::value* n = o.if_contains("notice"); n && n->is_bool()) e.notice = n->get_bool();
  if (const json::value* j = o.if_contains("job_id"); j && j->is_int64()) e.job_id = j->get_int64();
  if (const json::value* s = o.if_contains("seq"); s && s->is_int64()) e.seq = s->get_int64();
  e.data = JsonText(*data);
  return e;
}

}  // namespace herald::bus
