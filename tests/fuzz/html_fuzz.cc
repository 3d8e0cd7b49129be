// HTML analysis (libxml2's HTML parser and the GEO checks) on a page the
// audited site controls. Input: the page's bytes. Properties: never a
// crash; counts are consistent (images without alt <= images); every
// internal link is absolute on the page's host; findings have a check id.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/analysis.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  audit::FetchedPage page;
  page.url = page.final_url = "https://site.example/docs/page.html";
  page.status = 200;
  page.content_type = "text/html; charset=utf-8";
  page.body.assign(reinterpret_cast<const char*>(data), size);
  page.bytes = size;
  const audit::PageFacts facts = audit::AnalyzeHtml(page);
  FUZZ_CHECK(facts.images_without_alt <= facts.images);
  FUZZ_CHECK(facts.h1_count >= 0 && facts.word_count >= 0 && facts.jsonld_invalid >= 0);
  for (int level : facts.heading_levels) FUZZ_CHECK(level >= 1 && level <= 6);
  for (const std::string& link : facts.internal_links) {
    const std::string_view rest = std::string_view(link).substr(link.find("://") + 3);
    FUZZ_CHECK(link.rfind("https://", 0) == 0 || link.rfind("http://", 0) == 0);
    FUZZ_CHECK(rest.rfind("site.example/", 0) == 0 ||
               rest.rfind("site.example:", 0) == 0);  // same host
    FUZZ_CHECK(link.find('#') == std::string::npos);
  }
  for (const audit::Finding& finding : audit::CheckPage(facts, page))
    FUZZ_CHECK(!finding.check_id.empty());
  return 0;
}
