#include "integration/test_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>

#include "support/backend_env.h"

namespace herald::test {

TestServer::TestServer(std::function<void(config::Config&)> tweak) {
  char tmpl[] = "/tmp/herald-test-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  config_.http.host = "127.0.0.1";
  config_.http.port = 0;
  config_.http.threads = 2;
  config_.auth.jwt_secret = kTestSecret;
  Backend backend = BackendFromEnvironment(dir_ + "/herald.db");
  config_.database_url = backend.database_url;
  if (backend.redis_url) {
    config_.redis_url = backend.redis_url;
    config_.sse_source = config::SseSource::kRedis;
  }
  config_.log_level = "warn";
  config_.workers = 0;                      // audits stay pending unless a test runs workers
  config_.drain = std::chrono::seconds(0);  // Stop() ends streams at once unless a test drains
  if (tweak) tweak(config_);
  auto created = runtime::Runtime::Create(config_);
  if (!created) {
    ADD_FAILURE() << "server did not start: " << created.error().message;
    std::abort();
  }
  runtime_ = std::move(*created);
  auto started = runtime_->Start();
  if (!started) {
    ADD_FAILURE() << "server did not listen: " << started.error().message;
    std::abort();
  }
}

TestServer::~TestServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  runtime_->RequestStop();
  runtime_->Wait();
}

std::string TestServer::Token(const std::string& sub, auth::Role role, std::chrono::seconds ttl) {
  auth::MintOptions options;
  options.subject = sub;
  options.role = role;
  options.ttl = ttl;
  return auth::MintHs256(kTestSecret, options, std::chrono::system_clock::now());
}

int64_t TestServer::CreateJob(const std::string& owner, const std::string& type) {
  auto res = Request(port(), "POST", "/api/v1/jobs", Bearer(Token(owner)),
                     R"({"type":")" + type + R"(","title":"test job"})");
  if (res.status != 201) {
    ADD_FAILURE() << "create job: " << res.status << " " << res.body;
    return 0;
  }
  return boost::json::parse(res.body).at("id").as_int64();
}

int TestServer::Publish(int64_t job_id, const std::string& body_json) {
  return Request(port(), "POST", "/api/v1/jobs/" + std::to_string(job_id) + "/progress",
                 Bearer(Token("worker-1", auth::Role::kWorker)), body_json)
      .status;
}

}  // namespace herald::test
