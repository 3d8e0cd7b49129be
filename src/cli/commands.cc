#include "cli/commands.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/progress_view.h"
#include "common/json_text.h"

namespace herald::cli {
namespace json = boost::json;

namespace {

// Set by SIGINT, polled by Stream(). A lock-free atomic is safe to store to
// from a signal handler.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSigint(int) { g_interrupted.store(true, std::memory_order_relaxed); }

// Installs the SIGINT handler for one command and restores the previous one.
// No SA_RESTART: a blocked poll returns at once and the flag is seen sooner.
class SigintScope {
 public:
  SigintScope() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = OnSigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    installed_ = ::sigaction(SIGINT, &action, &previous_) == 0;
  }
  ~SigintScope() {
    if (installed_) ::sigaction(SIGINT, &previous_, nullptr);
  }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  struct sigaction previous_ {};
  bool installed_ = false;
};

int TerminalWidth() {
  struct winsize ws {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 80;
}

template <class F>
int WithStdConsole(F&& run) {
  SigintScope sigint;
  Console console(std::cout, std::cerr);
  console.tty = ::isatty(STDOUT_FILENO) == 1;
  console.width = TerminalWidth();
  console.should_stop = [] { return g_interrupted.load(std::memory_order_relaxed); };
  return run(console);
}

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string StatusOf(const json::object& o) {
  const json::value* s = o.if_contains("status");
  return s && s->is_string() ? std::string(s->as_string()) : std::string();
}

// "herald: Herald answered 401: ..." plus a hint where one helps; returns
// the exit code for it.
int PrintHttpError(Console& c, const ClientOptions& options, const HttpResponse& r) {
  c.err << "herald: Herald answered " << r.status << ": " << ServerError(r);
  if (r.status == 401 && options.token.empty())
    c.err << " (no token given; mint one with `herald token`)";
  c.err << "\n";
  return ExitCodeFor(r.status);
}

// A transport error (refused, timed out, DNS): one line, exit 5.
int PrintUnreachable(Console& c, const Error& error) {
  c.err << "herald: " << error.message << "\n";
  return kExitUnavailable;
}

std::string Kind(bool audit) { return audit ? "audit" : "job"; }

// Streams job `id` until it ends, then prints its outcome.
// The format --report FILE asks for by its extension: "json", "markdown",
// or "" for one we do not write.
std::string ReportFormat(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".json") return "json";
  if (ext == ".md" || ext == ".markdown") return "markdown";
  return "";
}

// Refuses a --report FILE that could not be written, before any audit
// starts: an unknown extension, a missing or unwritable directory, a
// directory in its place.
bool CheckReportPath(const ClientOptions& options, Console& c) {
  if (options.report_path.empty()) return true;
  namespace fs = std::filesystem;
  const fs::path path(options.report_path);
  if (ReportFormat(options.report_path).empty()) {
    c.err << "herald: --report " << options.report_path
          << ": the file name must end in .json or .md\n";
    return false;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    c.err << "herald: --report " << options.report_path << " is a directory\n";
    return false;
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
    c.err << "herald: --report " << options.report_path << ": cannot write in " << dir.string()
          << "\n";
    return false;
  }
  return true;
}

// Downloads the completed audit's report and writes it to --report FILE
// (through a temporary file, so a reader never sees half a report).
int WriteReport(const ClientOptions& options, const HttpClient& http, int64_t id, Console& c) {
  const std::string format = ReportFormat(options.report_path);
  auto res = http.Get("/api/v1/audits/" + std::to_string(id) + "/report?format=" + format);
  if (!res) return PrintUnreachable(c, res.error());
  if (res->status != 200) return PrintHttpError(c, options, *res);
  const std::string temporary = options.report_path + ".part";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << res->body;
    out.close();
    std::error_code ec;
    if (!out) {
      std::filesystem::remove(temporary, ec);
      c.err << "herald: cannot write the report to " << options.report_path << "\n";
      return kExitUnavailable;
    }
    std::filesystem::rename(temporary, options.report_path, ec);
    if (ec) {
      std::filesystem::remove(temporary, ec);
      c.err << "herald: cannot write the report to " << options.report_path << ": " << ec.message()
            << "\n";
      return kExitUnavailable;
    }
  }
  std::error_code ec;
  auto absolute = std::filesystem::absolute(options.report_path, ec);
  c.out << "Full report (" << (format == "json" ? "JSON" : "Markdown")
        << "): " << (ec ? options.report_path : absolute.string()) << "\n"
        << std::flush;
  return kExitCompleted;
}

int Watch(const ClientOptions& options, const HttpClient& http, bool audit, int64_t id,
          Console& c) {
  ProgressView view(c.out, c.tty, c.width);
  std::string path = "/api/v1/sse/" + Kind(audit) + "s/" + std::to_string(id) + "/progress";
  std::optional<json::object> last;
  auto on_event = [&](const SseEvent& e) {
    // `event: error` (stream timeout, server fault) precedes the end of the
    // response; Stream() then reconnects with Last-Event-ID.
    if (e.event != "message") return true;
    if (auto payload = ParseObject(e.data)) {
      view.Update(*payload);
      last = std::move(payload);
    }
    return true;
  };
  auto ended = Stream(http.Url(path), http.AuthHeaders(), on_event, c.should_stop, c.stream);
  view.Finish();
  if (!ended) {
    // The stream's own refusals carry their HTTP status in the message.
    const std::string& m = ended.error().message;
    c.err << "herald: " << m << "\n";
    if (ended.error().code == Errc::kUnauthorized || ended.error().code == Errc::kForbidden)
      return kExitAuth;
    if (ended.error().code == Errc::kNotFound) return kExitNotFound;
    return kExitUnavailable;
  }
  if (*ended == StreamEnd::kInterrupted) {
    c.err << "stopped watching; " << Kind(audit) << " " << id << " continues (herald watch " << id
          << ")\n";
    return kExitInterrupted;
  }

  // A 204 (the job ended before we reconnected) leaves the final state to
  // be fetched; so does any end without a terminal payload.
  if (!last || !IsTerminalStatus(StatusOf(*last))) {
    auto res = http.Get("/api/v1/jobs/" + std::to_string(id));
    if (!res) return PrintUnreachable(c, res.error());
    if (res->status != 200) return PrintHttpError(c, options, *res);
    last = ParseObject(res->body);
    if (!last || !IsTerminalStatus(StatusOf(*last))) {
      c.err << "herald: the progress stream ended but " << Kind(audit) << " " << id
            << " has not finished (herald watch " << id << ")\n";
      return kExitUnavailable;
    }
  }

  if (StatusOf(*last) == "failed") {
    c.out << RenderFailure(audit, id, *last) << std::flush;
    return kExitFailed;
  }
  if (!audit) {
    c.out << RenderJobCompleted(id, *last) << std::flush;
    return kExitCompleted;
  }
  // The report is only in the job itself, not in the progress payload.
  json::object job = *last;
  if (auto res = http.Get("/api/v1/audits/" + std::to_string(id)); res && res->status == 200) {
    if (auto full = ParseObject(res->body)) job = std::move(*full);
  }
  c.out << RenderAuditSummary(job) << std::flush;
  if (!options.report_path.empty()) return WriteReport(options, http, id, c);
  c.out << "Full report: herald watch " << id << " --report audit-" << id << ".md (or .json)\n"
        << std::flush;
  return kExitCompleted;
}

}  // namespace

int ExitCodeFor(long http_status) {
  if (http_status == 400) return kExitBadInput;
  if (http_status == 401 || http_status == 403) return kExitAuth;
  if (http_status == 404) return kExitNotFound;
  return kExitUnavailable;
}

int RunAudit(const ClientOptions& options, const std::string& url, int max_pages, Console& c) {
  if (!CheckReportPath(options, c)) return kExitBadInput;
  HttpClient http(options.server, options.token);
  json::object body;
  body["url"] = url;
  body["max_pages"] = max_pages;
  auto res = http.Post("/api/v1/audits", JsonText(body));
  if (!res) return PrintUnreachable(c, res.error());
  if (res->status == 400) {
    c.err << "herald: " << ServerError(*res) << "\n";
    return kExitBadInput;
  }
  std::optional<json::object> job;
  if (res->status == 201) job = ParseObject(res->body);
  const json::value* id = job ? job->if_contains("id") : nullptr;
  if (!id || !id->is_int64()) {
    if (res->status == 201) {
      c.err << "herald: Herald's answer has no audit id\n";
      return kExitUnavailable;
    }
    return PrintHttpError(c, options, *res);
  }
  c.out << "Audit " << id->as_int64() << " started for " << url << "\n" << std::flush;
  return Watch(options, http, true, id->as_int64(), c);
}

int RunWatch(const ClientOptions& options, int64_t id, Console& c) {
  if (id <= 0) {
    c.err << "herald: a job id is a positive number, not " << id << "\n";
    return kExitBadInput;
  }
  if (!CheckReportPath(options, c)) return kExitBadInput;
  HttpClient http(options.server, options.token);
  // /jobs/{id} shows any job, audits included; its "type" picks the stream.
  auto res = http.Get("/api/v1/jobs/" + std::to_string(id));
  if (!res) return PrintUnreachable(c, res.error());
  bool audit = false;
  if (res->status == 200) {
    auto job = ParseObject(res->body);
    const json::value* type = job ? job->if_contains("type") : nullptr;
    audit = type && type->is_string() && type->as_string() == "audit";
  } else if (res->status == 404) {
    auto as_audit = http.Get("/api/v1/audits/" + std::to_string(id));
    if (!as_audit) return PrintUnreachable(c, as_audit.error());
    if (as_audit->status == 404) {
      c.err << "herald: no job or audit " << id << "\n";
      return kExitNotFound;
    }
    if (as_audit->status != 200) return PrintHttpError(c, options, *as_audit);
    audit = true;
  } else {
    return PrintHttpError(c, options, *res);
  }
  if (!options.report_path.empty() && !audit) {
    c.err << "herald: --report is for audits; job " << id << " is not one\n";
    return kExitBadInput;
  }
  return Watch(options, http, audit, id, c);
}

int RunAudit(const ClientOptions& options, const std::string& url, int max_pages) {
  return WithStdConsole([&](Console& c) { return RunAudit(options, url, max_pages, c); });
}

int RunWatch(const ClientOptions& options, int64_t id) {
  return WithStdConsole([&](Console& c) { return RunWatch(options, id, c); });
}

}  // namespace herald::cli
