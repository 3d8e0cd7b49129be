// herald: parse the command line and configuration, wire the objects
// together, run the io_context, handle signals. The only untested glue.

#include <CLI/CLI.hpp>

#include <iostream>

#include "auth/jwt.h"
#include "common/log.h"
#include "config/config.h"
#include "runtime/runtime.h"

namespace herald {
namespace {

constexpr int kExitUsage = 2;

[[noreturn]] void Fail(const std::string& message, int code = 1) {
  std::cerr << "herald: " << message << "\n";
  std::exit(code);
}

int Serve(const config::Config& config) {
  log::Level level;
  if (log::ParseLevel(config.log_level, &level)) log::SetLevel(level);
  auto runtime = runtime::Runtime::Create(config);
  if (!runtime) Fail(runtime.error().message, runtime.error().code == Errc::kBadRequest ? kExitUsage : 1);
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
  std::cout << auth::MintHs256(config.auth.jwt_secret, options,
                               std::chrono::system_clock::now())
            << "\n";
  return 0;
}

}  // namespace
}  // namespace herald

int main(int argc, char** argv) {
  using namespace herald;
  CLI::App cli{"Herald: real-time progress for long-running jobs over Server-Sent Events",
               "herald"};
  cli.set_version_flag("--version", std::string("herald ") + HERALD_VERSION);
  cli.require_subcommand(0, 1);

  std::string listen;
  auto* serve = cli.add_subcommand("serve", "Serve the API, the streams and the dashboard");
  serve->add_option("--listen", listen, "host:port (overrides HERALD_LISTEN)");

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

  if (!*serve && !*token) {
    std::cerr << "herald: a command is required: serve or token (see herald --help)\n";
    return 2;
  }
  auto loaded = config::LoadConfig(config::ProcessEnv());
  if (!loaded) {
    std::cerr << "herald: " << loaded.error().message << "\n";
    return 2;
  }
  config::Config config = std::move(*loaded);
  if (!listen.empty()) {
    if (auto r = config::ParseListen(listen, &config.http.host, &config.http.port); !r) {
      std::cerr << "herald: --listen: " << r.error().message << "\n";
      return 2;
    }
  }
  if (*serve) return Serve(config);
  return Token(config, sub, role, ttl);
}
