#include "audit/llms_txt_check.h"

#include <boost/url/parse.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/site_text.h"

namespace herald::audit {
namespace {

using namespace site_text;

// The format, from https://llmstxt.org ("Format"; the source is
// AnswerDotAI/llms-txt nbs/index.qmd): in this order, an optional BOM; an H1
// with the name of the project or site, "the only required section"; a
// blockquote with a short summary; "zero or more markdown sections (e.g.
// paragraphs, lists, etc) of any type except headings"; "zero or more markdown
// sections delimited by H2 headers, containing file lists of URLs", each "a
// markdown list, containing a required markdown hyperlink [name](url), then
// optionally a : and notes about the file".
//
// Read here line by line, with ATX headings ("## Name"), fenced code blocks
// (whose lines are not headings) and list items as CommonMark defines them.
// Setext headings (text underlined with === or ---) are not recognised: the
// reference parser (llms_txt/miniparse.py) does not know them either.

constexpr std::string_view kInvalid = "llms_txt.invalid";
constexpr std::size_t kMaxFindings = 20;
constexpr std::size_t kMaxEvidence = 200;

bool IsBlankChar(char c) { return c == ' ' || c == '\t'; }
bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}
std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlankChar(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlankChar(s.back())) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------
// Markdown, one line at a time.

// Columns of leading indentation (a tab counts to the next multiple of 4) and
// the line after it.
std::pair<std::size_t, std::string_view> Indented(std::string_view line) {
  std::size_t columns = 0;
  while (!line.empty() && IsBlankChar(line.front())) {
    columns = line.front() == '\t' ? (columns / 4 + 1) * 4 : columns + 1;
    line.remove_prefix(1);
  }
  return {columns, line};
}

bool IsBlank(std::string_view line) { return TrimBlanks(line).empty(); }

struct Heading {
  int level = 0;
  std::string_view text;  // without the #s and a closing sequence
};

// An ATX heading: up to 3 spaces, 1 to 6 '#', then a blank or the end.
std::optional<Heading> AtxHeading(std::string_view line) {
  auto [indent, rest] = Indented(line);
  if (indent > 3) return std::nullopt;
  std::size_t hashes = 0;
  while (hashes < rest.size() && rest[hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return std::nullopt;
  if (hashes < rest.size() && !IsBlankChar(rest[hashes])) return std::nullopt;
  std::string_view text = TrimBlanks(rest.substr(hashes));
  // An optional closing run of '#', after a blank (or alone).
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '#') --end;
  if (end == 0 || IsBlankChar(text[end - 1])) text = TrimBlanks(text.substr(0, end));
  return Heading{static_cast<int>(hashes), text};
}

// "#Name", "##Docs": meant as a heading, but without the blank after the #s.
// Returns the number of '#'.
int HeadingWithoutSpace(std::string_view line) {
  auto [indent, rest] = Indented(line);
  if (indent > 3) return 0;
  std::size_t hashes = 0;
  while (hashes < rest.size() && rest[hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6 || hashes == rest.size()) return 0;
  const char next = rest[hashes];
  // Letters and digits only: "#!/bin/sh" or "#include" in prose is not meant.
  if (static_cast<unsigned char>(next) < 0x80 && !IsAsciiAlpha(next) && !IsAsciiDigit(next)) {
    return 0;
  }
  return static_cast<int>(hashes);
}

struct Fence {
  char marker = 0;  // '`' or '~'; 0: not in a fence
  std::size_t length = 0;
};

// The opening of a fenced code block: up to 3 spaces, 3 or more '`' or '~'.
std::optional<Fence> FenceOpening(std::string_view line) {
  auto [indent, rest] = Indented(line);
  if (indent > 3 || rest.size() < 3 || (rest[0] != '`' && rest[0] != '~')) return std::nullopt;
  std::size_t length = 0;
  while (length < rest.size() && rest[length] == rest[0]) ++length;
  if (length < 3) return std::nullopt;
  if (rest[0] == '`' && rest.substr(length).find('`') != std::string_view::npos) {
    return std::nullopt;  // a backtick fence's info string has no backtick
  }
  return Fence{rest[0], length};
}

bool ClosesFence(std::string_view line, const Fence& fence) {
  auto [indent, rest] = Indented(line);
  if (indent > 3) return false;
  std::size_t length = 0;
  while (length < rest.size() && rest[length] == fence.marker) ++length;
  return length >= fence.length && TrimBlanks(rest.substr(length)).empty();
}

// "---", "***", "_ _ _": a thematic break (checked before list items).
bool IsThematicBreak(std::string_view line) {
  auto [indent, rest] = Indented(line);
  if (indent > 3 || rest.empty()) return false;
  const char marker = rest[0];
  if (marker != '-' && marker != '*' && marker != '_') return false;
  std::size_t count = 0;
  for (char c : rest) {
    if (c == marker) {
      ++count;
    } else if (!IsBlankChar(c)) {
      return false;
    }
  }
  return count >= 3;
}

// The content of a list item ("- x", "* x", "+ x", "1. x", "1) x"), or
// nullopt when the line is not one.
std::optional<std::string_view> ListItem(std::string_view line) {
  std::string_view rest = Indented(line).second;
  std::size_t marker = 0;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '*' || rest[0] == '+')) {
    marker = 1;
  } else {
    while (marker < rest.size() && marker < 9 && IsAsciiDigit(rest[marker])) ++marker;
    if (marker == 0 || marker == rest.size() || (rest[marker] != '.' && rest[marker] != ')')) {
      return std::nullopt;
    }
    ++marker;
  }
  if (marker < rest.size() && !IsBlankChar(rest[marker])) return std::nullopt;
  return TrimBlanks(rest.substr(marker));
}

// ---------------------------------------------------------------------------
// A list item's link: "[name](url)" or "[name](url "title")", then ": notes".

enum class LinkProblem { kNone, kNotLink, kNoName, kNoUrl, kBadUrl, kNoColon };

struct Link {
  LinkProblem problem = LinkProblem::kNone;
  std::string name;
  std::string url;    // as written, backslash escapes removed
  std::string why;    // for kBadUrl: what is wrong, or ""
  std::string notes;  // for kNoColon: the text after the link
};

std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && IsAsciiPunct(s[i + 1])) ++i;
    out += s[i];
  }
  return out;
}

bool IsHex(char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool IsUriChar(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) ||
         std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

// Why `url` is not a URI reference (RFC 3986, after percent-encoding
// non-ASCII as for an IRI), or nullopt when it is one.
std::optional<std::string> UrlProblem(std::string_view url) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0x0F];
    } else {
      encoded += c;
    }
  }
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_uri_reference(encoded);
  if (parsed) {
    const std::string scheme = [&] {
      std::string s(parsed->scheme());
      for (char& c : s) c = LowerAscii(c);
      return s;
    }();
    if ((scheme == "http" || scheme == "https") && parsed->encoded_host().empty()) {
      return std::string("it has no host");
    }
    return std::nullopt;
  }
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == ' ' || c == '\t') return std::string("it contains a space");
    if (c == '%' && !(i + 2 < encoded.size() && IsHex(encoded[i + 1]) && IsHex(encoded[i + 2]))) {
      return std::string("a \"%\" that does not start a %XX escape");
    }
    if (!IsUriChar(c)) return "it contains \"" + std::string(1, c) + "\"";
  }
  return std::string();
}

Link ParseLink(std::string_view item) {
  Link link;
  if (item.empty() || item[0] != '[') {
    link.problem = LinkProblem::kNotLink;
    return link;
  }
  // [name]: brackets may nest; a backslash escapes.
  std::size_t i = 1;
  int depth = 1;
  for (; i < item.size(); ++i) {
    if (item[i] == '\\') {
      ++i;
    } else if (item[i] == '[') {
      ++depth;
    } else if (item[i] == ']' && --depth == 0) {
      break;
    }
  }
  if (i >= item.size() || i + 1 >= item.size() || item[i + 1] != '(') {
    link.problem = LinkProblem::kNotLink;
    return link;
  }
  link.name = std::string(TrimBlanks(item.substr(1, i - 1)));
  const std::size_t open = i + 1;

  // (destination "title"): a destination is <...> or has no blanks and
  // balanced parentheses.
  std::size_t j = open + 1;
  while (j < item.size() && IsBlankChar(item[j])) ++j;
  std::string_view destination;
  bool well_formed = false;
  if (j < item.size() && item[j] == '<') {
    const std::size_t start = j + 1;
    for (j = start; j < item.size() && item[j] != '>' && item[j] != '<'; ++j) {
      if (item[j] == '\\') ++j;
    }
    if (j < item.size() && item[j] == '>') {
      destination = item.substr(start, j - start);
      ++j;
      well_formed = true;
    }
  } else {
    const std::size_t start = j;
    int parens = 0;
    for (; j < item.size(); ++j) {
      const char c = item[j];
      if (c == '\\' && j + 1 < item.size() && IsAsciiPunct(item[j + 1])) {
        ++j;
      } else if (IsBlankChar(c) || static_cast<unsigned char>(c) < 0x20) {
        break;
      } else if (c == '(') {
        ++parens;
      } else if (c == ')') {
        if (parens == 0) break;
        --parens;
      }
    }
    destination = item.substr(start, j - start);
    well_formed = true;
  }
  if (well_formed) {
    while (j < item.size() && IsBlankChar(item[j])) ++j;
    if (j < item.size() && (item[j] == '"' || item[j] == '\'' || item[j] == '(')) {
      const char close = item[j] == '(' ? ')' : item[j];
      for (++j; j < item.size() && item[j] != close; ++j) {
        if (item[j] == '\\') ++j;
      }
      if (j < item.size()) ++j;
      while (j < item.size() && IsBlankChar(item[j])) ++j;
    }
    well_formed = j < item.size() && item[j] == ')';
  }
  if (!well_formed) {
    // Not a Markdown link as written; "[name](https://a b)" is most likely one
    // whose URL has a space in it.
    const std::size_t close = item.find(')', open);
    if (close != std::string_view::npos) {
      link.url = Unescape(TrimBlanks(item.substr(open + 1, close - open - 1)));
      if (std::optional<std::string> why = UrlProblem(link.url)) {
        link.problem = LinkProblem::kBadUrl;
        link.why = *why;
        return link;
      }
    }
    link.url.clear();
    link.problem = LinkProblem::kNotLink;
    return link;
  }
  link.url = Unescape(destination);
  std::string_view after = TrimBlanks(item.substr(j + 1));

  if (link.name.empty()) {
    link.problem = LinkProblem::kNoName;
  } else if (link.url.empty()) {
    link.problem = LinkProblem::kNoUrl;
  } else if (std::optional<std::string> why = UrlProblem(link.url)) {
    link.problem = LinkProblem::kBadUrl;
    link.why = *why;
  } else if (!after.empty() && after[0] != ':') {
    link.problem = LinkProblem::kNoColon;
    // "- [a](b) - notes", "- [a](b) — notes": the separator goes.
    for (std::string_view separator : {"-", "\xE2\x80\x93", "\xE2\x80\x94", "|", ","}) {
      if (after.starts_with(separator)) {
        after = TrimBlanks(after.substr(separator.size()));
        break;
      }
    }
    link.notes = std::string(after);
  }
  return link;
}

// ---------------------------------------------------------------------------

struct Problem {
  std::size_t line;     // 0-based index
  std::string message;  // after "llms.txt line N: "
  std::string fix;
};

class Checker {
 public:
  explicit Checker(std::string_view site_url) {
    boost::system::result<boost::urls::url_view> url = boost::urls::parse_uri(site_url);
    if (url && !url->encoded_host().empty()) {
      origin_ = std::string(url->scheme()) + "://" + std::string(url->encoded_host_and_port());
      host_ = std::string(url->encoded_host());
    }
  }

  std::vector<Problem> Run(const std::vector<std::string_view>& lines) {
    for (index_ = 0; index_ < lines.size(); ++index_) Line(lines[index_]);
    return std::move(problems_);
  }

 private:
  enum class Part { kBeforeH1, kPreamble, kSection };

  // At most one problem per line: the first found.
  void Report(std::string message, std::string fix) {
    if (!problems_.empty() && problems_.back().line == index_) return;
    problems_.push_back(Problem{index_, std::move(message), std::move(fix)});
  }

  std::string ExampleLink() const { return "- [Page name](" + origin_ + "/page): notes"; }

  void Line(std::string_view line) {
    if (fence_) {
      if (ClosesFence(line, *fence_)) fence_.reset();
      return;
    }
    if (IsBlank(line)) {
      blank_since_item_ = true;
      return;
    }
    const std::optional<Heading> heading = AtxHeading(line);
    const int unspaced = heading ? 0 : HeadingWithoutSpace(line);

    if (part_ == Part::kBeforeH1) {
      part_ = Part::kPreamble;
      if (heading && heading->level == 1) {
        h1_seen_ = true;
        if (heading->text.empty()) {
          Report("the H1 is empty; it must name the site or project.",
                 "Write the name after the \"#\": \"# " + host_ + "\".");
        }
        return;
      }
      if (unspaced == 1) {
        h1_seen_ = true;  // meant as the H1
        const std::string_view name = Indented(line).second.substr(1);
        Report("\"" + Quoted(TrimBlanks(line)) +
                   "\" is not a Markdown heading: a space must follow the \"#\".",
               "Write \"# " + Quoted(TrimBlanks(name)) + "\".");
        return;
      }
      Report(
          "the file must start with an H1 naming the site or project (\"# Name\"), the one "
          "element llms.txt requires.",
          "Make the first line an H1 with the site's name, e.g. \"# " + host_ + "\".");
      // Then the line is read as what it is (Report keeps the one finding).
    }

    if (heading) {
      item_open_ = false;
      if (heading->level == 1 && !h1_seen_) {
        h1_seen_ = true;  // late: the first line was reported
      } else if (heading->level == 1) {
        Report("a second H1; llms.txt has one H1, the name on its first line.",
               "Make it an H2 section (\"## " + Quoted(heading->text) +
                   "\") holding a list of links, or plain text above the first section.");
      } else if (heading->level == 2) {
        StartSection(heading->text);
      } else {
        Report("an H" + std::to_string(heading->level) +
                   " heading; llms.txt allows only its H1 and H2 sections (\"## Name\").",
               "Make it an H2 section (\"## " + Quoted(heading->text) +
                   "\") holding a list of links, or plain text above the first section.");
      }
      return;
    }
    // "##Docs" is a section to the reference parser, text to Markdown. ("#word"
    // after the first line is taken as text.)
    if (unspaced >= 2) {
      item_open_ = false;
      const std::string hashes(static_cast<std::size_t>(unspaced), '#');
      const std::string_view text =
          TrimBlanks(Indented(line).second.substr(static_cast<std::size_t>(unspaced)));
      Report("\"" + Quoted(TrimBlanks(line)) + "\" is not a Markdown heading: a space must " +
                 "follow the \"" + hashes + "\".",
             "Write \"" + hashes + " " + Quoted(text) + "\".");
      if (unspaced == 2) StartSection(text);
      return;
    }

    const std::optional<Fence> fence = FenceOpening(line);
    if (part_ != Part::kSection) {
      if (fence) fence_ = fence;
      return;  // before the sections any Markdown but a heading is fine
    }

    // In a section: list items with links; an item's continuation lines.
    const std::size_t indent = Indented(line).first;
    const std::optional<std::string_view> item =
        IsThematicBreak(line) ? std::nullopt : ListItem(line);
    if (!item) {
      const bool continuation =
          item_open_ && (!blank_since_item_ || indent >= 2) && !IsThematicBreak(line);
      if (fence) fence_ = fence;
      if (continuation) return;
      item_open_ = false;
      Report(std::string("section \"") + Quoted(section_) + "\" holds " +
                 (fence ? "a code block" : "text that is not a list item") +
                 "; an H2 section is a list of links.",
             "Move it above the first ## section (any Markdown but a heading is allowed there), "
             "or make it a list item: \"" +
                 ExampleLink() + "\".");
      return;
    }
    item_open_ = true;
    blank_since_item_ = false;
    const Link link = ParseLink(*item);
    const std::string shown_url = link.url.empty() ? origin_ + "/page" : link.url;
    switch (link.problem) {
      case LinkProblem::kNone:
        return;
      case LinkProblem::kNotLink:
        Report("the list item in section \"" + Quoted(section_) +
                   "\" is not a link; each item must be \"- [name](url)\", optionally followed "
                   "by \": notes\".",
               "Write it as \"" + ExampleLink() + "\".");
        return;
      case LinkProblem::kNoName:
        Report("the link has no name (\"[](" + Quoted(link.url) + ")\").",
               "Put the page's name between the brackets: \"- [Page name](" + Quoted(shown_url) +
                   ")\".");
        return;
      case LinkProblem::kNoUrl:
        Report("the link \"" + Quoted(link.name) + "\" has no URL.",
               "Put the page's URL between the parentheses: \"- [" + Quoted(link.name) + "](" +
                   origin_ + "/page)\".");
        return;
      case LinkProblem::kBadUrl:
        Report("the URL of the link \"" + Quoted(link.name) + "\" does not parse" +
                   (link.why.empty() ? std::string() : " (" + link.why + ")") + ": " +
                   Quoted(link.url),
               "Fix the URL, percent-encoding spaces (%20) and other special characters; "
               "absolute (" +
                   origin_ + "/page) and relative (/page) URLs are both fine.");
        return;
      case LinkProblem::kNoColon:
        Report("the notes after the link \"" + Quoted(link.name) +
                   "\" must follow a colon (\"- [name](url): notes\").",
               "Write \"- [" + Quoted(link.name) + "](" + Quoted(link.url) +
                   "): " + Quoted(link.notes) + "\".");
        return;
    }
  }

  void StartSection(std::string_view name) {
    part_ = Part::kSection;
    section_ = std::string(name);
    item_open_ = false;
  }

  std::string origin_ = "https://example.com";
  std::string host_ = "example.com";
  std::vector<Problem> problems_;
  std::size_t index_ = 0;
  Part part_ = Part::kBeforeH1;
  bool h1_seen_ = false;
  std::optional<Fence> fence_;
  std::string section_;
  bool item_open_ = false;         // the last list item may still continue
  bool blank_since_item_ = false;  // a blank line came after it
};

Finding Make(std::string message, std::string fix, std::string_view evidence, int line) {
  Finding f;
  f.check_id = kInvalid;
  f.severity = Severity::kLow;
  f.message = std::move(message);
  f.fix = std::move(fix);
  f.evidence = Cut(evidence, kMaxEvidence);
  f.line = line;
  return f;
}

}  // namespace

std::vector<Finding> CheckLlmsTxtFormat(const SiteFile& llms_txt, std::string_view site_url) {
  std::vector<Finding> findings;
  if (llms_txt.status < 200 || llms_txt.status >= 300 || !llms_txt.error.empty() ||
      LooksLikeHtml(llms_txt.body)) {
    return findings;
  }
  std::string_view body = llms_txt.body;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  bool blank = true;
  for (char c : body) blank = blank && IsAsciiSpace(c);
  if (blank) {
    findings.push_back(Make("llms.txt is empty.",
                            "Start /llms.txt with an H1 naming the site (\"# Name\"), then a "
                            "one-line summary (\"> ...\") and ## sections listing links to the "
                            "site's key pages (see llmstxt.org).",
                            "", 0));
    return findings;
  }

  const std::vector<std::string_view> lines = SplitLines(body);
  const std::vector<Problem> problems = Checker(site_url).Run(lines);
  for (const Problem& p : problems) {
    if (findings.size() == kMaxFindings) break;
    const int number = static_cast<int>(p.line + 1);
    findings.push_back(Make("llms.txt line " + std::to_string(number) + ": " + p.message, p.fix,
                            lines[p.line], number));
  }
  if (problems.size() > findings.size()) {
    const std::size_t more = problems.size() - findings.size();
    findings.back().message += " (llms.txt has " + std::to_string(more) + " more " +
                               (more == 1 ? "problem" : "problems") + ", not listed.)";
  }
  return findings;
}

}  // namespace herald::audit
