// Creates the jobs a Herald run watches: POST /api/v1/jobs
// {"type":"bench","title":"bench"} -> 201 with "id", over a few keep-alive
// connections in parallel (10,000 jobs one at a time would take seconds of
// round trips on a busy machine).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace herald::bench {

// Fills `ids` with `count` new job ids in creation order, or returns false
// with `error` set (the first failure; the rest are not attempted).
bool CreateJobs(const sockaddr_storage& server, socklen_t server_len,
                const std::string& host_header, bool nodelay, const std::string& token,
                uint64_t count, int connections, int64_t deadline_ns, std::vector<std::string>* ids,
                std::string* error);

}  // namespace herald::bench
