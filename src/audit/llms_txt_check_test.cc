#include "audit/llms_txt_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fixture_files.h"

namespace herald::audit {
namespace {

constexpr std::string_view kSite = "https://www.example.com/";

std::string ReadFixture(std::string_view name) { return test::ReadFixture("llms", name); }

std::vector<Finding> Check(std::string body, std::string_view site = kSite) {
  return CheckLlmsTxtFormat(SiteFile{200, std::move(body), ""}, site);
}

void ExpectInvalid(const Finding& f, int line, std::string_view message,
                   std::string_view evidence) {
  EXPECT_EQ(f.check_id, "llms_txt.invalid");
  EXPECT_EQ(f.severity, Severity::kLow);
  EXPECT_EQ(f.page, "");
  EXPECT_EQ(f.line, line);
  EXPECT_EQ(f.message, message);
  EXPECT_EQ(f.evidence, evidence);
  EXPECT_FALSE(f.fix.empty());
  EXPECT_TRUE(f.pages.empty());
}

// The one finding for `body`.
Finding OnlyFinding(const std::string& body) {
  std::vector<Finding> findings = Check(body);
  EXPECT_EQ(findings.size(), 1u) << body << [&] {
    std::string messages;
    for (const Finding& f : findings) messages += "\n  " + f.message;
    return messages;
  }();
  return findings.empty() ? Finding{} : findings[0];
}

// A valid head: the H1 and the summary (lines 1-3), then a section (line 5).
std::string InSection(std::string_view lines) {
  return "# Example\n\n> Widgets.\n\n## Docs\n" + std::string(lines);
}

// ---------------------------------------------------------------------------
// Valid files.

// The example on llmstxt.org ("Format"), as published.
TEST(LlmsTxtCheckTest, TheSpecsMockExampleIsValid) {
  EXPECT_TRUE(Check("# Title\n"
                    "\n"
                    "> Optional description goes here\n"
                    "\n"
                    "Optional details go here\n"
                    "\n"
                    "## Section name\n"
                    "\n"
                    "- [Link title](https://link_url): Optional link details\n"
                    "\n"
                    "## Optional\n"
                    "\n"
                    "- [Link title](https://link_url)\n")
                  .empty());
}

// llmstxt.org's FastHTML example (cut down, as on the site).
TEST(LlmsTxtCheckTest, TheSpecsFastHtmlExampleIsValid) {
  EXPECT_TRUE(
      Check("# FastHTML\n"
            "\n"
            "> FastHTML is a python library which brings together Starlette, Uvicorn, HTMX, and "
            "fastcore's `FT` \"FastTags\" into a library for creating server-rendered hypermedia "
            "applications.\n"
            "\n"
            "Important notes:\n"
            "\n"
            "- Although parts of its API are inspired by FastAPI, it is *not* compatible with "
            "FastAPI syntax and is not targeted at creating API services\n"
            "- FastHTML is compatible with JS-native web components and any vanilla JS library, "
            "but not with React, Vue, or Svelte.\n"
            "\n"
            "## Docs\n"
            "\n"
            "- [FastHTML quick start](https://fastht.ml/docs/tutorials/"
            "quickstart_for_web_devs.html.md): A brief overview of many FastHTML features\n"
            "- [HTMX reference](https://github.com/bigskysoftware/htmx/blob/master/www/content/"
            "reference.md): Brief description of all HTMX attributes, CSS classes, headers, "
            "events, extensions, js lib methods, and config options\n"
            "\n"
            "## Examples\n"
            "\n"
            "- [Todo list application](https://github.com/AnswerDotAI/fasthtml/blob/main/"
            "examples/adv_app.py): Detailed walk-thru of a complete CRUD app in FastHTML showing "
            "idiomatic use of FastHTML and HTMX patterns.\n"
            "\n"
            "## Optional\n"
            "\n"
            "- [Starlette full documentation](https://gist.githubusercontent.com/jph00/"
            "809e4a4808d4510be0e3dc9565e9cbd3/raw/9b717589ca44cedc8aaf00b2b8cacef922964c0f/"
            "starlette-sml.md): A subset of the Starlette documentation useful for FastHTML "
            "development. \n")
          .empty());
}

TEST(LlmsTxtCheckTest, TheValidFixtureHasNoFindings) {
  const std::string llms = ReadFixture("valid.txt");
  ASSERT_FALSE(llms.empty());
  for (const Finding& f : Check(llms)) ADD_FAILURE() << f.line << ": " << f.message;
}

TEST(LlmsTxtCheckTest, OnlyTheH1IsRequired) {
  EXPECT_TRUE(Check("# Example").empty());
  EXPECT_TRUE(Check("\xEF\xBB\xBF\n\n  # Example #\r\n\r\nWidgets, since 1999.\r\n").empty());
  EXPECT_TRUE(Check("# Example\n## Docs\n").empty());  // an empty section
}

// ---------------------------------------------------------------------------
// When the file is judged.

TEST(LlmsTxtCheckTest, OnlyAFileThatIsThereIsJudged) {
  EXPECT_TRUE(CheckLlmsTxtFormat(SiteFile{404, "Not found", ""}, kSite).empty());
  EXPECT_TRUE(CheckLlmsTxtFormat(SiteFile{500, "Oops", ""}, kSite).empty());
  EXPECT_TRUE(CheckLlmsTxtFormat(SiteFile{301, "", ""}, kSite).empty());
  EXPECT_TRUE(CheckLlmsTxtFormat(SiteFile{0, "", "timed out"}, kSite).empty());
  EXPECT_TRUE(
      CheckLlmsTxtFormat(SiteFile{200, "", "not fetched: robots.txt failed"}, kSite).empty());
  EXPECT_TRUE(Check("<!doctype html>\n<html><title>Not found</title></html>").empty());
  EXPECT_TRUE(Check("\n  <HTML>\n<body>Home</body></HTML>").empty());
  EXPECT_EQ(CheckLlmsTxtFormat(SiteFile{204, "Example", ""}, kSite).size(), 1u);
}

TEST(LlmsTxtCheckTest, AnEmptyFileIsOneFinding) {
  for (std::string body : {"", "\n", " \t\r\n\n", "\xEF\xBB\xBF"}) {
    std::vector<Finding> f = Check(body);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].check_id, "llms_txt.invalid");
    EXPECT_EQ(f[0].severity, Severity::kLow);
    EXPECT_EQ(f[0].page, "");
    EXPECT_EQ(f[0].message, "llms.txt is empty.");
    EXPECT_EQ(f[0].fix,
              "Start /llms.txt with an H1 naming the site (\"# Name\"), then a one-line summary "
              "(\"> ...\") and ## sections listing links to the site's key pages (see "
              "llmstxt.org).");
    EXPECT_EQ(f[0].evidence, "");
    EXPECT_EQ(f[0].line, 0);
  }
}

// ---------------------------------------------------------------------------
// The H1.

TEST(LlmsTxtCheckTest, TheFileStartsWithAnH1) {
  Finding f = OnlyFinding("\n> Widgets.\n\n## Docs\n- [A](/a)\n");
  ExpectInvalid(f, 2,
                "llms.txt line 2: the file must start with an H1 naming the site or project "
                "(\"# Name\"), the one element llms.txt requires.",
                "> Widgets.");
  EXPECT_EQ(f.fix, "Make the first line an H1 with the site's name, e.g. \"# www.example.com\".");
  // Setext headings are text here.
  EXPECT_EQ(OnlyFinding("Example\n=======\n").line, 1);
  // An H2 first: the one finding, and its section is read.
  f = OnlyFinding("## Docs\n- [A](/a)\n");
  EXPECT_EQ(f.line, 1);
  EXPECT_EQ(f.evidence, "## Docs");
  // Indented four spaces: code, not a heading.
  EXPECT_EQ(OnlyFinding("    # Example\n").line, 1);
}

TEST(LlmsTxtCheckTest, TheH1NeedsASpaceAndAName) {
  Finding f = OnlyFinding("#Example\n\n> Widgets.\n");
  ExpectInvalid(f, 1,
                "llms.txt line 1: \"#Example\" is not a Markdown heading: a space must follow the "
                "\"#\".",
                "#Example");
  EXPECT_EQ(f.fix, "Write \"# Example\".");

  f = OnlyFinding("#\n\n> Widgets.\n");
  ExpectInvalid(f, 1, "llms.txt line 1: the H1 is empty; it must name the site or project.", "#");
  EXPECT_EQ(f.fix, "Write the name after the \"#\": \"# www.example.com\".");
  EXPECT_EQ(OnlyFinding("# #\n").message,
            "llms.txt line 1: the H1 is empty; it must name the site or project.");
}

TEST(LlmsTxtCheckTest, ThereIsOneH1) {
  Finding f = OnlyFinding("# Example\n\n# Example Ltd\n");
  ExpectInvalid(f, 3,
                "llms.txt line 3: a second H1; llms.txt has one H1, the name on its first line.",
                "# Example Ltd");
  EXPECT_EQ(f.fix,
            "Make it an H2 section (\"## Example Ltd\") holding a list of links, or plain text "
            "above the first section.");
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a)\n# Example again\n")).line, 7);
}

// ---------------------------------------------------------------------------
// Headings.

TEST(LlmsTxtCheckTest, H3AndDeeperHeadingsAreNotAllowed) {
  Finding f = OnlyFinding("# Example\n\n### Details\n\nText.\n");
  ExpectInvalid(f, 3,
                "llms.txt line 3: an H3 heading; llms.txt allows only its H1 and H2 sections "
                "(\"## Name\").",
                "### Details");
  EXPECT_EQ(f.fix,
            "Make it an H2 section (\"## Details\") holding a list of links, or plain text above "
            "the first section.");
  f = OnlyFinding(InSection("- [A](/a)\n###### Deep ######\n- [B](/b)\n"));
  ExpectInvalid(f, 7,
                "llms.txt line 7: an H6 heading; llms.txt allows only its H1 and H2 sections "
                "(\"## Name\").",
                "###### Deep ######");
  // Seven #s are text (and in a section, text that is not a list item).
  EXPECT_TRUE(Check("# Example\n\n####### not a heading\n").empty());
}

TEST(LlmsTxtCheckTest, AHeadingNeedsASpaceAfterItsHashes) {
  Finding f = OnlyFinding("# Example\n\n##Docs\n- [A](/a)\n");
  ExpectInvalid(f, 3,
                "llms.txt line 3: \"##Docs\" is not a Markdown heading: a space must follow the "
                "\"##\".",
                "##Docs");
  EXPECT_EQ(f.fix, "Write \"## Docs\".");
  // "#word" after the first line is text, as is "#!/bin/sh".
  EXPECT_TRUE(Check("# Example\n\n#hashtag in the notes\n#!/bin/sh\n").empty());
}

TEST(LlmsTxtCheckTest, HashLinesInCodeBlocksAreNotHeadings) {
  EXPECT_TRUE(Check("# Example\n\n```sh\n# install\n### more\n```\n\n~~~~\n# x\n~~~\n## y\n~~~~\n")
                  .empty());
  // An unclosed fence runs to the end.
  EXPECT_TRUE(Check("# Example\n\n```\n# a\n## b\n").empty());
}

// ---------------------------------------------------------------------------
// Sections: lists of links.

TEST(LlmsTxtCheckTest, SectionItemsAreLinksWithOptionalNotes) {
  EXPECT_TRUE(Check(InSection("\n"
                              "- [Absolute](https://www.example.com/a.md): notes\n"
                              "- [Relative](/docs/b.md)\n"
                              "- [Relative too](c/d.html.md):notes without a space\n"
                              "- [With a title](https://www.example.com/e.md \"E\"): notes\n"
                              "- [Angle brackets](<https://www.example.com/f.md>)\n"
                              "- [Parentheses](https://en.wikipedia.org/wiki/Widget_(tool))\n"
                              "- [Escaped \\] bracket](/h.md): a\\:b\n"
                              "- [Nested [brackets]](/i.md)\n"
                              "- [Non-ASCII](https://www.example.com/ä/ö.md): IRI\n"
                              "- [Mail](mailto:info@example.com): also a URL\n"
                              "* [Star](/j.md)\n"
                              "+ [Plus](/k.md)\n"
                              "1. [Ordered](/l.md)\n"
                              "2) [Ordered too](/m.md): notes\n"
                              "  - [Nested item](/n.md)\n"
                              "- [Spaced colon](/o.md) : notes\n"
                              "- [Empty notes](/p.md):\n"))
                  .empty());
}

TEST(LlmsTxtCheckTest, AnItemThatIsNotALink) {
  for (std::string_view item :
       {"- Installation guide", "- <https://www.example.com/a.md>",
        "- https://www.example.com/a.md", "- **[Bold](/a.md)**: notes", "- [Reference][ref]",
        "- [No parenthesis] (/a.md)", "-", "- [Unclosed](/a.md"}) {
    Finding f = OnlyFinding(InSection(std::string(item) + "\n"));
    ExpectInvalid(f, 6,
                  "llms.txt line 6: the list item in section \"Docs\" is not a link; each item "
                  "must be \"- [name](url)\", optionally followed by \": notes\".",
                  item);
    EXPECT_EQ(f.fix, "Write it as \"- [Page name](https://www.example.com/page): notes\".");
  }
}

TEST(LlmsTxtCheckTest, ALinkHasANameAndAUrl) {
  Finding f = OnlyFinding(InSection("- [](/a.md): notes\n"));
  ExpectInvalid(f, 6, "llms.txt line 6: the link has no name (\"[](/a.md)\").",
                "- [](/a.md): notes");
  EXPECT_EQ(f.fix, "Put the page's name between the brackets: \"- [Page name](/a.md)\".");
  EXPECT_EQ(OnlyFinding(InSection("- [  ](/a.md)\n")).message,
            "llms.txt line 6: the link has no name (\"[](/a.md)\").");

  f = OnlyFinding(InSection("- [Warranty](): notes\n"));
  ExpectInvalid(f, 6, "llms.txt line 6: the link \"Warranty\" has no URL.",
                "- [Warranty](): notes");
  EXPECT_EQ(f.fix,
            "Put the page's URL between the parentheses: \"- [Warranty](https://www.example.com/"
            "page)\".");
  EXPECT_EQ(OnlyFinding(InSection("- [Warranty](<>)\n")).message,
            "llms.txt line 6: the link \"Warranty\" has no URL.");
}

TEST(LlmsTxtCheckTest, ALinksUrlMustParse) {
  struct Case {
    std::string_view item, message;
  };
  for (const Case& c : {
           Case{"- [Dealers](https://www.example.com/dealers list.md): notes",
                "the URL of the link \"Dealers\" does not parse (it contains a space): "
                "https://www.example.com/dealers list.md"},
           Case{"- [Dealers](<https://www.example.com/dealers list.md>)",
                "the URL of the link \"Dealers\" does not parse (it contains a space): "
                "https://www.example.com/dealers list.md"},
           Case{"- [Press](/press%zz.md)",
                "the URL of the link \"Press\" does not parse (a \"%\" that does not start a %XX "
                "escape): /press%zz.md"},
           Case{"- [Search](https://www.example.com/search?q={term})",
                "the URL of the link \"Search\" does not parse (it contains \"{\"): "
                "https://www.example.com/search?q={term}"},
           Case{"- [Host](https://[2001:db8::1/a.md)",
                "the URL of the link \"Host\" does not parse: https://[2001:db8::1/a.md"},
           Case{"- [No host](https:///a.md)",
                "the URL of the link \"No host\" does not parse (it has no host): https:///a.md"},
       }) {
    Finding f = OnlyFinding(InSection(std::string(c.item) + "\n"));
    ExpectInvalid(f, 6, "llms.txt line 6: " + std::string(c.message), c.item);
    EXPECT_EQ(f.fix,
              "Fix the URL, percent-encoding spaces (%20) and other special characters; absolute "
              "(https://www.example.com/page) and relative (/page) URLs are both fine.");
  }
}

TEST(LlmsTxtCheckTest, NotesFollowAColon) {
  Finding f = OnlyFinding(InSection("- [About us](/about.md) - Who we are\n"));
  ExpectInvalid(f, 6,
                "llms.txt line 6: the notes after the link \"About us\" must follow a colon (\"- "
                "[name](url): notes\").",
                "- [About us](/about.md) - Who we are");
  EXPECT_EQ(f.fix, "Write \"- [About us](/about.md): Who we are\".");
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a.md) \xE2\x80\x94 the A page\n")).fix,
            "Write \"- [A](/a.md): the A page\".");
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a.md) [B](/b.md)\n")).fix,
            "Write \"- [A](/a.md): [B](/b.md)\".");
}

TEST(LlmsTxtCheckTest, ASectionHoldsOnlyItsList) {
  Finding f = OnlyFinding(InSection("\nThese are our docs.\n\n- [A](/a.md)\n"));
  ExpectInvalid(f, 7,
                "llms.txt line 7: section \"Docs\" holds text that is not a list item; an H2 "
                "section is a list of links.",
                "These are our docs.");
  EXPECT_EQ(f.fix,
            "Move it above the first ## section (any Markdown but a heading is allowed there), "
            "or make it a list item: \"- [Page name](https://www.example.com/page): notes\".");
  // A quote and a thematic break are not list items either.
  EXPECT_EQ(OnlyFinding(InSection("> A quote\n")).line, 6);
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a.md)\n\n---\n")).line, 8);
  EXPECT_EQ(OnlyFinding(InSection("* * *\n")).line, 6);
  // A code block is one finding, on its first line.
  f = OnlyFinding(InSection("```json\n{\"a\": 1}\n# b\n```\n- [A](/a.md)\n"));
  ExpectInvalid(f, 6,
                "llms.txt line 6: section \"Docs\" holds a code block; an H2 section is a list "
                "of links.",
                "```json");
}

TEST(LlmsTxtCheckTest, AnItemMayContinueOnTheNextLines) {
  EXPECT_TRUE(Check(InSection("- [A](/a.md): notes that go on\n"
                              "and on, lazily\n"
                              "  or indented\n"
                              "\n"
                              "  and after a blank line, indented\n"
                              "- [B](/b.md)\n"))
                  .empty());
  // After a blank line, text that is not indented ends the item.
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a.md)\n\nNot part of A.\n")).line, 8);
  // A new section ends it too.
  EXPECT_EQ(OnlyFinding(InSection("- [A](/a.md)\n## More\ntext\n")).line, 8);
}

// ---------------------------------------------------------------------------
// The fixture and the file as a whole.

// tests/fixtures/llms/README.md lists the same findings.
TEST(LlmsTxtCheckTest, TheInvalidFixtureHasOneFindingPerProblem) {
  const std::string llms = ReadFixture("invalid.txt");
  ASSERT_FALSE(llms.empty());
  const std::vector<Finding> f = Check(llms);
  ASSERT_EQ(f.size(), 13u);
  ExpectInvalid(f[0], 1,
                "llms.txt line 1: the file must start with an H1 naming the site or project "
                "(\"# Name\"), the one element llms.txt requires.",
                "Example Widgets");
  ExpectInvalid(f[1], 6,
                "llms.txt line 6: a second H1; llms.txt has one H1, the name on its first line.",
                "# Example Widgets Ltd");
  ExpectInvalid(f[2], 7,
                "llms.txt line 7: an H3 heading; llms.txt allows only its H1 and H2 sections "
                "(\"## Name\").",
                "### Details");
  ExpectInvalid(f[3], 8,
                "llms.txt line 8: \"##Docs\" is not a Markdown heading: a space must follow the "
                "\"##\".",
                "##Docs");
  ExpectInvalid(f[4], 11,
                "llms.txt line 11: the list item in section \"Docs\" is not a link; each item "
                "must be \"- [name](url)\", optionally followed by \": notes\".",
                "- Installation guide");
  ExpectInvalid(f[5], 12,
                "llms.txt line 12: the link has no name "
                "(\"[](https://www.example.com/warranty.md)\").",
                "- [](https://www.example.com/warranty.md): Warranty terms");
  ExpectInvalid(f[6], 13, "llms.txt line 13: the link \"Warranty\" has no URL.", "- [Warranty]()");
  ExpectInvalid(f[7], 14,
                "llms.txt line 14: the URL of the link \"Dealers\" does not parse (it contains a "
                "space): https://www.example.com/dealers list.md",
                "- [Dealers](https://www.example.com/dealers list.md)");
  ExpectInvalid(f[8], 15,
                "llms.txt line 15: the URL of the link \"Press\" does not parse (a \"%\" that "
                "does not start a %XX escape): https://www.example.com/press%zz.md",
                "- [Press](https://www.example.com/press%zz.md)");
  ExpectInvalid(f[9], 16,
                "llms.txt line 16: the notes after the link \"About us\" must follow a colon (\"- "
                "[name](url): notes\").",
                "- [About us](https://www.example.com/about.md) - Who we are");
  ExpectInvalid(f[10], 18,
                "llms.txt line 18: section \"Docs\" holds text that is not a list item; an H2 "
                "section is a list of links.",
                "Our documentation is also available as a PDF.");
  ExpectInvalid(f[11], 20,
                "llms.txt line 20: section \"Docs\" holds a code block; an H2 section is a list "
                "of links.",
                "```");
  ExpectInvalid(f[12], 27,
                "llms.txt line 27: the list item in section \"Optional\" is not a link; each item "
                "must be \"- [name](url)\", optionally followed by \": notes\".",
                "- <https://www.example.com/news.md>");
}

TEST(LlmsTxtCheckTest, LinesEndInLfCrLfOrCr) {
  std::vector<Finding> f = Check("# Example\r\n\r\n## Docs\r- [A](/a.md)\r\n- B\r### C\n");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].line, 5);
  EXPECT_EQ(f[0].evidence, "- B");
  EXPECT_EQ(f[1].line, 6);
  EXPECT_EQ(f[1].evidence, "### C");
}

TEST(LlmsTxtCheckTest, EvidenceIsTheLineCutTo200BytesOnACharacter) {
  // 199 bytes, then a two-byte 'é' across the 200-byte mark.
  const std::string line = "- " + std::string(197, 'x') + "\xC3\xA9 more";
  Finding f = OnlyFinding(InSection(line + "\n"));
  EXPECT_EQ(f.evidence, line.substr(0, 199));
}

TEST(LlmsTxtCheckTest, AtMost20FindingsAndTheLastSaysHowManyMore) {
  std::string items;
  for (int i = 0; i < 23; ++i) items += "- item " + std::to_string(i) + "\n";
  std::vector<Finding> f = Check(InSection(items));
  ASSERT_EQ(f.size(), 20u);
  EXPECT_EQ(f[0].line, 6);
  EXPECT_EQ(f[19].line, 25);
  EXPECT_EQ(f[19].message,
            "llms.txt line 25: the list item in section \"Docs\" is not a link; each item must "
            "be \"- [name](url)\", optionally followed by \": notes\". (llms.txt has 3 more "
            "problems, not listed.)");
  EXPECT_EQ(f[18].message.find("more problem"), std::string::npos);

  std::string twenty_one;
  for (int i = 0; i < 21; ++i) twenty_one += "- x\n";
  f = Check(InSection(twenty_one));
  ASSERT_EQ(f.size(), 20u);
  EXPECT_NE(f[19].message.find("(llms.txt has 1 more problem, not listed.)"), std::string::npos);
  f = Check(InSection(twenty_one.substr(4)));  // exactly 20: no note
  ASSERT_EQ(f.size(), 20u);
  EXPECT_EQ(f[19].message.find("more problem"), std::string::npos);
}

TEST(LlmsTxtCheckTest, FixesUseTheSitesOrigin) {
  Finding f = OnlyFinding(InSection("- Pricing\n"));
  EXPECT_EQ(f.fix, "Write it as \"- [Page name](https://www.example.com/page): notes\".");
  std::vector<Finding> other = Check(InSection("- Pricing\n"), "http://shop.example:8080/a?b");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].fix, "Write it as \"- [Page name](http://shop.example:8080/page): notes\".");
  other = Check(InSection("- Pricing\n"), "not a url");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].fix, "Write it as \"- [Page name](https://example.com/page): notes\".");
}

}  // namespace
}  // namespace herald::audit
