#pragma once
// A small robots.txt evaluator following RFC 9309: groups of rules by
// User-agent, Allow and Disallow with longest-match precedence (Allow wins a
// tie), `*` matching any run of characters and `$` anchoring a rule to the end
// of the path. Crawl-delay is read per group; other lines it does not know
// (Sitemap, Host) are ignored.
//
// Pure functions; safe to call from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::audit {

// True when `agent` may fetch `path` under `robots_txt`.
//
// `agent` is a product token ("HeraldAudit") or a full user-agent string
// ("HeraldAudit/1.0"); only its product token is compared, case-insensitively,
// with the product token of each User-agent line. Rules of every group naming
// the agent apply; if none does, the rules of the `*` groups apply; if there
// are none, everything is allowed. `path` is the percent-encoded path with an
// optional query ("/a/b?c=d"); "" means "/". /robots.txt itself is always
// allowed.
bool IsAllowed(std::string_view robots_txt, std::string_view agent, std::string_view path);

// The same, parsed once: for checking many paths against one file.
class RobotsTxt {
 public:
  explicit RobotsTxt(std::string_view robots_txt);
  bool IsAllowed(std::string_view agent, std::string_view path) const;
  // Crawl-delay in seconds from the agent's group, else from a `*` group;
  // nullopt when none says (or the value is not a number).
  std::optional<double> CrawlDelay(std::string_view agent) const;

 private:
  struct Rule {
    bool allow = false;
    std::string pattern;
  };
  struct Group {
    std::vector<std::string> agents;  // lower-case product tokens, or "*"
    std::vector<Rule> rules;
    std::optional<double> crawl_delay;
  };
  std::vector<Group> groups_;
};

}  // namespace herald::audit
