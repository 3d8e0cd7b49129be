#include "audit/robots.h"

#include <gtest/gtest.h>

namespace herald::audit {
namespace {

TEST(RobotsTest, EmptyFileAllowsEverything) {
  EXPECT_TRUE(IsAllowed("", "HeraldAudit", "/"));
  EXPECT_TRUE(IsAllowed("# only a comment\n", "HeraldAudit", "/a/b"));
}

TEST(RobotsTest, UsesTheGroupNamingTheAgentOverTheStarGroup) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow: /\n"
      "\n"
      "User-agent: HeraldAudit\n"
      "Disallow: /private/\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/index.html"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/private/x.html"));
  EXPECT_FALSE(IsAllowed(kRobots, "OtherBot", "/index.html"));
}

TEST(RobotsTest, FallsBackToTheStarGroup) {
  constexpr std::string_view kRobots =
      "User-agent: GPTBot\n"
      "Disallow: /\n"
      "\n"
      "User-agent: *\n"
      "Disallow: /private/\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/about.html"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/private/secret.html"));
}

TEST(RobotsTest, BlocksGptBotButNotOthers) {
  constexpr std::string_view kRobots =
      "User-agent: GPTBot\n"
      "Disallow: /\n"
      "\n"
      "User-agent: *\n"
      "Allow: /\n";
  EXPECT_FALSE(IsAllowed(kRobots, "GPTBot", "/"));
  EXPECT_FALSE(IsAllowed(kRobots, "GPTBot/1.2 (+https://openai.com/gptbot)", "/blog/post.html"));
  EXPECT_TRUE(IsAllowed(kRobots, "ClaudeBot", "/"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/blog/post.html"));
}

TEST(RobotsTest, ConsecutiveUserAgentLinesShareOneGroup) {
  constexpr std::string_view kRobots =
      "User-agent: GPTBot\n"
      "User-agent: CCBot\n"
      "Disallow: /\n"
      "User-agent: Google-Extended\n"  // after a rule: a new group
      "Disallow: /drafts/\n";
  EXPECT_FALSE(IsAllowed(kRobots, "GPTBot", "/x"));
  EXPECT_FALSE(IsAllowed(kRobots, "CCBot", "/x"));
  EXPECT_TRUE(IsAllowed(kRobots, "Google-Extended", "/x"));
  EXPECT_FALSE(IsAllowed(kRobots, "Google-Extended", "/drafts/a"));
}

TEST(RobotsTest, GroupsNamingTheSameAgentAreCombined) {
  constexpr std::string_view kRobots =
      "User-agent: HeraldAudit\n"
      "Disallow: /a/\n"
      "User-agent: *\n"
      "Disallow: /c/\n"
      "User-agent: heraldaudit\n"
      "Disallow: /b/\n";
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/a/1"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/b/1"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/c/1"));
}

TEST(RobotsTest, AgentMatchingIsCaseInsensitiveOnTheProductToken) {
  constexpr std::string_view kRobots =
      "user-agent: heraldaudit/2.0\n"
      "DISALLOW: /x\n";
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/x"));
  EXPECT_FALSE(IsAllowed(kRobots, "HERALDAUDIT/1.0", "/x/y"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAuditor", "/x"));  // a different token
}

TEST(RobotsTest, LongestMatchWins) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow: /shop/\n"
      "Allow: /shop/public/\n"
      "Disallow: /shop/public/drafts/\n";
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/shop/cart"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/shop/public/item"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/shop/public/drafts/1"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/home"));
}

TEST(RobotsTest, AllowBeatsDisallowAtEqualLength) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow: /page\n"
      "Allow: /page\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/page"));
  constexpr std::string_view kReversed =
      "User-agent: *\n"
      "Allow: /page\n"
      "Disallow: /page\n";
  EXPECT_TRUE(IsAllowed(kReversed, "HeraldAudit", "/page"));
}

TEST(RobotsTest, DollarAnchorsTheEnd) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow: /*.pdf$\n"
      "Disallow: /exact$\n";
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/files/report.pdf"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/files/report.pdf?download=1"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/files/report.pdfx"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/exact"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/exact/more"));
}

TEST(RobotsTest, StarMatchesAnyRun) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow: /*/secret\n"
      "Disallow: /*?session=\n";
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/a/secret"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/a/b/c/secret-plans"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/secret"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/list?session=42"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/list?page=2"));
}

TEST(RobotsTest, EmptyDisallowAllowsAll) {
  constexpr std::string_view kRobots =
      "User-agent: *\n"
      "Disallow:\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/anything/at/all"));
}

TEST(RobotsTest, AgentGroupWithoutRulesAllowsAllAndIgnoresStar) {
  constexpr std::string_view kRobots =
      "User-agent: HeraldAudit\n"
      "Disallow:\n"
      "\n"
      "User-agent: *\n"
      "Disallow: /\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/x"));
  EXPECT_FALSE(IsAllowed(kRobots, "Other", "/x"));
}

TEST(RobotsTest, IgnoresCommentsCrLfUnknownLinesAndRulesBeforeAnyGroup) {
  constexpr std::string_view kRobots =
      "\xEF\xBB\xBF"
      "Disallow: /orphan\r\n"
      "Sitemap: https://example.com/sitemap.xml\r\n"
      "User-agent: * # everyone\r\n"
      "Crawl-delay: 10\r\n"
      "Disallow: /tmp/ # scratch\r\n";
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/orphan"));
  EXPECT_FALSE(IsAllowed(kRobots, "HeraldAudit", "/tmp/x"));
  EXPECT_TRUE(IsAllowed(kRobots, "HeraldAudit", "/tmp"));
}

TEST(RobotsTest, RobotsTxtItselfIsAlwaysAllowed) {
  EXPECT_TRUE(IsAllowed("User-agent: *\nDisallow: /\n", "HeraldAudit", "/robots.txt"));
  EXPECT_FALSE(IsAllowed("User-agent: *\nDisallow: /\n", "HeraldAudit", ""));
}

TEST(RobotsTest, ParsedOnceGivesTheSameAnswers) {
  RobotsTxt robots("User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n");
  EXPECT_FALSE(robots.IsAllowed("GPTBot", "/"));
  EXPECT_TRUE(robots.IsAllowed("HeraldAudit", "/"));
  EXPECT_FALSE(robots.IsAllowed("HeraldAudit", "/private/a"));
  EXPECT_TRUE(RobotsTxt("").IsAllowed("HeraldAudit", "/anything"));
}

TEST(RobotsTest, CrawlDelayOfTheAgentsGroupElseStar) {
  RobotsTxt robots(
      "User-agent: *\nCrawl-delay: 2\nDisallow: /x\n\n"
      "User-agent: HeraldAudit\nCrawl-delay: 0.5\nAllow: /\n\n"
      "User-agent: Other\nCrawl-delay: abc\n");
  EXPECT_EQ(robots.CrawlDelay("HeraldAudit/1.0"), 0.5);
  EXPECT_EQ(robots.CrawlDelay("SomeBot"), 2);
  EXPECT_EQ(robots.CrawlDelay("Other"), 2) << "a value that is not a number is no delay";
  EXPECT_FALSE(RobotsTxt("User-agent: *\nDisallow:\n").CrawlDelay("HeraldAudit"));
  EXPECT_FALSE(RobotsTxt("").CrawlDelay("HeraldAudit"));
  // Crawl-delay does not change what is allowed.
  EXPECT_TRUE(robots.IsAllowed("HeraldAudit", "/x"));
  EXPECT_FALSE(robots.IsAllowed("SomeBot", "/x"));
}

}  // namespace
}  // namespace herald::audit
