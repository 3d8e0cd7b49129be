// Worker payloads: POST .../progress bodies and POST /api/v1/progress
// batches. Properties: never a crash; an update that parses and applies
// yields a payload that is one line of valid JSON carrying the job's status,
// with progress within 0-100 and never lower than before.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "jobs/job.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)jobs::ParseProgressBatch(body, 100);
  auto update = jobs::ParseProgressUpdate(body);
  if (!update) return 0;
  for (const char* type : {"translation", "audit"}) {
    jobs::Job job;
    job.id = 7;
    job.type = type;
    job.owner = "fuzz";
    job.status = jobs::JobStatus::kRunning;
    job.progress = 40;
    job.last_seq = 3;
    if (!jobs::ApplyUpdate(job, *update, 1'800'000'000'000)) continue;
    FUZZ_CHECK(job.progress >= 40 && job.progress <= 100);
    FUZZ_CHECK(job.last_seq == 4);
    const std::string payload = jobs::BuildPayload(job);
    FUZZ_CHECK(payload.find('\n') == std::string::npos && payload.find('\r') == std::string::npos);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(payload, ec);
    FUZZ_CHECK(!ec && parsed.is_object());
    FUZZ_CHECK(parsed.as_object().at("status").as_string() == jobs::ToString(job.status));
  }
  return 0;
}
