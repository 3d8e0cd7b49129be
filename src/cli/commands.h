#pragma once
// `herald audit URL` and `herald watch ID`: the terminal client's commands.
// main.cc parses flags and calls RunAudit / RunWatch; everything else
// (HTTP, the progress stream, rendering, Ctrl-C) happens here.
//
// Exit codes: 0 the job completed; 1 it failed, or the server could not be
// reached or answered with an error; 2 bad input (the server answered 400,
// e.g. an unsupported URL); 130 the user pressed Ctrl-C (the job keeps
// running on the server; only the watching stops).

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "cli/client.h"

namespace herald::cli {

struct ClientOptions {
  // Where Herald listens. Flag/env handling lives in main.cc.
  std::string server = "http://127.0.0.1:8000";
  // A JWT sent as `Authorization: Bearer`; empty sends none.
  std::string token;
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

int RunAudit(const ClientOptions& options, const std::string& url, int max_pages,
             Console& console);
int RunWatch(const ClientOptions& options, int64_t id, Console& console);

}  // namespace herald::cli
