#pragma once
// What an audit finds: one problem on one page (or the whole site), how bad
// it is, and how to fix it. Shared by the checks, the score and the report.

#include <string>
#include <string_view>
#include <vector>

namespace herald::audit {

enum class Severity { kCritical, kHigh, kMedium, kLow };
std::string_view ToString(Severity severity);

struct Finding {
  std::string check_id;  // stable, e.g. "title.missing", "robots.blocks_gptbot"
  Severity severity = Severity::kLow;
  std::string page;      // the page's URL, or "" for a site-wide finding
  std::string message;   // what is wrong, for a person
  std::string fix;       // how to fix it
};

}  // namespace herald::audit
