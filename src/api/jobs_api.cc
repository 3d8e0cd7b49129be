// REST endpoints for audits, generic jobs and notifications.

#include <boost/json.hpp>

#include <charconv>

#include "api/app.h"
#include "api/blocking.h"
#include "api/job_json.h"
#include "audit/report_markdown.h"
#include "audit/url_guard.h"
#include "auth/jwt.h"
#include "common/json_text.h"
#include "common/log.h"
#include "config/config.h"
#include "publish/publisher.h"
#include "store/job_store.h"

namespace herald::api {
namespace asio = boost::asio;
namespace json = boost::json;
using http::Reply;
using http::Request;

namespace {

// Job types and notice types: [a-z0-9_.-]{1,64}.
bool IsValidTypeName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<int> QueryInt(const Request& r, std::string_view name, int fallback, int lo, int hi) {
  auto v = r.Query(name);
  if (!v) return fallback;
  int out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < lo || out > hi)
    return MakeError(Errc::kBadRequest, std::string(name) + " must be an integer from " +
                                            std::to_string(lo) + " to " + std::to_string(hi));
  return out;
}

// Who owns a new job: the caller, or for admins and workers an "owner" they name.
Result<std::string> OwnerFor(const json::object& body, const auth::Principal& p) {
  const json::value* owner = body.if_contains("owner");
  if (!owner || owner->is_null()) return p.subject;
  if (!owner->is_string() || owner->get_string().empty())
    return MakeError(Errc::kBadRequest, "owner must be a non-empty string");
  std::string value(owner->get_string());
  if (value != p.subject && !p.is_admin() && !p.is_worker())
    return MakeError(Errc::kForbidden, "only admin and worker tokens may set owner");
  return value;
}

Reply Created(const jobs::Job& job, std::string_view base) {
  Reply reply = Reply::Json(201, JobToJson(job));
  reply.headers.emplace_back("Location", std::string(base) + std::to_string(job.id));
  return reply;
}

}  // namespace

asio::awaitable<Result<jobs::Job>> App::LoadVisible(int64_t id, const auth::Principal& p,
                                                    Kind kind) {
  auto job = co_await RunBlocking(d_.blocking, [&] { return d_.store.GetJob(id); });
  std::string noun = kind == Kind::kAudits ? "audit" : "job";
  if (!job) {
    if (job.error().code == Errc::kNotFound)
      co_return MakeError(Errc::kNotFound, noun + " " + std::to_string(id) + " not found");
    co_return job.error();
  }
  if (auto visible = CheckVisible(id, job->owner, job->is_audit(), p, kind); !visible)
    co_return visible.error();
  co_return job;
}

Result<void> App::CheckVisible(int64_t id, const std::string& owner, bool audit,
                               const auth::Principal& p, Kind kind) const {
  // One id space: /jobs/{id} shows any job, /audits/{id} only audits.
  if (kind == Kind::kAudits && !audit)
    return MakeError(Errc::kNotFound, "audit " + std::to_string(id) + " not found");
  if (owner != p.subject && !p.is_admin() && !p.is_worker())
    return MakeError(Errc::kForbidden, std::string(kind == Kind::kAudits ? "audit " : "job ") +
                                           std::to_string(id) + " belongs to another user");
  return {};
}

asio::awaitable<Reply> App::CreateAudit(const Request& r, const auth::Principal& p) {
  auto body = ParseBody(r);
  if (!body) co_return Reply::FromError(body.error());
  const json::value* url = body->if_contains("url");
  if (!url || !url->is_string()) co_return Reply::Error(400, "url is required");
  int max_pages = 20;
  if (const json::value* mp = body->if_contains("max_pages"); mp && !mp->is_null()) {
    if (!mp->is_int64() || mp->get_int64() < 1 || mp->get_int64() > 500)
      co_return Reply::Error(400, "max_pages must be an integer from 1 to 500");
    max_pages = static_cast<int>(mp->get_int64());
  }
  auto owner = OwnerFor(*body, p);
  if (!owner) co_return Reply::FromError(owner.error());
  std::string url_text(url->get_string());
  bool allow_private = d_.config.audit_allow_private;
  auto target = co_await RunBlocking(
      d_.blocking, [&] { return audit::ValidateAuditUrl(url_text, allow_private); });
  if (!target) co_return Reply::FromError(target.error());

  store::NewJob job{std::string(jobs::kAuditType), *owner, "", target->url, max_pages};
  auto applied = co_await CreateThroughPublisher(std::move(job));
  if (!applied) co_return Reply::FromError(applied.error());
  log::Info("audit {} created for {} by {}", applied->job.id, target->host, p.subject);
  co_return Created(applied->job, "/api/v1/audits/");
}

asio::awaitable<Reply> App::CreateJob(const Request& r, const auth::Principal& p) {
  auto body = ParseBody(r);
  if (!body) co_return Reply::FromError(body.error());
  const json::value* type = body->if_contains("type");
  if (!type || !type->is_string() || !IsValidTypeName(type->get_string()))
    co_return Reply::Error(400, "type is required and must match [a-z0-9_.-]{1,64}");
  if (type->get_string() == jobs::kAuditType)
    co_return Reply::Error(400, "audits are created with POST /api/v1/audits");
  std::string title;
  if (const json::value* t = body->if_contains("title"); t && !t->is_null()) {
    if (!t->is_string() || t->get_string().size() > 1000)
      co_return Reply::Error(400, "title must be a string of at most 1000 bytes");
    title = std::string(t->get_string());
  }
  auto owner = OwnerFor(*body, p);
  if (!owner) co_return Reply::FromError(owner.error());
  store::NewJob job{std::string(type->get_string()), *owner, title, "", 0};
  auto applied = co_await CreateThroughPublisher(std::move(job));
  if (!applied) co_return Reply::FromError(applied.error());
  co_return Created(applied->job, "/api/v1/jobs/");
}

asio::awaitable<Reply> App::ListJobs(const Request& r, const auth::Principal& p, Kind kind) {
  auto limit = QueryInt(r, "limit", 50, 1, 500);
  if (!limit) co_return Reply::FromError(limit.error());
  auto offset = QueryInt(r, "offset", 0, 0, 1 << 30);
  if (!offset) co_return Reply::FromError(offset.error());
  store::JobQuery q;
  // One more than asked: whether there is a next page, without a COUNT.
  q.limit = *limit + 1;
  q.offset = *offset;
  q.audits_only = kind == Kind::kAudits;
  if (auto text = r.Query("q")) {
    if (text->size() > 200) co_return Reply::Error(400, "q is longer than 200 characters");
    q.search = std::string(*text);
  }
  if (auto status = r.Query("status"); status && !status->empty()) {
    q.status = jobs::ParseJobStatus(*status);
    if (!q.status) {
      co_return Reply::Error(400, "status must be pending, running, completed or failed");
    }
  }
  if (p.is_admin() || p.is_worker()) {
    if (auto owner = r.Query("owner")) q.owner = std::string(*owner);
  } else {
    q.owner = p.subject;
  }
  auto list = co_await RunBlocking(d_.blocking, [&] { return d_.store.ListJobs(q); });
  if (!list) co_return Reply::FromError(list.error());
  const bool has_more = list->size() > static_cast<size_t>(*limit);
  if (has_more) list->pop_back();
  std::string body = "{\"items\":[";
  for (size_t i = 0; i < list->size(); ++i) {
    if (i) body += ',';
    body += JobToJson((*list)[i]);
  }
  body += "],\"limit\":" + std::to_string(*limit) + ",\"offset\":" + std::to_string(q.offset) +
          ",\"has_more\":" + (has_more ? "true" : "false") + "}";
  co_return Reply::Json(200, std::move(body));
}

asio::awaitable<Reply> App::GetJob(int64_t id, const auth::Principal& p, Kind kind,
                                   bool status_only) {
  auto job = co_await LoadVisible(id, p, kind);
  if (!job) co_return Reply::FromError(job.error());
  Reply reply = Reply::Json(200, status_only ? jobs::BuildPayload(*job) : JobToJson(*job));
  // The status endpoint is the client-polling fallback: never cache it.
  reply.headers.emplace_back("Cache-Control", "no-store");
  co_return reply;
}

asio::awaitable<Reply> App::GetReport(const Request& r, int64_t id, const auth::Principal& p,
                                      Kind kind) {
  const std::string_view format = r.Query("format").value_or("json");
  const bool markdown = format == "markdown" || format == "md";
  if (!markdown && format != "json") {
    co_return Reply::Error(400, "format must be json or markdown");
  }
  auto job = co_await LoadVisible(id, p, kind);
  if (!job) co_return Reply::FromError(job.error());
  if (job->status != jobs::JobStatus::kCompleted || !job->report_json) {
    co_return Reply::Error(409, "audit " + std::to_string(id) + " has no report: it is " +
                                    std::string(jobs::ToString(job->status)));
  }
  std::string audit = JobToJson(*job);
  Reply reply = Reply::Json(200, audit);
  if (markdown) {
    reply.content_type = "text/markdown; charset=utf-8";
    reply.body = audit::RenderReportMarkdown(json::parse(audit).as_object());
  }
  reply.headers.emplace_back("Content-Disposition", "attachment; filename=\"herald-audit-" +
                                                        std::to_string(id) +
                                                        (markdown ? ".md" : ".json") + "\"");
  co_return reply;
}

asio::awaitable<Reply> App::Cancel(int64_t id, const auth::Principal& p, Kind kind) {
  auto job = co_await LoadVisible(id, p, kind);
  if (!job) co_return Reply::FromError(job.error());
  if (job->owner != p.subject && !p.is_admin())
    co_return Reply::Error(403, "only the owner or an admin may cancel");
  jobs::ProgressUpdate update;
  update.status = jobs::JobStatus::kFailed;
  update.error_message = "cancelled";
  update.message = "Cancelled";
  // Built first: GCC 12 miscompiles a braced list inside a co_await.
  std::vector<store::JobUpdate> one;
  one.push_back(store::JobUpdate{id, std::move(update), false});
  auto outcomes = co_await UpdateThroughPublisher(std::move(one));
  if (!outcomes) co_return Reply::FromError(outcomes.error());
  auto& applied = outcomes->front();
  if (!applied) co_return Reply::FromError(applied.error());
  log::Info("{} {} cancelled by {}", job->type, id, p.subject);
  co_return Reply::Json(200, JobToJson(applied->job));
}

asio::awaitable<Result<store::Applied>> App::CreateThroughPublisher(store::NewJob job) {
  co_return co_await AwaitCallback<Result<store::Applied>>(
      [&](publish::Publisher::CreateDone done) {
        d_.publisher.SubmitCreate(std::move(job), std::move(done));
      });
}

asio::awaitable<Result<std::vector<store::UpdateOutcome>>> App::UpdateThroughPublisher(
    std::vector<store::JobUpdate> updates) {
  co_return co_await AwaitCallback<Result<std::vector<store::UpdateOutcome>>>(
      [&](publish::Publisher::UpdatesDone done) {
        d_.publisher.SubmitUpdates(std::move(updates), std::move(done));
      });
}

namespace {

// The 202 body of one accepted update.
json::object AcceptedJson(const store::Applied& applied) {
  json::object o;
  o["id"] = applied.event.seq;
  o["status"] = jobs::ToString(applied.job.status);
  o["progress"] = applied.job.progress;
  return o;
}

// Most updates one POST /api/v1/progress may carry (the body limit applies too).
constexpr std::size_t kMaxBatchItems = 1000;

}  // namespace

// No read before the write: workers and admins may publish to any job, and
// whether the job exists, is an audit, or is terminal is decided inside the
// transaction that applies the update (store::ApplyUpdates). The reply
// comes once the update is durable; delivery to streams happens after.
asio::awaitable<Reply> App::PostProgress(const Request& r, int64_t id, const auth::Principal& p,
                                         Kind kind) {
  if (!p.is_admin() && !p.is_worker())
    co_return Reply::Error(403, "only worker and admin tokens may publish progress");
  auto update = jobs::ParseProgressUpdate(r.body);
  if (!update) co_return Reply::FromError(update.error());
  std::vector<store::JobUpdate> one;  // not braced in the co_await: see Cancel
  one.push_back(store::JobUpdate{.job_id = id,
                                 .update = std::move(*update),
                                 .audit_only = kind == Kind::kAudits,
                                 .external = true});
  auto outcomes = co_await UpdateThroughPublisher(std::move(one));
  if (!outcomes) co_return Reply::FromError(outcomes.error());
  const auto& applied = outcomes->front();
  if (!applied) co_return Reply::FromError(applied.error());
  co_return Reply::Json(202, JsonText(AcceptedJson(*applied)));
}

asio::awaitable<Reply> App::PostProgressBatch(const Request& r, const auth::Principal& p) {
  if (!p.is_admin() && !p.is_worker())
    co_return Reply::Error(403, "only worker and admin tokens may publish progress");
  auto items = jobs::ParseProgressBatch(r.body, kMaxBatchItems);
  if (!items) co_return Reply::FromError(items.error());
  // Items that parse go to the store in one request, in order; the others
  // keep their place in the answer with their own error.
  std::vector<store::JobUpdate> updates;
  for (auto& item : *items)
    if (item.update) {
      updates.push_back({.job_id = item.job_id,
                         .update = std::move(*item.update),
                         .audit_only = item.audit,
                         .external = true});
    }
  std::vector<store::UpdateOutcome> outcomes;
  if (!updates.empty()) {
    auto committed = co_await UpdateThroughPublisher(std::move(updates));
    if (!committed) co_return Reply::FromError(committed.error());
    outcomes = std::move(*committed);
  }
  json::array results;
  std::size_t next = 0;
  for (const auto& item : *items) {
    std::optional<Error> error;
    if (!item.update) {
      error = item.update.error();
    } else if (const auto& outcome = outcomes[next++]; !outcome) {
      error = outcome.error();
    } else {
      results.push_back(AcceptedJson(*outcome));
      continue;
    }
    results.push_back(json::object{{"error", error->message}, {"status", HttpStatus(error->code)}});
  }
  co_return Reply::Json(202, JsonText(results));
}

asio::awaitable<Reply> App::PostNotification(const Request& r, const auth::Principal& p) {
  if (!p.is_admin() && !p.is_worker())
    co_return Reply::Error(403, "only worker and admin tokens may post notifications");
  auto body = ParseBody(r);
  if (!body) co_return Reply::FromError(body.error());
  const json::value* user = body->if_contains("user");
  if (!user || !user->is_string() || user->get_string().empty())
    co_return Reply::Error(400, "user is required (a user id, or \"*\" for everyone)");
  const json::value* type = body->if_contains("type");
  if (!type || !type->is_string() || !IsValidTypeName(type->get_string()))
    co_return Reply::Error(400, "type is required and must match [a-z0-9_.-]{1,64}");
  store::NewNotice notice;
  notice.user = std::string(user->get_string());
  notice.type = std::string(type->get_string());
  const json::value* data = body->if_contains("data");
  notice.data_json = data ? JsonText(*data) : "null";
  auto entry =
      co_await AwaitCallback<Result<store::FeedEntry>>([&](publish::Publisher::NoticeDone done) {
        d_.publisher.SubmitNotice(std::move(notice), std::move(done));
      });
  if (!entry) co_return Reply::FromError(entry.error());
  json::object o;
  o["id"] = entry->id;
  co_return Reply::Json(202, JsonText(o));
}

}  // namespace herald::api
