#pragma once
// A real Herald server, in-process on 127.0.0.1 port 0 with a fresh SQLite
// file, for integration tests. Tests talk to it over real sockets with
// test::Request and test::SseClient.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "auth/jwt.h"
#include "config/config.h"
#include "runtime/runtime.h"
#include "support/http_client.h"

namespace herald::test {

inline constexpr char kTestSecret[] = "integration-test-secret";

// Config for a test server: port 0, a temp database, short timeouts.
// `tweak` edits it before start.
class TestServer {
 public:
  explicit TestServer(std::function<void(config::Config&)> tweak = {});
  ~TestServer();

  uint16_t port() const { return runtime_->port(); }
  runtime::Runtime& runtime() { return *runtime_; }
  const config::Config& config() const { return config_; }
  const std::string& dir() const { return dir_; }

  // Graceful stop (as SIGTERM); the destructor also stops.
  void Stop();

  static std::string Token(const std::string& sub, auth::Role role = auth::Role::kUser,
                           std::chrono::seconds ttl = std::chrono::seconds(3600));
  static Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // Creates a generic job owned by `owner`; returns its id (0 on failure).
  int64_t CreateJob(const std::string& owner, const std::string& type = "test");
  // Posts a worker update; returns the HTTP status.
  int Publish(int64_t job_id, const std::string& body_json);

 private:
  std::string dir_;
  config::Config config_;
  std::unique_ptr<runtime::Runtime> runtime_;
  bool stopped_ = false;
};

}  // namespace herald::test
