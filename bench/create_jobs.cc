#include "create_jobs.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "http_client.h"
#include "sse_parser.h"
#include "stats.h"

namespace herald::bench {

bool CreateJobs(const sockaddr_storage& server, socklen_t server_len,
                const std::string& host_header, bool nodelay, const std::string& token,
                uint64_t count, int connections, int64_t deadline_ns, std::vector<std::string>* ids,
                std::string* error) {
  ids->assign(count, std::string());
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string headers;
  if (!token.empty()) headers = "Authorization: Bearer " + token + "\r\n";

  auto work = [&] {
    HttpClient client(server, server_len, host_header, nodelay);
    HttpResponse response;
    std::string err;
    while (!failed.load()) {
      uint64_t i = next.fetch_add(1);
      if (i >= count) return;
      int64_t until = std::min(deadline_ns, NowNs() + 10'000'000'000);
      std::string problem;
      if (!client.Request("POST", "/api/v1/jobs", headers, R"({"type":"bench","title":"bench"})",
                          until, &response, &err)) {
        problem = "POST /api/v1/jobs: " + err;
      } else if (response.status != 201 && response.status != 200) {
        problem = "POST /api/v1/jobs: status " + std::to_string(response.status) + ": " +
                  response.body.substr(0, 200);
      } else {
        int64_t id = 0;
        std::string_view sid;
        if (FindJsonInt(response.body, "id", &id) || FindJsonInt(response.body, "job_id", &id)) {
          (*ids)[i] = std::to_string(id);
        } else if (FindJsonString(response.body, "id", &sid) && !sid.empty()) {
          (*ids)[i] = std::string(sid);
        } else {
          problem = "no \"id\" in the created job: " + response.body.substr(0, 200);
        }
      }
      if (!problem.empty()) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) *error = problem;
        return;
      }
    }
  };
  int n = static_cast<int>(
      std::clamp<uint64_t>(count, 1, static_cast<uint64_t>(std::max(1, connections))));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(work);
  for (auto& th : threads) th.join();
  return !failed.load();
}

}  // namespace herald::bench
