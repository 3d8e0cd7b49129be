// robots.txt evaluation (RFC 9309) and the robots.txt and llms.txt
// validators on files the audited site controls. Input: robots.txt \0 user
// agent \0 path. Properties: never a crash, no runaway matching
// (libFuzzer's -timeout catches a pathological `*` rule), /robots.txt
// itself always allowed, an empty file allows everything, the same question
// gets the same answer; the validators report at most 20 findings, each
// with evidence of at most ~200 bytes and a line within the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/llms_txt_check.h"
#include "audit/robots.h"
#include "audit/robots_txt_check.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const auto f = fuzz::Fields(data, size, 3);
  const bool allowed = audit::IsAllowed(f[0], f[1], f[2]);
  FUZZ_CHECK(allowed == audit::IsAllowed(f[0], f[1], f[2]));
  FUZZ_CHECK(audit::IsAllowed(f[0], f[1], "/robots.txt"));
  FUZZ_CHECK(audit::IsAllowed("", f[1], f[2]));
  (void)audit::IsAllowed(f[0], "HeraldAudit/1.0", f[2]);
  (void)audit::RobotsTxt(f[0]).CrawlDelay(f[1]);

  audit::SiteFile file;
  file.status = 200;
  file.body = std::string(f[0]);
  const auto lines = static_cast<int>(std::count(file.body.begin(), file.body.end(), '\n') +
                                      std::count(file.body.begin(), file.body.end(), '\r') + 1);
  for (const auto& findings : {audit::CheckRobotsTxtSyntax(file, "https://example.com/"),
                               audit::CheckLlmsTxtFormat(file, "https://example.com/")}) {
    FUZZ_CHECK(findings.size() <= 20);
    for (const audit::Finding& finding : findings) {
      FUZZ_CHECK(finding.evidence.size() <= 256);
      FUZZ_CHECK(finding.line >= 0 && finding.line <= lines);
    }
  }
  return 0;
}
