#include "audit/robots.h"

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

namespace herald::audit {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 9309 §2.2.1: the product token is the leading run of letters, '_' and
// '-' ("HeraldAudit/1.0 (+https://...)" → "heraldaudit").
std::string ProductToken(std::string_view s) {
  s = Trim(s);
  std::size_t n = 0;
  while (n < s.size() &&
         (std::isalpha(static_cast<unsigned char>(s[n])) || s[n] == '_' || s[n] == '-')) {
    ++n;
  }
  return Lower(s.substr(0, n));
}

}  // namespace

RobotsTxt::RobotsTxt(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM
  std::vector<Group>& groups = groups_;
  // Consecutive User-agent lines share one group; the first rule closes the
  // run, so a User-agent line after a rule starts a new group.
  bool in_agent_run = false;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (!in_agent_run) groups.emplace_back();
      in_agent_run = true;
      std::string agent = value == "*" ? std::string("*") : ProductToken(value);
      if (!agent.empty()) groups.back().agents.push_back(std::move(agent));
    } else if (key == "crawl-delay") {
      // Not in RFC 9309, but widely used; the group's first valid value.
      in_agent_run = false;
      if (groups.empty() || groups.back().crawl_delay) continue;
      double seconds = 0;
      std::string text_value(value);
      char* end = nullptr;
      seconds = std::strtod(text_value.c_str(), &end);
      if (end != text_value.c_str() && *end == '\0' && seconds >= 0 && seconds < 1e9) {
        groups.back().crawl_delay = seconds;
      }
    } else if (key == "allow" || key == "disallow") {
      in_agent_run = false;
      if (groups.empty()) continue;  // rules before any User-agent line
      // An empty Disallow matches nothing, i.e. allows everything (§2.2.2).
      if (value.empty()) continue;
      groups.back().rules.push_back(Rule{key == "allow", std::string(value)});
    }
  }
}

namespace {

// Whether `pattern` matches a prefix of `path` (all of it when the pattern
// ends in '$'). '*' matches any run of characters, including none. Greedy with
// backtracking to the last '*': linear in practice, O(n·m) at worst.
bool Matches(std::string_view pattern, std::string_view path) {
  bool anchored = !pattern.empty() && pattern.back() == '$';
  if (anchored) pattern.remove_suffix(1);
  std::size_t p = 0, s = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (s < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (!anchored && p == pattern.size()) {
      return true;  // the whole pattern matched a prefix
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool IsAllowed(std::string_view robots_txt, std::string_view agent, std::string_view path) {
  return RobotsTxt(robots_txt).IsAllowed(agent, path);
}

std::optional<double> RobotsTxt::CrawlDelay(std::string_view agent) const {
  const std::string token = ProductToken(agent);
  auto names = [](const Group& g, std::string_view who) {
    for (const std::string& a : g.agents) {
      if (a == who) return true;
    }
    return false;
  };
  std::optional<double> any;
  for (const Group& g : groups_) {
    if (!token.empty() && names(g, token) && g.crawl_delay) return g.crawl_delay;
    if (!any && names(g, "*")) any = g.crawl_delay;
  }
  return any;
}

bool RobotsTxt::IsAllowed(std::string_view agent, std::string_view path) const {
  if (path.empty()) path = "/";
  if (path == "/robots.txt") return true;
  const std::vector<Group>& groups = groups_;
  std::string token = ProductToken(agent);

  // The agent's own groups, combined; only when it has none, the `*` groups.
  auto names = [](const Group& g, std::string_view who) {
    for (const std::string& a : g.agents) {
      if (a == who) return true;
    }
    return false;
  };
  bool named = false;
  for (const Group& g : groups) named = named || (!token.empty() && names(g, token));
  std::vector<const Rule*> rules;
  for (const Group& g : groups) {
    if (named ? names(g, token) : names(g, "*")) {
      for (const Rule& r : g.rules) rules.push_back(&r);
    }
  }

  // Longest match wins; at equal length Allow wins (§2.2.2).
  std::size_t best_length = 0;
  bool matched = false;
  bool allow = true;
  for (const Rule* r : rules) {
    if (!Matches(r->pattern, path)) continue;
    std::size_t length = r->pattern.size();
    if (!matched || length > best_length || (length == best_length && r->allow && !allow)) {
      matched = true;
      best_length = length;
      allow = r->allow;
    }
  }
  return allow;
}

}  // namespace herald::audit
