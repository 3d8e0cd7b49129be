#include "audit/robots_txt_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fixture_files.h"

namespace herald::audit {
namespace {

constexpr std::string_view kSite = "https://www.example.com/";

std::string ReadFixture(std::string_view name) { return test::ReadFixture("robots", name); }

std::vector<Finding> Check(std::string body, std::string_view site = kSite) {
  return CheckRobotsTxtSyntax(SiteFile{200, std::move(body), ""}, site);
}

// One robots_txt.invalid finding, exactly.
void ExpectInvalid(const Finding& f, int line, std::string_view message,
                   std::string_view evidence) {
  EXPECT_EQ(f.check_id, "robots_txt.invalid");
  EXPECT_EQ(f.severity, Severity::kMedium);
  EXPECT_EQ(f.page, "");
  EXPECT_EQ(f.line, line);
  EXPECT_EQ(f.message, message);
  EXPECT_EQ(f.evidence, evidence);
  EXPECT_FALSE(f.fix.empty());
  EXPECT_TRUE(f.pages.empty());
}

// The one finding for a one-rule file under "User-agent: *" (its line 2).
Finding OnlyFinding(std::string_view rule) {
  std::vector<Finding> findings = Check("User-agent: *\n" + std::string(rule) + "\n");
  EXPECT_EQ(findings.size(), 1u) << rule;
  return findings.empty() ? Finding{} : findings[0];
}

TEST(RobotsTxtCheckTest, ARealisticValidFileHasNoFindings) {
  constexpr std::string_view kRobots =
      "# https://www.example.com/robots.txt\n"
      "User-agent: *\n"
      "Disallow: /search\n"
      "Disallow: /*?utm_*\n"
      "Disallow: /*.pdf$   # no PDFs\n"
      "Allow: /search/about\n"
      "Allow: *.css$\n"
      "Crawl-delay: 1.5\n"
      "\n"
      "User-agent: GPTBot\n"
      "User-agent: ClaudeBot\n"
      "Disallow:\n"
      "\n"
      "Request-rate: 1/5\n"
      "Visit-time: 0600-0845\n"
      "Noindex: /tmp/\n"
      "Sitemap: https://www.example.com/sitemap_index.xml\n"
      "Sitemap: http://www.example.com/old-sitemap.xml\n"
      "Sitemap: ftp://ftp.example.com/sitemap.xml\n";
  EXPECT_TRUE(Check(std::string(kRobots)).empty());
}

TEST(RobotsTxtCheckTest, TheValidFixtureHasNoFindings) {
  const std::string robots = ReadFixture("valid.txt");
  ASSERT_FALSE(robots.empty());
  std::vector<Finding> findings = Check(robots);
  for (const Finding& f : findings) ADD_FAILURE() << f.line << ": " << f.message;
}

// tests/fixtures/robots/README.md lists the same findings.
TEST(RobotsTxtCheckTest, TheInvalidFixtureHasOneFindingPerBadLine) {
  const std::string robots = ReadFixture("invalid.txt");
  ASSERT_FALSE(robots.empty());
  const std::vector<Finding> f = Check(robots);
  ASSERT_EQ(f.size(), 14u);
  ExpectInvalid(f[0], 2,
                "robots.txt line 2: no user-agent specified: the Disallow rule comes before any "
                "User-agent line, so it applies to no crawler.",
                "Disallow: /before-any-group");
  ExpectInvalid(f[1], 3,
                "robots.txt line 3: no user-agent specified: the User-agent line has no value.",
                "User-agent:");
  ExpectInvalid(f[2], 4,
                "robots.txt line 4: no user-agent specified: the Allow rule comes before any "
                "User-agent line, so it applies to no crawler.",
                "Allow: /still-no-group");
  ExpectInvalid(f[3], 6,
                "robots.txt line 6: syntax not understood: a robots.txt line is \"Directive: "
                "value\", and this one has no colon.",
                "Disallow /private/");
  EXPECT_EQ(f[3].fix, "Add the colon: \"Disallow: /private/\".");
  ExpectInvalid(f[4], 7,
                "robots.txt line 7: unknown directive \"Dissallow\" (did you mean Disallow?).",
                "Dissallow: /tmp/");
  EXPECT_EQ(f[4].fix, "Write \"Disallow: /tmp/\".");
  ExpectInvalid(f[5], 8, "robots.txt line 8: unknown directive \"Content-Signal\".",
                "Content-Signal: search=yes, ai-train=no");
  ExpectInvalid(f[6], 9,
                "robots.txt line 9: the Disallow pattern \"private/\" must be empty or start with "
                "\"/\" or \"*\".",
                "Disallow: private/");
  EXPECT_EQ(f[6].fix, "Write the URL path from its leading slash: \"Disallow: /private/\".");
  ExpectInvalid(f[7], 10,
                "robots.txt line 10: the Allow pattern \"https://www.example.com/blog/\" must be "
                "empty or start with \"/\" or \"*\".",
                "Allow: https://www.example.com/blog/");
  EXPECT_EQ(f[7].fix, "Write the URL path from its leading slash: \"Allow: /blog/\".");
  ExpectInvalid(f[8], 11,
                "robots.txt line 11: \"$\" may only end a pattern, and the Disallow pattern "
                "\"/price$list\" has it elsewhere.",
                "Disallow: /price$list");
  ExpectInvalid(f[9], 13,
                "robots.txt line 13: the Sitemap URL must be absolute "
                "(https://www.example.com/sitemap.xml), not /sitemap.xml",
                "Sitemap: /sitemap.xml");
  EXPECT_EQ(f[9].fix, "Write \"Sitemap: https://www.example.com/sitemap.xml\".");
  ExpectInvalid(f[10], 14,
                "robots.txt line 14: the Sitemap URL must use http, https or ftp, not \"mailto:\": "
                "mailto:webmaster@example.com",
                "Sitemap: mailto:webmaster@example.com");
  ExpectInvalid(f[11], 15,
                "robots.txt line 15: the Sitemap URL is not a valid URL: "
                "https://exa mple.com/sitemap.xml",
                "Sitemap: https://exa mple.com/sitemap.xml");
  ExpectInvalid(f[12], 16, "robots.txt line 16: the Sitemap line has no URL.", "Sitemap:");
  EXPECT_EQ(f[12].fix, "Write \"Sitemap: https://www.example.com/sitemap.xml\".");
  ExpectInvalid(f[13], 17,
                "robots.txt line 17: syntax not understood: a robots.txt line is \"Directive: "
                "value\", and this one has no colon.",
                "just some words");
}

// ---------------------------------------------------------------------------
// When the file is judged.

TEST(RobotsTxtCheckTest, AServerErrorIsOneHighFinding) {
  for (int status : {500, 503, 599}) {
    const std::vector<Finding> f =
        CheckRobotsTxtSyntax(SiteFile{status, "Disallow /oops\n", ""}, kSite);
    ASSERT_EQ(f.size(), 1u) << status;
    EXPECT_EQ(f[0].check_id, "robots_txt.server_error");
    EXPECT_EQ(f[0].severity, Severity::kHigh);
    EXPECT_EQ(f[0].page, "");
    EXPECT_EQ(f[0].message, "Request for robots.txt returned HTTP status " +
                                std::to_string(status) +
                                ": crawlers that get a server error for robots.txt treat the "
                                "whole site as off limits.");
    EXPECT_EQ(f[0].evidence, "");
    EXPECT_EQ(f[0].line, 0);
    EXPECT_FALSE(f[0].fix.empty());
  }
}

TEST(RobotsTxtCheckTest, NoFileOrNoResponseIsLeftToTheSiteChecks) {
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{404, "Not found", ""}, kSite).empty());
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{403, "Forbidden", ""}, kSite).empty());
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{429, "Slow down", ""}, kSite).empty());
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{0, "", "connection refused"}, kSite).empty());
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{200, "", "timed out"}, kSite).empty());
  EXPECT_TRUE(CheckRobotsTxtSyntax(SiteFile{}, kSite).empty());
  EXPECT_TRUE(Check("").empty());  // Lighthouse: not applicable
}

TEST(RobotsTxtCheckTest, AnHtmlPageIsASoft404AndNotJudged) {
  EXPECT_TRUE(Check("<!DOCTYPE html>\n<html><body>Page not found</body></html>\n").empty());
  EXPECT_TRUE(Check("\xEF\xBB\xBF\n  <html lang=\"en\">\n<p>Oops</p>\n</html>").empty());
  // Markup that does not start the body is judged.
  EXPECT_EQ(Check("User-agent: *\n<html>\n").size(), 1u);
}

// ---------------------------------------------------------------------------
// Each rule.

TEST(RobotsTxtCheckTest, ALineWithoutAColonIsNotUnderstood) {
  std::vector<Finding> f = Check("User-agent: *\nDisallow /a\nthis is not a rule\n");
  ASSERT_EQ(f.size(), 2u);
  ExpectInvalid(f[0], 2,
                "robots.txt line 2: syntax not understood: a robots.txt line is \"Directive: "
                "value\", and this one has no colon.",
                "Disallow /a");
  EXPECT_EQ(f[0].fix, "Add the colon: \"Disallow: /a\".");
  ExpectInvalid(f[1], 3,
                "robots.txt line 3: syntax not understood: a robots.txt line is \"Directive: "
                "value\", and this one has no colon.",
                "this is not a rule");
  EXPECT_EQ(f[1].fix,
            "Write the line as \"Directive: value\" (\"Disallow: /private/\"), or start it with "
            "# to make it a comment.");
  // The comment goes first: "Disallow # /x: y" has no colon left.
  f = Check("User-agent: * \nDisallow # /x: y\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].line, 2);
}

TEST(RobotsTxtCheckTest, UnknownDirectivesAreNamedWithTheLikelyOne) {
  Finding f = OnlyFinding("Useragent: GPTBot");
  ExpectInvalid(f, 2,
                "robots.txt line 2: unknown directive \"Useragent\" (did you mean User-agent?).",
                "Useragent: GPTBot");
  EXPECT_EQ(f.fix, "Write \"User-agent: GPTBot\".");

  f = OnlyFinding("Site-map: https://www.example.com/sitemap.xml");
  EXPECT_EQ(f.message,
            "robots.txt line 2: unknown directive \"Site-map\" (did you mean Sitemap?).");

  f = OnlyFinding("Cache: no");
  ExpectInvalid(f, 2, "robots.txt line 2: unknown directive \"Cache\".", "Cache: no");
  EXPECT_EQ(f.fix,
            "Remove the line or make it a comment (# ...). Crawlers read User-agent, Allow, "
            "Disallow and Sitemap; Lighthouse also accepts Crawl-delay, Clean-param, Host, "
            "Request-rate, Visit-time and Noindex.");

  // Lighthouse 12 does not know these; later versions do.
  f = OnlyFinding("Content-Signal: ai-train=no");
  EXPECT_EQ(f.message, "robots.txt line 2: unknown directive \"Content-Signal\".");
  EXPECT_EQ(f.fix,
            "Lighthouse 12 does not know \"Content-Signal\" (newer Lighthouse versions accept "
            "it); crawlers that do not know it ignore the line. Keep it if you use it, or remove "
            "it to pass Lighthouse 12.");
  EXPECT_EQ(OnlyFinding("License: https://www.example.com/license.xml").message,
            "robots.txt line 2: unknown directive \"License\".");

  // ":" alone: the name is empty, which is not a directive either.
  EXPECT_EQ(OnlyFinding(": /x").message, "robots.txt line 2: unknown directive \"\".");
}

TEST(RobotsTxtCheckTest, DirectiveNamesAreCaseInsensitiveAndSpacesAroundThemIgnored) {
  EXPECT_TRUE(Check("USER-AGENT: *\ndisallow: /a\n  AlLoW :  /b  \nSITEMAP: "
                    "https://www.example.com/s.xml\nCRAWL-DELAY: 3\nclean-param: a\nHOST: x\n")
                  .empty());
}

TEST(RobotsTxtCheckTest, AUserAgentLineNeedsAValue) {
  std::vector<Finding> f = Check("User-agent:   # nobody\nDisallow: /\n");
  ASSERT_EQ(f.size(), 2u);
  ExpectInvalid(f[0], 1,
                "robots.txt line 1: no user-agent specified: the User-agent line has no value.",
                "User-agent:   # nobody");
  EXPECT_EQ(f[0].fix,
            "Name the crawler the group is for (\"User-agent: GPTBot\"), or write \"User-agent: "
            "*\" for all crawlers.");
  // The empty User-agent line opens no group (as in Lighthouse).
  ExpectInvalid(f[1], 2,
                "robots.txt line 2: no user-agent specified: the Disallow rule comes before any "
                "User-agent line, so it applies to no crawler.",
                "Disallow: /");
}

TEST(RobotsTxtCheckTest, RulesBeforeAnyUserAgentBelongToNoGroup) {
  std::vector<Finding> f = Check(
      "Sitemap: https://www.example.com/sitemap.xml\n"
      "Crawl-delay: 5\n"
      "Allow: /public/\n"
      "User-agent: *\n"
      "Disallow: /private/\n");
  ASSERT_EQ(f.size(), 1u);
  ExpectInvalid(f[0], 3,
                "robots.txt line 3: no user-agent specified: the Allow rule comes before any "
                "User-agent line, so it applies to no crawler.",
                "Allow: /public/");
  EXPECT_EQ(f[0].fix,
            "Put \"User-agent: *\" (or a crawler's name, e.g. \"User-agent: GPTBot\") on a line "
            "above it.");
  // As in Lighthouse, a group once opened stays open: blank lines, Sitemap
  // lines and other directives do not close it.
  EXPECT_TRUE(
      Check("User-agent: *\n\nSitemap: https://www.example.com/s.xml\n\nDisallow: /x\n").empty());
}

TEST(RobotsTxtCheckTest, APatternIsEmptyOrStartsWithSlashOrStar) {
  EXPECT_TRUE(Check("User-agent: *\nDisallow:\nAllow:\nDisallow: /\nAllow: *.css\n").empty());

  Finding f = OnlyFinding("Disallow: admin");
  ExpectInvalid(f, 2,
                "robots.txt line 2: the Disallow pattern \"admin\" must be empty or start with "
                "\"/\" or \"*\".",
                "Disallow: admin");
  EXPECT_EQ(f.fix, "Write the URL path from its leading slash: \"Disallow: /admin\".");

  f = OnlyFinding("Allow: https://www.example.com/search?q=1");
  EXPECT_EQ(f.fix, "Write the URL path from its leading slash: \"Allow: /search?q=1\".");
  f = OnlyFinding("Disallow: https://www.example.com");
  EXPECT_EQ(f.fix, "Write the URL path from its leading slash: \"Disallow: /\".");

  // A '$' that is the whole pattern breaks the first rule, not the second.
  EXPECT_EQ(OnlyFinding("Disallow: $").message,
            "robots.txt line 2: the Disallow pattern \"$\" must be empty or start with \"/\" or "
            "\"*\".");
}

TEST(RobotsTxtCheckTest, DollarOnlyEndsAPattern) {
  EXPECT_TRUE(Check("User-agent: *\nDisallow: /*.php$\nAllow: /$\nDisallow: *$\n").empty());

  Finding f = OnlyFinding("Disallow: /*.php$?print=1");
  ExpectInvalid(f, 2,
                "robots.txt line 2: \"$\" may only end a pattern, and the Disallow pattern "
                "\"/*.php$?print=1\" has it elsewhere.",
                "Disallow: /*.php$?print=1");
  EXPECT_EQ(f.fix,
            "\"$\" anchors a rule to the end of the URL (\"Disallow: /*.pdf$\"). Remove the "
            "misplaced \"$\", or write a literal \"$\" as %24: \"Disallow: /*.php%24?print=1\".");
  EXPECT_EQ(OnlyFinding("Allow: /a$b$").fix,
            "\"$\" anchors a rule to the end of the URL (\"Allow: /*.pdf$\"). Remove the "
            "misplaced \"$\", or write a literal \"$\" as %24: \"Allow: /a%24b$\".");
  // A '$' in a comment is not in the pattern.
  EXPECT_TRUE(Check("User-agent: *\nDisallow: /a # costs $5\n").empty());
}

TEST(RobotsTxtCheckTest, ARelativeSitemapGetsTheAbsoluteUrlToWrite) {
  struct Case {
    std::string_view value, absolute;
  };
  for (const Case& c :
       {Case{"/sitemap.xml", "https://www.example.com/sitemap.xml"},
        Case{"sitemap.xml", "https://www.example.com/sitemap.xml"},
        Case{"/maps/../sitemap.xml?v=2", "https://www.example.com/sitemap.xml?v=2"},
        Case{"www.example.com/sitemap.xml", "https://www.example.com/sitemap.xml"},
        Case{"example.com/sitemap.xml", "https://example.com/sitemap.xml"},
        Case{"//cdn.example.com/sitemap.xml", "https://cdn.example.com/sitemap.xml"},
        Case{"https//www.example.com/s.xml", "https://www.example.com/s.xml"}}) {
    const std::string line = "Sitemap: " + std::string(c.value);
    std::vector<Finding> f = Check(line + "\n");
    ASSERT_EQ(f.size(), 1u) << c.value;
    ExpectInvalid(f[0], 1,
                  "robots.txt line 1: the Sitemap URL must be absolute (" +
                      std::string(c.absolute) + "), not " + std::string(c.value),
                  line);
    EXPECT_EQ(f[0].fix, "Write \"Sitemap: " + std::string(c.absolute) + "\".");
  }
  // The site's port is kept.
  std::vector<Finding> f = Check("Sitemap: /s.xml\n", "http://shop.example:8080/a/b?c");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].fix, "Write \"Sitemap: http://shop.example:8080/s.xml\".");
  // Without a usable site URL there is nothing to resolve against.
  f = Check("Sitemap: /sitemap.xml\n", "");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "robots.txt line 1: the Sitemap URL must be absolute, not /sitemap.xml");
  EXPECT_EQ(f[0].fix, "Write \"Sitemap: https://example.com/sitemap.xml\".");
}

TEST(RobotsTxtCheckTest, ASitemapUrlUsesHttpHttpsOrFtp) {
  for (std::string_view value : {"mailto:webmaster@example.com", "file:///var/www/sitemap.xml",
                                 "ws://example.com/s.xml", "urn:isbn:0451450523"}) {
    std::vector<Finding> f = Check("Sitemap: " + std::string(value) + "\n");
    ASSERT_EQ(f.size(), 1u) << value;
    const std::string scheme(value.substr(0, value.find(':')));
    EXPECT_EQ(f[0].message,
              "robots.txt line 1: the Sitemap URL must use http, https or ftp, not "
              "\"" +
                  scheme + ":\": " + std::string(value));
    EXPECT_EQ(f[0].fix, "Write \"Sitemap: https://www.example.com/sitemap.xml\".");
  }
  // "host:port/path" parses with the scheme "host"; it is a missing scheme.
  std::vector<Finding> f = Check("Sitemap: www.example.com:8080/sitemap.xml\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message,
            "robots.txt line 1: the Sitemap URL must be absolute "
            "(https://www.example.com:8080/sitemap.xml), not www.example.com:8080/sitemap.xml");
}

TEST(RobotsTxtCheckTest, ASitemapUrlIsJudgedAsBrowsersParseUrls) {
  // Accepted by the WHATWG URL parser (Lighthouse's `new URL(value)`).
  for (std::string_view value : {
           "HTTPS://WWW.EXAMPLE.COM/Sitemap.xml",
           "https:www.example.com/sitemap.xml",  // special schemes need no "//"
           "https:\\\\www.example.com\\maps\\sitemap.xml",
           "https://www.example.com/site map.xml",  // encoded by the parser
           "https://www.example.com/sitemap.xml?from=2024-01-01&lang=en",
           "https://www.example.com:8443/sitemap.xml",
           "https://www.example.com:/sitemap.xml",
           "https://bücher.example/sitemap.xml",
           "https://www.example.com/über/sitemap.xml",
           "https://www.example.com/100%/sitemap.xml",
           "https://192.0.2.1/sitemap.xml",
           "http://127.1/sitemap.xml",
           "https://[2001:db8::1]/sitemap.xml",
           "https://user:pass@www.example.com/sitemap.xml",
           "ftp://ftp.example.com/pub/sitemap.xml.gz",
       }) {
    EXPECT_TRUE(Check("Sitemap: " + std::string(value) + "\n").empty()) << value;
  }
  // Rejected by it.
  for (std::string_view value : {
           "https://",
           "https:///",
           "https://exa mple.com/sitemap.xml",
           "https://www.example.com:99999/sitemap.xml",
           "https://www.example.com:80a/sitemap.xml",
           "https://999.0.0.1/sitemap.xml",
           "https://www.example.com<>/sitemap.xml",
           "https://[2001:db8::1/sitemap.xml",
       }) {
    std::vector<Finding> f = Check("Sitemap: " + std::string(value) + "\n");
    ASSERT_EQ(f.size(), 1u) << value;
    EXPECT_EQ(f[0].message,
              "robots.txt line 1: the Sitemap URL is not a valid URL: " + std::string(value));
    EXPECT_EQ(f[0].fix,
              "Write the sitemap's full URL, percent-encoding spaces and other special "
              "characters, e.g. \"Sitemap: https://www.example.com/sitemap.xml\".");
  }
  // Everything from '#' is a comment, also inside a URL.
  EXPECT_TRUE(Check("Sitemap: https://www.example.com/sitemap.xml#part\n").empty());
  std::vector<Finding> f = Check("Sitemap: # https://www.example.com/sitemap.xml\n");
  ASSERT_EQ(f.size(), 1u);
  ExpectInvalid(f[0], 1, "robots.txt line 1: the Sitemap line has no URL.",
                "Sitemap: # https://www.example.com/sitemap.xml");
}

// ---------------------------------------------------------------------------
// Lines.

TEST(RobotsTxtCheckTest, LinesEndInLfCrLfOrCrAndABomIsIgnored) {
  std::vector<Finding> f = Check("\xEF\xBB\xBFUser-agent: *\r\nDisallow: a\rAllow: b\n\r\nc\r\n");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].line, 2);
  EXPECT_EQ(f[0].evidence, "Disallow: a");
  EXPECT_EQ(f[1].line, 3);
  EXPECT_EQ(f[1].evidence, "Allow: b");
  EXPECT_EQ(f[2].line, 5);  // line 4 is empty
  EXPECT_EQ(f[2].evidence, "c");
  // A BOM starts the first line's name otherwise.
  EXPECT_TRUE(Check("\xEF\xBB\xBFUser-agent: *\nDisallow: /\n").empty());
}

TEST(RobotsTxtCheckTest, ValuesAndNamesAreTrimmedAsJavaScriptTrims) {
  // Tabs, a no-break space (U+00A0) and an ideographic space (U+3000).
  EXPECT_TRUE(Check("\tUser-agent:\t*\t\nDisallow:\xC2\xA0/a\xC2\xA0\n\xE3\x80\x80"
                    "Allow: /b\n")
                  .empty());
  // Only whitespace or a comment: skipped.
  EXPECT_TRUE(Check("  \t \n# a comment\n   # another\n\xC2\xA0\n").empty());
}

TEST(RobotsTxtCheckTest, OneFindingPerLineTheFirstRuleThatApplies) {
  // Before any group, with a bad pattern: the pattern is reported.
  std::vector<Finding> f = Check("Disallow: a$b\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message,
            "robots.txt line 1: the Disallow pattern \"a$b\" must be empty or start with \"/\" or "
            "\"*\".");
}

TEST(RobotsTxtCheckTest, EvidenceIsTheLineAsWrittenCutTo200BytesOnACharacter) {
  // 199 bytes, then a two-byte 'é' across the 200-byte mark.
  const std::string line = "Disallow: /" + std::string(188, 'a') + "\xC3\xA9$x";
  std::vector<Finding> f = Check("User-agent: *\n" + line + "\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].evidence, line.substr(0, 199));

  // Lines quoted in messages are shortened.
  f = Check("User-agent: *\nDisallow: " + std::string(300, 'x') + "\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "robots.txt line 2: the Disallow pattern \"" + std::string(100, 'x') +
                              "...\" must be empty or start with \"/\" or \"*\".");
  EXPECT_EQ(f[0].evidence, "Disallow: " + std::string(190, 'x'));
}

TEST(RobotsTxtCheckTest, AtMost20FindingsAndTheLastSaysHowManyMore) {
  std::string robots = "User-agent: *\n";
  for (int i = 0; i < 25; ++i) robots += "Disallow: page" + std::to_string(i) + "\n";
  std::vector<Finding> f = Check(robots);
  ASSERT_EQ(f.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f[static_cast<std::size_t>(i)].line, i + 2);
  EXPECT_EQ(f[19].message,
            "robots.txt line 21: the Disallow pattern \"page19\" must be empty or start with "
            "\"/\" or \"*\". (robots.txt has 5 more invalid lines, not listed.)");
  EXPECT_EQ(f[18].message.find("more invalid"), std::string::npos);

  f = Check("User-agent: *\n" + [] {
    std::string s;
    for (int i = 0; i < 21; ++i) s += "x\n";
    return s;
  }());
  ASSERT_EQ(f.size(), 20u);
  EXPECT_EQ(f[19].message,
            "robots.txt line 21: syntax not understood: a robots.txt line is \"Directive: "
            "value\", and this one has no colon. (robots.txt has 1 more invalid line, not "
            "listed.)");

  // Exactly 20: no note.
  std::string twenty = "User-agent: *\n";
  for (int i = 0; i < 20; ++i) twenty += "x\n";
  f = Check(twenty);
  ASSERT_EQ(f.size(), 20u);
  EXPECT_EQ(f[19].message.find("more invalid"), std::string::npos);
}

}  // namespace
}  // namespace herald::audit
