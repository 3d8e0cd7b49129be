// herald: parse the command line and configuration, wire the objects
// together, run the io_context, handle signals. The only untested glue.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string_view>

#include "auth/jwt.h"
#include "cli/commands.h"
#include "common/log.h"
#include "config/config.h"
#include "config/variables.h"
#include "runtime/runtime.h"

namespace herald {
namespace {

constexpr int kExitUsage = 2;

// The environment variables with their defaults, for `herald serve --help`.
std::string EnvironmentHelp() {
  std::size_t width = 0;
  for (const auto& v : config::Variables())
    width = std::max(width, std::string_view(v.name).size());
  std::string out = "Environment (default in brackets):\n";
  for (const auto& v : config::Variables()) {
    std::string name(v.name);
    out += "  " + name + std::string(width - name.size() + 2, ' ') + v.meaning + " [" +
           v.default_value + "]\n";
  }
  return out;
}

[[noreturn]] void Fail(const std::string& message, int code = 1) {
  std::cerr << "herald: " << message << "\n";
  std::exit(code);
}

int Serve(const config::Config& config) {
  log::Level level;
  if (log::ParseLevel(config.log_level, &level)) log::SetLevel(level);
  if (log::Format format; log::ParseFormat(config.log_format, &format)) log::SetFormat(format);
  auto runtime = runtime::Runtime::Create(config);
  if (!runtime)
    Fail(runtime.error().message, runtime.error().code == Errc::kBadRequest ? kExitUsage : 1);
  (*runtime)->StopOnSignals();
  if (auto started = (*runtime)->Start(); !started) Fail(started.error().message);
  (*runtime)->Wait();
  return 0;
}

int Token(const config::Config& config, const std::string& sub, const std::string& role,
          int64_t ttl) {
  if (config.auth.jwt_secret.empty()) Fail("JWT_SECRET: required to mint a token", kExitUsage);
  auto parsed_role = auth::ParseRole(role);
  if (!parsed_role) Fail("--role: '" + role + "' is not user, worker or admin", kExitUsage);
  auth::MintOptions options;
  options.subject = sub;
  options.role = *parsed_role;
  options.ttl = std::chrono::seconds(ttl);
  options.issuer = config.auth.issuer;
  options.audience = config.auth.audience;
  std::cout << auth::MintHs256(config.auth.jwt_secret, options, std::chrono::system_clock::now())
            << "\n";
  return 0;
}

}  // namespace
}  // namespace herald

namespace herald {
namespace {
int Main(int argc, char** argv) {
  CLI::App cli{"Herald: real-time progress for long-running jobs over Server-Sent Events",
               "herald"};
  cli.set_version_flag("--version", std::string("herald ") + HERALD_VERSION);
  cli.require_subcommand(0, 1);

  std::string listen;
  auto* serve = cli.add_subcommand("serve", "Serve the API, the streams and the dashboard");
  serve->add_option("--listen", listen, "host:port (overrides HERALD_LISTEN)");
  std::string log_format;
  serve->add_option("--log-format", log_format, "text or json (overrides HERALD_LOG_FORMAT)")
      ->check(CLI::IsMember({"text", "json"}));
  serve->footer(EnvironmentHelp());

  auto* worker =
      cli.add_subcommand("worker", "Run queued audits (HERALD_WORKERS threads) until stopped");
  worker->add_option("--log-format", log_format, "text or json (overrides HERALD_LOG_FORMAT)")
      ->check(CLI::IsMember({"text", "json"}));

  // Terminal client: herald audit URL, herald watch ID.
  cli::ClientOptions client;
  client.server = "http://127.0.0.1:8000";
  std::string audit_url;
  int max_pages = 20;
  int64_t watch_id = 0;
  auto add_client_flags = [&](CLI::App* app) {
    app->add_option("--server", client.server, "Herald's address (HERALD_URL)")
        ->envname("HERALD_URL")
        ->capture_default_str();
    app->add_option("--token", client.token, "JWT (HERALD_TOKEN)")->envname("HERALD_TOKEN");
  };
  auto* audit = cli.add_subcommand("audit", "Start an audit of URL and show its progress");
  audit->add_option("url", audit_url, "the site to audit")->required();
  audit->add_option("--max-pages", max_pages, "pages to crawl")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();
  add_client_flags(audit);
  audit->add_option("--report", client.report_path,
                    "write the full report to FILE when the audit completes (.json or .md)");
  auto* watch = cli.add_subcommand("watch", "Show the live progress of job ID");
  watch->add_option("id", watch_id, "job or audit id")
      ->required()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            // Checked as text: CLI11's own message for "abc" quotes the
            // whole int64 range.
            const bool digits = !text.empty() && text.size() <= 18 &&
                                text.find_first_not_of("0123456789") == std::string::npos &&
                                text != "0" && text[0] != '0';
            return digits ? "" : "a job id is a positive whole number, not '" + text + "'";
          },
          "ID"));
  add_client_flags(watch);
  watch->add_option("--report", client.report_path,
                    "for an audit: write its full report to FILE once completed (.json or .md)");

  std::string sub, role = "user";
  int64_t ttl = 3600;
  auto* token = cli.add_subcommand("token", "Print a signed JWT (HS256 with JWT_SECRET)");
  token->add_option("--sub", sub, "user id (sub claim)")->required();
  token->add_option("--role", role, "user, worker or admin")->capture_default_str();
  token->add_option("--ttl", ttl, "seconds until it expires")
      ->check(CLI::Range(int64_t{1}, int64_t{10} * 365 * 24 * 3600))
      ->capture_default_str();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem, exit code 2 (the contract).
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    std::cerr << "herald: " << what << " (see herald --help)\n";
    return 2;
  }

  if (*audit) return cli::RunAudit(client, audit_url, max_pages);
  if (*watch) return cli::RunWatch(client, watch_id);
  if (!*serve && !*token && !*worker) {
    std::cerr << "herald: a command is required: serve, worker, token, audit or watch "
                 "(see herald --help)\n";
    return 2;
  }
  auto loaded = config::LoadConfig(config::ProcessEnv());
  if (!loaded) {
    std::cerr << "herald: " << loaded.error().message << "\n";
    return 2;
  }
  config::Config config = std::move(*loaded);
  if (!log_format.empty()) config.log_format = log_format;
  if (!listen.empty()) {
    if (auto r = config::ParseListen(listen, &config.http.host, &config.http.port); !r) {
      std::cerr << "herald: --listen: " << r.error().message << "\n";
      return 2;
    }
  }
  if (*serve) return Serve(config);
  if (*worker) {
    auto ran = runtime::RunWorker(config);
    if (!ran) Fail(ran.error().message, ran.error().code == Errc::kBadRequest ? kExitUsage : 1);
    return 0;
  }
  return Token(config, sub, role, ttl);
}

}  // namespace
}  // namespace herald

// Whatever escapes (a bug: every expected failure is a Result) ends the
// process with one line rather than std::terminate's abort.
int main(int argc, char** argv) {
  try {
    return herald::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "herald: " << e.what() << "\n";
    return 1;
  }
}
