// HTTP request handling: the bytes of one request as the server reads them
// (Beast's parser, the RFC 9112 framing checks, the target's decoding), and
// what handlers then ask of the Request. Properties: never a crash; a request
// is either accepted or refused with 400/413/431; an accepted one has a
// method, an origin-form target and a path without its query.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "http/request.h"
#include "http/server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  static const config::HttpConfig limits = [] {
    config::HttpConfig c;
    c.max_header_bytes = 8 * 1024;
    c.max_body_bytes = 64 * 1024;
    return c;
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const http::ParsedRequest parsed = http::ParseRequest(bytes, limits);
  if (!parsed.complete) {
    FUZZ_CHECK(!parsed.request && parsed.status == 0);
    return 0;
  }
  if (!parsed.request) {
    FUZZ_CHECK(parsed.status == 400 || parsed.status == 413 || parsed.status == 431);
    FUZZ_CHECK(!parsed.error.empty());
    return 0;
  }
  const http::Request& r = *parsed.request;
  FUZZ_CHECK(!r.method.empty());
  FUZZ_CHECK(r.version == 10 || r.version == 11);
  FUZZ_CHECK(r.body.size() <= limits.max_body_bytes);
  FUZZ_CHECK(http::OriginForm(r.target) == r.target);  // already origin-form
  (void)r.Header("authorization");
  (void)r.Header("last-event-id");
  (void)r.Query("token");
  (void)r.Query("last_event_id");
  (void)r.Cookie("auth_token");
  // The query decodes the same however often it is asked.
  const size_t q = r.target.find('?');
  if (q != std::string::npos)
    FUZZ_CHECK(http::ParseQuery(std::string_view(r.target).substr(q + 1)) == r.query);
  return 0;
}
