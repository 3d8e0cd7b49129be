#pragma once
// `herald audit URL` and `herald watch ID`: the terminal client's commands.
// main.cc parses flags and calls RunAudit / RunWatch; everything else
// (HTTP, the progress stream, rendering, Ctrl-C) happens here.
//
// Exit codes, for scripts: see the constants below. Every error is one line
// on stderr starting "herald: ".

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "cli/client.h"

namespace herald::cli {

inline constexpr int kExitCompleted = 0;      // the job completed
inline constexpr int kExitFailed = 1;         // the job failed (or was cancelled)
inline constexpr int kExitBadInput = 2;       // bad arguments, or the server answered 400
inline constexpr int kExitAuth = 3;           // no valid token (401), or not allowed (403)
inline constexpr int kExitNotFound = 4;       // no such job or audit (404)
inline constexpr int kExitUnavailable = 5;    // Herald unreachable, or it answered 5xx/429
inline constexpr int kExitInterrupted = 130;  // Ctrl-C: the job goes on; only watching stopped

// The exit code for an HTTP error answer.
int ExitCodeFor(long http_status);

struct ClientOptions {
  // Where Herald listens. Flag/env handling lives in main.cc.
  std::string server = "http://127.0.0.1:8000";
  // A JWT sent as `Authorization: Bearer`; empty sends none.
  std::string token;
  // --report FILE: where a completed audit's full report is written, as
  // JSON (.json) or Markdown (.md, .markdown); empty: not written.
  std::string report_path;
};

// Where a command writes and how it learns it should stop. The overloads
// without a Console use stdout/stderr, detect a terminal with isatty and
// its width with TIOCGWINSZ (else $COLUMNS, else 80), and install a SIGINT
// handler for the duration of the call.
struct Console {
  Console(std::ostream& out_stream, std::ostream& err_stream) : out(out_stream), err(err_stream) {}

  std::ostream& out;  // progress and results
  std::ostream& err;  // errors and the "stopped watching" notice
  bool tty = false;   // redraw one line instead of printing each change
  int width = 80;
  std::function<bool()> should_stop;  // polled ~10 times a second; may be empty
  StreamOptions stream;               // reconnect policy of the progress stream
};

int RunAudit(const ClientOptions& options, const std::string& url, int max_pages);
int RunWatch(const ClientOptions& options, int64_t id);

int RunAudit(const ClientOptions& options, const std::string& url, int max_pages, Console& console);
int RunWatch(const ClientOptions& options, int64_t id, Console& console);

}  // namespace herald::cli
