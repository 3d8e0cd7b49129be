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
  std::string page;     // the page's URL, or "" for a site-wide finding
  std::string message;  // what is wrong, for a person
  std::string fix;      // how to fix it
  // What shows it, quoted from the site: the element (`<img src="a.png">`),
  // the robots.txt or llms.txt line, the JSON-LD parse error with its
  // position. At most ~200 bytes; "" when the finding is an absence (no
  // title) that nothing on the page can show.
  std::string evidence{};
  int line = 0;  // 1-based line of `evidence` in its file; 0: unknown
  // A site-wide finding that stands for the same problem on many pages
  // lists them here (`page` is then ""), so it is reported once.
  std::vector<std::string> pages{};
};

}  // namespace herald::audit
