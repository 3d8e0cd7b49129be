#include "api/job_json.h"

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/json_text.h"
#include "http/request.h"

namespace herald::api {
namespace json = boost::json;

namespace {
json::value ParseOrNull(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  return ec ? json::value(nullptr) : v;
}
}  // namespace

std::string JobToJson(const jobs::Job& job) {
  json::value payload = json::parse(jobs::BuildPayload(job));
  json::object out;
  out["id"] = job.id;
  for (auto& kv : payload.as_object()) out[kv.key()] = std::move(kv.value());
  out["type"] = job.type;
  out["owner"] = job.owner;
  if (job.is_audit()) out["max_pages"] = job.max_pages;
  out["created_at"] = FormatIso8601(job.created_at_ms);
  if (job.is_audit() && job.report_json) out["report"] = ParseOrNull(job.report_json);
  if (job.error_message) out["error_message"] = *job.error_message;
  return JsonText(out);
}

Result<json::object> ParseBody(const http::Request& r) {
  if (r.body.empty()) return MakeError(Errc::kBadRequest, "body must be a JSON object");
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec) return MakeError(Errc::kBadRequest, "body is not valid JSON: " + ec.message());
  if (!v.is_object()) return MakeError(Errc::kBadRequest, "body must be a JSON object");
  return std::move(v.as_object());
}

}  // namespace herald::api
