#include "audit/analysis.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <cmath>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "audit/geo_checks.h"
#include "audit/llms_txt_check.h"
#include "audit/page_url.h"
#include "audit/robots.h"
#include "audit/robots_txt_check.h"
#include "audit/seo_checks.h"
#include "common/json_text.h"

namespace herald::audit {
namespace {

namespace json = boost::json;
namespace urls = boost::urls;

// ---------------------------------------------------------------------------
// Small string helpers. libxml2 hands out UTF-8; only ASCII bytes are ever
// changed here, so non-ASCII text passes through untouched.

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Replaces runs of whitespace (ASCII and U+00A0) by one space and trims.
std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool nbsp = static_cast<unsigned char>(s[i]) == 0xC2 && i + 1 < s.size() &&
                      static_cast<unsigned char>(s[i + 1]) == 0xA0;
    if (IsAsciiSpace(s[i]) || nbsp) {
      if (nbsp) ++i;
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(s[i]);
  }
  return out;
}

// Characters, not bytes: a 60-character Japanese title is not "too long".
std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// A word is a whitespace-separated token with at least one letter or digit
// (any non-ASCII byte counts as one), so "|" and "-" are not words. Scripts
// written without spaces (Chinese, Japanese) count one word per run: a known
// under-count, documented in docs/audit.md.
int CountWords(std::string_view text) {
  int words = 0;
  bool in_token = false;
  bool token_has_word_char = false;
  auto end_token = [&] {
    if (in_token && token_has_word_char) ++words;
    in_token = false;
    token_has_word_char = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool nbsp =
        c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0;
    if (IsAsciiSpace(static_cast<char>(c)) || nbsp) {
      if (nbsp) ++i;
      end_token();
      continue;
    }
    in_token = true;
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      token_has_word_char = true;
    }
  }
  end_token();
  return words;
}

// ---------------------------------------------------------------------------
// libxml2 access.

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

std::string_view Name(const xmlNode* node) {
  return node->name ? reinterpret_cast<const char*>(node->name) : std::string_view();
}

std::optional<std::string> Attr(const xmlNode* node, const char* name) {
  // The HTML parser lower-cases attribute names.
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

std::string TextContent(const xmlNode* node) {
  xmlChar* value = xmlNodeGetContent(node);
  if (value == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

// The element's opening tag as written (attributes in document order,
// values quoted), cut to about 200 bytes: evidence a person can search the
// page's source for.
std::string Snippet(const xmlNode* node) {
  constexpr std::size_t kMax = 200;
  std::string out = "<" + std::string(Name(node));
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    out += ' ';
    out += reinterpret_cast<const char*>(a->name);
    xmlChar* value = xmlNodeListGetString(node->doc, a->children, 1);
    if (value != nullptr) {
      std::string v = reinterpret_cast<const char*>(value);
      xmlFree(value);
      if (v.size() > 120) v = v.substr(0, 117) + "...";
      out += "=\"" + v + "\"";
    }
    if (out.size() > kMax) break;
  }
  if (out.size() > kMax) out = out.substr(0, kMax - 3) + "...";
  return out + ">";
}

ElementRef Where(const xmlNode* node) {
  return ElementRef{Snippet(node), static_cast<int>(xmlGetLineNo(node))};
}

// Elements whose boundaries do not separate words ("<b>foo</b>bar" is one
// word); every other element does ("<p>a</p><p>b</p>" is two).
bool IsInline(std::string_view name) {
  static constexpr std::array<std::string_view, 22> kInline = {
      "a",   "abbr", "b", "bdi", "bdo",  "cite",  "code", "data",   "dfn", "em",  "i",
      "kbd", "mark", "q", "s",   "samp", "small", "span", "strong", "sub", "sup", "u"};
  return std::find(kInline.begin(), kInline.end(), name) != kInline.end();
}

// Text a reader never sees. <head> is included so that the <title> does not
// count as body words.
bool IsInvisible(std::string_view name) {
  return name == "script" || name == "style" || name == "noscript" || name == "template" ||
         name == "head";
}

// The charset to tell libxml2: the Content-Type's if it has one; none when
// the document declares its own (libxml2 then honours <meta charset>);
// otherwise UTF-8, because libxml2 2.9 would assume ISO-8859-1 and mangle
// every non-ASCII character of an undeclared UTF-8 page.
std::optional<std::string> ChooseEncoding(const FetchedPage& page) {
  const std::string type = Lower(page.content_type);
  if (auto pos = type.find("charset="); pos != std::string::npos) {
    std::string_view cs = std::string_view(type).substr(pos + 8);
    cs = cs.substr(0, cs.find(';'));
    cs = Trim(cs);
    if (!cs.empty() && cs.front() == '"') cs.remove_prefix(1);
    if (!cs.empty() && cs.back() == '"') cs.remove_suffix(1);
    if (!cs.empty()) return std::string(cs);
  }
  const std::string head = Lower(std::string_view(page.body).substr(0, 2048));
  if (head.find("charset") != std::string::npos) return std::nullopt;
  return std::string("UTF-8");
}

// ---------------------------------------------------------------------------
// URLs.

// ---------------------------------------------------------------------------
// JSON-LD.

void AddType(const json::value& type, std::vector<std::string>& types) {
  auto add = [&](const json::value& v) {
    if (!v.is_string()) return;
    std::string t(v.get_string());
    if (!t.empty() && std::find(types.begin(), types.end(), t) == types.end()) {
      types.push_back(std::move(t));
    }
  };
  if (type.is_array()) {
    for (const auto& v : type.get_array()) add(v);
  } else {
    add(type);
  }
}

void AddSameAs(const json::object& object, std::vector<std::string>& same_as) {
  if (auto it = object.find("sameAs"); it != object.end()) {
    if (it->value().is_string()) same_as.emplace_back(it->value().get_string());
    if (it->value().is_array()) {
      for (const auto& u : it->value().get_array())
        if (u.is_string()) same_as.emplace_back(u.get_string());
    }
  }
}

void CollectEntities(const json::value& value, const ElementRef& where,
                     std::vector<JsonLdEntity>& out) {
  if (value.is_array()) {
    for (const auto& item : value.get_array()) CollectEntities(item, where, out);
    return;
  }
  if (!value.is_object()) return;
  const auto& object = value.get_object();
  if (auto it = object.find("@graph"); it != object.end()) CollectEntities(it->value(), where, out);
  JsonLdEntity e;
  e.where = where;
  if (auto it = object.find("@type"); it != object.end()) AddType(it->value(), e.types);
  if (e.types.empty()) return;
  AddSameAs(object, e.same_as);
  if (auto it = object.find("author"); it != object.end()) {
    const json::value& a = it->value();
    e.has_author = !(a.is_null() || (a.is_string() && a.get_string().empty()) ||
                     (a.is_array() && a.get_array().empty()));
  }
  auto text = [&](std::string_view key) {
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                         : std::string();
  };
  e.date_modified = text("dateModified");
  e.date_published = text("datePublished");
  e.has_main_entity = object.contains("mainEntity");
  out.push_back(std::move(e));
}

// Collects the objects with an @type nested in a block: inside a top-level
// entity's properties (the object, the items of a top-level array and of an
// @graph are top level), in document order, with their types and sameAs.
void CollectNested(const json::value& value, bool top, const ElementRef& where,
                   std::vector<JsonLdEntity>& out) {
  if (value.is_array()) {
    for (const auto& item : value.get_array()) CollectNested(item, top, where, out);
    return;
  }
  if (!value.is_object()) return;
  const auto& object = value.get_object();
  if (!top) {
    JsonLdEntity e;
    if (auto it = object.find("@type"); it != object.end()) AddType(it->value(), e.types);
    if (!e.types.empty()) {
      e.where = where;
      AddSameAs(object, e.same_as);
      out.push_back(std::move(e));
    }
  }
  for (const auto& kv : object) CollectNested(kv.value(), top && kv.key() == "@graph", where, out);
}

// Collects the @type of each top-level entity: the object itself, each item
// of a top-level array, and each item of an @graph. Nested values (an
// article's "author") are properties, not entities of the page, and are not
// collected.
void CollectTypes(const json::value& value, std::vector<std::string>& types) {
  if (value.is_array()) {
    for (const auto& item : value.get_array()) CollectTypes(item, types);
    return;
  }
  if (!value.is_object()) return;
  const auto& object = value.get_object();
  if (auto it = object.find("@type"); it != object.end()) AddType(it->value(), types);
  if (auto it = object.find("@graph"); it != object.end()) CollectTypes(it->value(), types);
}

// ---------------------------------------------------------------------------
// The walk over the parsed document.

struct Walker {
  explicit Walker(PageFacts& f) : facts(f) {}

  PageFacts& facts;
  bool title_seen = false;
  std::optional<std::string> base_href;
  std::optional<std::string> canonical_href;
  std::vector<std::string> hrefs;
  std::string visible_text;
  std::string main_text;  // visible text inside main/article
  int main_depth = 0;     // open <main>, role=main or <article> elements
  int chrome_depth = 0;   // open nav, aside, header, footer elements

  void Visit(const xmlNode* node, bool invisible) {
    for (const xmlNode* n = node; n != nullptr; n = n->next) {
      if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (!invisible && n->content != nullptr) {
          visible_text += reinterpret_cast<const char*>(n->content);
          if (main_depth > 0) {
            main_text += reinterpret_cast<const char*>(n->content);
            main_text += ' ';
          }
        }
        continue;
      }
      if (n->type != XML_ELEMENT_NODE) continue;
      const std::string name = Lower(Name(n));
      Element(n, name);
      const bool block = !IsInline(name);
      const bool main = name == "main" || name == "article" ||
                        Lower(Trim(Attr(n, "role").value_or(""))) == "main";
      const bool chrome = name == "nav" || name == "aside" || name == "header" || name == "footer";
      main_depth += main;
      chrome_depth += chrome;
      if (block) visible_text.push_back(' ');
      Visit(n->children, invisible || IsInvisible(name));
      if (block) visible_text.push_back(' ');
      main_depth -= main;
      chrome_depth -= chrome;
    }
  }

  void Element(const xmlNode* n, const std::string& name) {
    if (name == "html") {
      if (facts.html_where.snippet.empty()) facts.html_where = Where(n);
      if (auto lang = Attr(n, "lang"); lang && facts.lang.empty()) {
        facts.lang = std::string(Trim(*lang));
      }
    } else if (name == "title") {
      if (!title_seen) {
        title_seen = true;
        facts.title = CollapseWhitespace(TextContent(n));
        facts.title_where = Where(n);
      }
    } else if (name == "meta") {
      Meta(n);
    } else if (name == "link") {
      const std::string rel = Lower(Attr(n, "rel").value_or(""));
      auto href = Attr(n, "href");
      // rel is a token list: rel="canonical" or rel="alternate canonical".
      bool canonical = false;
      for (std::size_t i = 0; i < rel.size();) {
        while (i < rel.size() && IsAsciiSpace(rel[i])) ++i;
        std::size_t j = i;
        while (j < rel.size() && !IsAsciiSpace(rel[j])) ++j;
        if (std::string_view(rel).substr(i, j - i) == "canonical") canonical = true;
        i = j;
      }
      if ((" " + rel + " ").find(" author ") != std::string::npos) facts.has_rel_author = true;
      if (canonical && href) {
        if (!canonical_href) canonical_href = *href;
        facts.canonicals.emplace_back(*href, Where(n));
      }
      bool alternate = (" " + rel + " ").find(" alternate ") != std::string::npos;
      if (alternate) {
        if (auto lang = Attr(n, "hreflang")) {
          facts.hreflangs.push_back(
              HreflangLink{Where(n), std::string(Trim(*lang)), href.value_or(""), ""});
        }
      }
    } else if (name == "base") {
      if (auto href = Attr(n, "href"); href && !base_href) base_href = *href;
    } else if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') {
      const int level = name[1] - '0';
      facts.heading_levels.push_back(level);
      if (level == 1) ++facts.h1_count;
      std::string text = CollapseWhitespace(TextContent(n));
      const bool question = text.ends_with("?") || text.ends_with("\xEF\xBC\x9F") /* ？ */ ||
                            text.ends_with("\xD8\x9F") /* ؟ */;
      if (text.size() > 80) text = text.substr(0, 77) + "...";
      facts.headings.push_back(
          Heading{level, Where(n), std::move(text), main_depth > 0, chrome_depth > 0, question});
    } else if (name == "dl") {
      ++facts.dl_count;
    } else if (name == "table") {
      ++facts.table_count;
    } else if (name == "script") {
      const std::string type = Lower(Trim(Attr(n, "type").value_or("")));
      if (StartsWith(type, "application/ld+json")) {
        JsonLd(n, TextContent(n));
      } else {
        ++facts.script_count;
        facts.scripts.push_back(ScriptRef{Where(n), Attr(n, "src").has_value()});
      }
    } else if (name == "img") {
      ++facts.images;
      auto alt = Attr(n, "alt");
      if (!alt || CollapseWhitespace(*alt).empty()) ++facts.images_without_alt;
      Image image;
      image.where = Where(n);
      image.has_alt = alt.has_value();
      image.alt = alt.value_or("");
      for (const char* label : {"aria-label", "aria-labelledby", "title"}) {
        if (auto v = Attr(n, label); v && !Trim(*v).empty()) image.labelled = true;
      }
      const std::string role = Lower(Trim(Attr(n, "role").value_or("")));
      image.presentational = role == "none" || role == "presentation";
      facts.image_list.push_back(std::move(image));
    } else if (name == "a") {
      auto href = Attr(n, "href");
      if (href) hrefs.push_back(*href);
      Anchor a;
      a.where = Where(n);
      a.has_href = href.has_value();
      a.raw_href = href.value_or("");
      a.text = CollapseWhitespace(TextContent(n));
      a.rel = Lower(Attr(n, "rel").value_or(""));
      if ((" " + a.rel + " ").find(" author ") != std::string::npos) facts.has_rel_author = true;
      a.name = Attr(n, "name").value_or("");
      a.role = Attr(n, "role").value_or("");
      a.id = Attr(n, "id").value_or("");
      a.has_onclick = Attr(n, "onclick").has_value();
      for (const char* attr :
           {"target", "download", "ping", "rel", "hreflang", "type", "referrerpolicy"}) {
        if (Attr(n, attr)) a.has_href_associated = true;
      }
      facts.anchors.push_back(std::move(a));
    }
    if (!facts.empty_mount_point && IsEmptyMountPoint(n, name)) facts.empty_mount_point = Where(n);
  }

  // An element where a front-end framework mounts the page (id root, app,
  // __next, __nuxt, ___gatsby, svelte, or Angular's <app-root>) holding
  // nothing but whitespace and comments.
  static bool IsEmptyMountPoint(const xmlNode* n, const std::string& name) {
    static const std::set<std::string, std::less<>> kIds = {"root",   "app",       "__next",
                                                            "__nuxt", "___gatsby", "svelte"};
    static const std::set<std::string, std::less<>> kVoid = {
        "area", "base", "br",    "col",    "embed", "hr",  "img",    "input",
        "link", "meta", "param", "source", "track", "wbr", "script", "keygen"};
    const bool mount =
        name == "app-root" ||
        (!kVoid.contains(name) && kIds.contains(Lower(Trim(Attr(n, "id").value_or("")))));
    if (!mount) return false;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_COMMENT_NODE) continue;
      if (c->type == XML_TEXT_NODE &&
          (c->content == nullptr || Trim(reinterpret_cast<const char*>(c->content)).empty())) {
        continue;
      }
      return false;
    }
    return true;
  }

  void Meta(const xmlNode* n) {
    const std::string meta_name = Lower(Trim(Attr(n, "name").value_or("")));
    const std::string property = Lower(Trim(Attr(n, "property").value_or("")));
    const std::string content = Attr(n, "content").value_or("");
    const std::string equiv = Lower(Trim(Attr(n, "http-equiv").value_or("")));
    const std::string& key = !meta_name.empty() ? meta_name : !property.empty() ? property : equiv;
    if (!key.empty() && facts.metas.size() < 200) {
      facts.metas.push_back(MetaTag{key, content, Where(n)});
    }
    if (meta_name == "description" && facts.meta_description.empty()) {
      facts.meta_description = CollapseWhitespace(content);
    } else if (meta_name == "robots" || meta_name == "googlebot") {
      // "none" is shorthand for "noindex, nofollow".
      const std::string directives = Lower(content);
      if (directives.find("noindex") != std::string::npos ||
          CollapseWhitespace(directives) == "none") {
        facts.noindex = true;
      }
    }
    if (StartsWith(property, "og:") && !Trim(content).empty() &&
        std::find(facts.og_properties.begin(), facts.og_properties.end(), property) ==
            facts.og_properties.end()) {
      facts.og_properties.push_back(property);
    }
  }

  void JsonLd(const xmlNode* script, const std::string& text) {
    boost::system::error_code ec;
    json::stream_parser parser;
    std::size_t used = parser.write(text, ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      ++facts.jsonld_invalid;
      // Where it failed, as a line and column of the page: the script's
      // line plus the newlines before the error's offset.
      const std::size_t at = std::min(used, text.size());
      const std::string_view before = std::string_view(text).substr(0, at);
      const auto newlines = std::count(before.begin(), before.end(), '\n');
      const std::size_t column =
          at - (before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1) + 1;
      ElementRef where = Where(script);
      const int line = where.line + static_cast<int>(newlines);
      std::string near(Trim(std::string_view(text).substr(at > 20 ? at - 20 : 0, 40)));
      for (char& c : near)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      facts.jsonld_errors.emplace_back(
          (text.find_first_not_of(" \t\r\n") == std::string::npos
               ? std::string("the block is empty")
               : ec.message()) +
              " at line " + std::to_string(line) + " (character " + std::to_string(column) +
              " of that line of the block)" +
              (near.empty() ? std::string() : " (near \"" + near + "\")"),
          std::move(where));
      return;
    }
    json::value value = parser.release();
    const ElementRef where = Where(script);
    CollectTypes(value, facts.jsonld_types);
    CollectEntities(value, where, facts.jsonld_entities);
    CollectNested(value, true, where, facts.jsonld_nested);
  }
};

bool IsHtml(const FetchedPage& page) {
  const std::string type = Lower(page.content_type);
  return type.empty() || type.find("html") != std::string::npos;
}

bool Failed(const FetchedPage& page) { return !page.error.empty() || page.status == 0; }

// A 200 answer that is really an HTML error page ("soft 404") does not count
// as the file being there.
bool Present(const SiteFile& file, bool expect_xml) {
  if (file.status < 200 || file.status >= 300 || !file.error.empty()) return false;
  const std::string head = Lower(Trim(std::string_view(file.body).substr(0, 512)));
  if (StartsWith(head, "<!doctype html") || StartsWith(head, "<html")) return false;
  if (expect_xml) {
    const std::string lower = Lower(std::string_view(file.body).substr(0, 4096));
    return lower.find("<urlset") != std::string::npos ||
           lower.find("<sitemapindex") != std::string::npos;
  }
  return !Trim(file.body).empty();
}

// ---------------------------------------------------------------------------
// AI crawlers and categories.

struct AiCrawler {
  std::string_view agent;
  std::string_view id_suffix;
  Severity severity;
  std::string_view who;
};

constexpr std::array<AiCrawler, 5> kAiCrawlers = {{
    {"GPTBot", "gptbot", Severity::kCritical, "OpenAI (ChatGPT)"},
    {"ClaudeBot", "claudebot", Severity::kCritical, "Anthropic (Claude)"},
    {"PerplexityBot", "perplexitybot", Severity::kCritical, "Perplexity"},
    {"Google-Extended", "google_extended", Severity::kHigh, "Google Gemini and AI training"},
    {"CCBot", "ccbot", Severity::kMedium, "Common Crawl (used to train many models)"},
}};

enum class RobotsState { kRulesRead, kMissing, kUnreachable };

RobotsState RobotsStateOf(const SiteFile& robots) {
  if (robots.status >= 200 && robots.status < 300 && robots.error.empty()) {
    return RobotsState::kRulesRead;
  }
  if (robots.status >= 400 && robots.status < 500) return RobotsState::kMissing;
  return RobotsState::kUnreachable;
}

bool HasSitemapLine(std::string_view robots) {
  std::size_t pos = 0;
  while (pos < robots.size()) {
    std::size_t nl = robots.find('\n', pos);
    if (nl == std::string_view::npos) nl = robots.size();
    const std::string line = Lower(Trim(robots.substr(pos, nl - pos)));
    if (StartsWith(line, "sitemap:") && !Trim(std::string_view(line).substr(8)).empty()) {
      return true;
    }
    pos = nl + 1;
  }
  return false;
}

struct CategoryDef {
  std::string_view name;
  double weight;
};

// Weights as documented in docs/audit.md; they sum to 1.
constexpr std::array<CategoryDef, 5> kCategories = {{
    {"crawler_access", 0.30},
    {"structured_data", 0.20},
    {"content", 0.20},
    {"metadata", 0.15},
    {"technical", 0.15},
}};

std::size_t CategoryIndex(std::string_view check_id) {
  const std::string_view prefix = check_id.substr(0, check_id.find('.'));
  if (prefix == "robots" || prefix == "robots_txt" || prefix == "llms_txt" || prefix == "sitemap" ||
      prefix == "ai_directives" || check_id == "page.noindex" ||
      check_id == "page.noindex_google") {
    return 0;
  }
  if (prefix == "structured_data" || prefix == "entity") return 1;
  if (prefix == "content" || prefix == "headings" || prefix == "h1" || prefix == "answers" ||
      prefix == "citations" || prefix == "authorship" || prefix == "freshness") {
    return 2;
  }
  if (prefix == "title" || prefix == "meta_description" || prefix == "open_graph" ||
      prefix == "canonical" || prefix == "html" || prefix == "hreflang") {
    return 3;
  }
  return 4;  // page.http_error, page.fetch_failed, links, security, performance, images
}

double Penalty(Severity severity) {
  switch (severity) {
    case Severity::kCritical:
      return 40;
    case Severity::kHigh:
      return 20;
    case Severity::kMedium:
      return 8;
    case Severity::kLow:
      return 3;
  }
  return 0;
}

double Round1(double x) { return std::round(x * 10.0) / 10.0; }

Finding Make(std::string check_id, Severity severity, std::string page, std::string message,
             std::string fix) {
  return Finding{std::move(check_id), severity, std::move(page), std::move(message),
                 std::move(fix)};
}

}  // namespace

// ---------------------------------------------------------------------------

PageFacts AnalyzeHtml(const FetchedPage& page) {
  PageFacts facts;
  facts.url = page.url;
  facts.status = page.status;
  facts.response_ms = page.response_ms;
  facts.bytes = page.bytes;

  const std::string& location = page.final_url.empty() ? page.url : page.final_url;
  auto page_url = NormalizedUrl(location);
  facts.https = page_url && page_url->scheme_id() == urls::scheme::https;

  if (page.body.empty() || !IsHtml(page)) return facts;

  const auto encoding = ChooseEncoding(page);
  XmlDocPtr doc(htmlReadMemory(
      page.body.data(), static_cast<int>(page.body.size()), location.c_str(),
      encoding ? encoding->c_str() : nullptr,
      HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER));
  if (!doc) return facts;

  Walker walker(facts);
  walker.Visit(xmlDocGetRootElement(doc.get()), false);
  facts.word_count = CountWords(walker.visible_text);
  facts.main_word_count = CountWords(walker.main_text);

  if (!page_url) return facts;
  urls::url base = *page_url;
  if (walker.base_href) {
    if (auto resolved = ResolveHref(*page_url, *walker.base_href)) base = *resolved;
  }
  if (walker.canonical_href) {
    if (auto resolved = ResolveHref(base, *walker.canonical_href)) {
      facts.canonical = std::string(resolved->buffer());
    }
  }
  for (HreflangLink& link : facts.hreflangs) {
    if (auto resolved = ResolveHref(base, link.raw_href))
      link.href = std::string(resolved->buffer());
  }
  const std::string host = Lower(page_url->encoded_host());
  std::set<std::string> seen;
  for (const auto& href : walker.hrefs) {
    auto link = ResolveHref(base, href);
    if (!link) continue;
    const auto scheme = link->scheme_id();
    if (scheme != urls::scheme::http && scheme != urls::scheme::https) continue;
    std::string text(link->buffer());
    if (Lower(link->encoded_host()) != host) {
      if (facts.external_links.size() < 500 &&
          std::find(facts.external_links.begin(), facts.external_links.end(), text) ==
              facts.external_links.end()) {
        facts.external_links.push_back(std::move(text));
      }
      continue;
    }
    if (seen.insert(text).second) facts.internal_links.push_back(std::move(text));
  }
  return facts;
}

std::vector<Finding> CheckPage(const PageFacts& facts, const FetchedPage& page) {
  std::vector<Finding> out;
  const std::string& url = facts.url;
  auto add = [&](std::string id, Severity severity, std::string message, std::string fix) {
    out.push_back(Make(std::move(id), severity, url, std::move(message), std::move(fix)));
  };

  // Pages that did not load: redirect loops are reported by CheckSite
  // ("links.redirect_loop"); other transport failures here. Nothing else can
  // be checked on them.
  if (!page.error.empty() || page.status == 0) {
    if (page.error_kind != "too_many_redirects") {
      add("page.fetch_failed", Severity::kHigh,
          "The page could not be fetched: " +
              (page.error.empty() ? std::string("no response") : page.error) + ".",
          "Make sure the server answers this URL quickly over HTTP(S); AI crawlers give up on "
          "pages that time out or fail to connect.");
    }
    return out;
  }
  if (page.status >= 400) {
    add("page.http_error", Severity::kHigh,
        "The page answered HTTP " + std::to_string(page.status) + ", so crawlers cannot read it.",
        "Serve the content with status 200, or remove the links to this URL and redirect it "
        "(301) to the page that replaced it.");
    return out;
  }
  // What AI answer engines need beyond SEO (geo_checks.cc); for a PDF or
  // an image only what its headers say.
  CheckGeoPage(facts, page, out);
  if (!IsHtml(page)) return out;  // PDFs, images: no HTML checks apply.

  // Indexability, canonical, hreflang, image alt, link text, crawlable
  // anchors: Lighthouse's verdicts (seo_checks.cc).
  CheckSeoPage(facts, page, out);

  if (facts.title.empty()) {
    add("title.missing", Severity::kHigh, "The page has no <title> (or an empty one).",
        "Add a unique, descriptive <title> of 10-70 characters inside <head>.");
  } else {
    const std::size_t length = Utf8Length(facts.title);
    if (length > 70) {
      add("title.length", Severity::kLow,
          "The title is " + std::to_string(length) + " characters long; it will be cut off.",
          "Shorten the <title> to 70 characters or fewer, with the key topic first.");
    } else if (length < 10) {
      add("title.length", Severity::kLow,
          "The title \"" + facts.title + "\" is only " + std::to_string(length) +
              " characters long and says little about the page.",
          "Write a <title> of 10-70 characters that names the page's topic.");
    }
    if (length > 70 || length < 10) {
      std::string shown = facts.title;
      if (shown.size() > 180) {
        std::size_t cut = 177;  // not inside a UTF-8 sequence
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
        shown = shown.substr(0, cut) + "...";
      }
      out.back().evidence = "<title>" + shown + "</title>";
      out.back().line = facts.title_where.line;
    }
  }

  if (facts.meta_description.empty()) {
    add("meta_description.missing", Severity::kMedium, "The page has no meta description.",
        "Add <meta name=\"description\" content=\"...\"> with a 50-160 character summary of "
        "the page; answer engines often quote it.");
  }

  if (facts.h1_count == 0) {
    add("h1.missing", Severity::kMedium, "The page has no <h1> heading.",
        "Add exactly one <h1> that states the page's main topic.");
  } else if (facts.h1_count > 1) {
    add("h1.multiple", Severity::kLow,
        "The page has " + std::to_string(facts.h1_count) + " <h1> headings.",
        "Keep one <h1> for the main topic and turn the others into <h2>.");
    // The second one is where the outline forks.
    int seen = 0;
    for (const Heading& h : facts.headings) {
      if (h.level == 1 && ++seen == 2) {
        out.back().evidence = h.where.snippet + h.text + "</h1>";
        out.back().line = h.where.line;
        break;
      }
    }
  }

  // The document's own outline: headings in <main>, role=main or
  // <article>; without those, every heading outside nav, aside, header
  // and footer. A site template's sidebar is not the document.
  std::vector<const Heading*> outline;
  const bool has_main = std::any_of(facts.headings.begin(), facts.headings.end(),
                                    [](const Heading& h) { return h.in_main; });
  for (const Heading& h : facts.headings) {
    if (has_main ? h.in_main : !h.in_chrome) outline.push_back(&h);
  }
  int skips = 0;
  const Heading* first_skip = nullptr;
  for (std::size_t i = 1; i < outline.size(); ++i) {
    if (outline[i]->level > outline[i - 1]->level + 1) {
      if (skips == 0) first_skip = outline[i];
      ++skips;
    }
  }
  if (skips > 0) {
    const int from = [&] {
      for (std::size_t i = 1; i < outline.size(); ++i)
        if (outline[i] == first_skip) return outline[i - 1]->level;
      return 0;
    }();
    Finding f = Make("headings.skipped_level", Severity::kLow, url,
                     "Heading levels are skipped " +
                         (skips == 1 ? std::string("once") : std::to_string(skips) + " times") +
                         " in the page's content, first h" + std::to_string(from) + " → h" +
                         std::to_string(first_skip->level) + " (\"" + first_skip->text + "\").",
                     "Nest headings one level at a time (h1 → h2 → h3) so the outline is easy to "
                     "follow.");
    f.evidence = first_skip->where.snippet;
    f.line = first_skip->where.line;
    out.push_back(std::move(f));
  }

  if (facts.lang.empty()) {
    add("html.lang_missing", Severity::kMedium, "The <html> element has no lang attribute.",
        "Declare the page's language, e.g. <html lang=\"en\">.");
    out.back().evidence = facts.html_where.snippet;
    out.back().line = facts.html_where.line;
  }

  if (facts.canonical.empty()) {
    add("canonical.missing", Severity::kLow, "The page has no canonical link.",
        "Add <link rel=\"canonical\" href=\"" + url +
            "\"> (or the preferred URL) so duplicates are credited to one address.");
  }

  const auto has_og = [&](std::string_view p) {
    return std::find(facts.og_properties.begin(), facts.og_properties.end(), p) !=
           facts.og_properties.end();
  };
  const bool og_title = has_og("og:title");
  const bool og_description = has_og("og:description");
  if (!og_title || !og_description) {
    std::string missing = !og_title && !og_description ? "og:title and og:description"
                          : !og_title                  ? "og:title"
                                                       : "og:description";
    add("open_graph.missing", Severity::kLow, "The page has no Open Graph " + missing + ".",
        "Add <meta property=\"og:title\" content=\"...\"> and <meta "
        "property=\"og:description\" content=\"...\"> in <head>.");
  }

  if (facts.jsonld_types.empty() && facts.jsonld_invalid == 0) {
    add("structured_data.missing", Severity::kMedium, "The page has no JSON-LD structured data.",
        "Describe the page with schema.org JSON-LD in <script type=\"application/ld+json\"> "
        "(e.g. Organization, WebSite, Article, Product, FAQPage).");
  }
  if (facts.jsonld_invalid > 0) {
    const auto& [error, where] = facts.jsonld_errors.front();
    Finding f =
        Make("structured_data.invalid", Severity::kHigh, url,
             (facts.jsonld_invalid == 1 ? std::string("A JSON-LD block is not valid JSON: ")
                                        : std::to_string(facts.jsonld_invalid) +
                                              " JSON-LD blocks are not valid JSON; the first: ") +
                 error + ".",
             "Fix the JSON syntax (trailing commas, unescaped quotes, comments) and check "
             "the block with a JSON-LD or Rich Results validator.");
    f.evidence = where.snippet;
    f.line = where.line;
    out.push_back(std::move(f));
  }

  if (facts.word_count < 200) {
    add("content.thin", Severity::kMedium,
        "The page has only " + std::to_string(facts.word_count) + " words of visible text.",
        "Expand the page to at least 200 words of real, server-rendered content that answers "
        "the visitor's question; text injected by JavaScript is invisible to most AI crawlers.");
  }

  if (facts.response_ms > 2000) {
    add("performance.slow", Severity::kMedium,
        "The page took " + std::to_string(static_cast<long long>(std::lround(facts.response_ms))) +
            " ms to load.",
        "Bring the response under 2 seconds: cache the page, use a CDN, and reduce server-side "
        "work.");
  }
  if (page.truncated || facts.bytes > 1024 * 1024) {
    // The true size: the crawler reads a cut page to its end (or to its
    // counting limit, "at least").
    const std::string size = std::string(page.bytes_at_least ? "at least " : "") +
                             std::to_string(facts.bytes / 1024) + " KB";
    add("performance.heavy", Severity::kLow,
        "The page is " + size +
            (page.truncated ? "; the audit read only its first " +
                                  std::to_string(page.body.size() / 1024) + " KB."
                            : ", over 1 MB."),
        "Reduce the HTML size below 1 MB: remove inlined scripts, styles and data, and paginate "
        "long lists.");
  }

  // Reported per page; the per-page scaling in Score makes an all-HTTP site
  // cost the same as one site-wide finding.
  if (!facts.https) {
    add("security.no_https", Severity::kMedium, "The page is served over plain HTTP.",
        "Serve the site over HTTPS and redirect http:// to https:// with a 301.");
  }
  return out;
}

std::vector<Finding> CheckSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages) {
  std::vector<Finding> out;
  auto add = [&](std::string id, Severity severity, std::string page, std::string message,
                 std::string fix) {
    out.push_back(
        Make(std::move(id), severity, std::move(page), std::move(message), std::move(fix)));
  };

  switch (RobotsStateOf(crawl.robots_txt)) {
    case RobotsState::kRulesRead:
      for (const auto& bot : kAiCrawlers) {
        if (IsAllowed(crawl.robots_txt.body, bot.agent, "/")) continue;
        add("robots.blocks_" + std::string(bot.id_suffix), bot.severity, "",
            "robots.txt blocks " + std::string(bot.agent) + " (" + std::string(bot.who) +
                ") from the site, so it cannot read or cite your pages.",
            "In robots.txt, add \"User-agent: " + std::string(bot.agent) +
                "\" followed by \"Allow: /\", or remove the Disallow rule that matches it.");
      }
      break;
    case RobotsState::kMissing:
      add("robots.missing", Severity::kLow, "",
          "The site has no robots.txt (HTTP " + std::to_string(crawl.robots_txt.status) + ").",
          "Publish /robots.txt that allows GPTBot, ClaudeBot, PerplexityBot, Google-Extended and "
          "CCBot and names your sitemap with a Sitemap: line.");
      break;
    case RobotsState::kUnreachable:
      // Crawlers treat a robots.txt that errors as "disallow everything".
      add("robots.unreachable", Severity::kHigh, "",
          "robots.txt could not be fetched (" +
              (crawl.robots_txt.error.empty() ? "HTTP " + std::to_string(crawl.robots_txt.status)
                                              : crawl.robots_txt.error) +
              "); crawlers treat this as the whole site being off limits.",
          "Make /robots.txt answer 200 (or 404 if you have none) reliably.");
      break;
  }

  // robots.txt as Lighthouse reads it, line by line; a 5xx is reported
  // above as robots.unreachable already.
  for (Finding& f : CheckRobotsTxtSyntax(crawl.robots_txt, crawl.start_url)) {
    if (f.check_id != "robots_txt.server_error") out.push_back(std::move(f));
  }
  // llms.txt against its published format, when there is one (a blank one
  // is reported as missing below).
  if (Present(crawl.llms_txt, false)) {
    for (Finding& f : CheckLlmsTxtFormat(crawl.llms_txt, crawl.start_url))
      out.push_back(std::move(f));
  }

  if (!Present(crawl.llms_txt, false)) {
    add("llms_txt.missing", Severity::kMedium, "", "The site has no /llms.txt.",
        "Publish /llms.txt: a Markdown file with the site's name, a one-paragraph summary and "
        "links to its most important pages (see llmstxt.org).");
  }

  if (!Present(crawl.sitemap_xml, true) && !HasSitemapLine(crawl.robots_txt.body)) {
    add("sitemap.missing", Severity::kMedium, "",
        "No sitemap found: /sitemap.xml is missing and robots.txt has no Sitemap: line.",
        "Publish an XML sitemap listing every public page and add \"Sitemap: "
        "https://<your-host>/sitemap.xml\" to robots.txt.");
  }

  // Broken internal links, one finding per source page listing the targets.
  std::map<std::string, const FetchedPage*> by_url;
  for (const auto& page : crawl.pages) {
    by_url.emplace(UrlKey(page.url), &page);
    if (!page.final_url.empty()) by_url.emplace(UrlKey(page.final_url), &page);
  }
  for (const auto& facts : pages) {
    std::vector<std::string> broken;
    for (const auto& link : facts.internal_links) {
      auto it = by_url.find(UrlKey(link));
      if (it == by_url.end()) continue;  // not crawled: unknown, not broken
      const FetchedPage& target = *it->second;
      if (Failed(target) || target.status >= 400) {
        broken.push_back(
            link +
            (target.status >= 400
                 ? " (HTTP " + std::to_string(target.status) + ")"
                 : " (" + (target.error.empty() ? std::string("no response") : target.error) +
                       ")"));
      }
    }
    if (broken.empty()) continue;
    std::string list;
    for (std::size_t i = 0; i < broken.size() && i < 10; ++i) {
      list += (i ? ", " : "") + broken[i];
    }
    if (broken.size() > 10) list += ", and " + std::to_string(broken.size() - 10) + " more";
    add("links.broken", Severity::kHigh, facts.url,
        "The page links to " +
            (broken.size() == 1 ? std::string("a broken internal URL: ")
                                : std::to_string(broken.size()) + " broken internal URLs: ") +
            list + ".",
        "Update or remove these links, or restore the pages they point to (or 301-redirect "
        "them to their replacements).");
    // Evidence: the first <a> that leads to the first broken target.
    const std::string first = UrlKey(broken.front().substr(0, broken.front().find(" (")));
    if (auto page_url = NormalizedUrl(facts.url)) {
      for (const Anchor& a : facts.anchors) {
        auto target = a.has_href ? ResolveHref(*page_url, a.raw_href) : std::nullopt;
        if (target && UrlKey(target->buffer()) == first) {
          out.back().evidence = a.where.snippet + a.text + "</a>";
          out.back().line = a.where.line;
          break;
        }
      }
    }
  }

  CheckSeoSite(crawl, pages, out);
  CheckGeoSite(crawl, pages, out);

  for (const auto& page : crawl.pages) {
    if (page.error_kind == "too_many_redirects") {
      add("links.redirect_loop", Severity::kHigh, page.url,
          "The URL redirects in a loop (or through too many hops) and never reaches a page.",
          "Fix the redirect rules so the URL reaches its final page in one 301 hop.");
    }
  }
  return out;
}

std::vector<Finding> MergeRepeated(std::vector<Finding> findings) {
  std::map<std::tuple<std::string, Severity, std::string, std::string>, std::size_t> first;
  std::vector<Finding> out;
  out.reserve(findings.size());
  for (Finding& f : findings) {
    if (f.page.empty()) {
      out.push_back(std::move(f));
      continue;
    }
    auto key = std::make_tuple(f.check_id, f.severity, f.message, f.fix);
    auto [it, fresh] = first.emplace(std::move(key), out.size());
    if (fresh) {
      out.push_back(std::move(f));
      continue;
    }
    Finding& merged = out[it->second];
    if (merged.pages.empty()) {
      merged.pages.push_back(std::move(merged.page));
      merged.page.clear();
      merged.evidence.clear();  // each page's element differs; the pages say where
      merged.line = 0;
    }
    merged.pages.push_back(std::move(f.page));
  }
  return out;
}

ScoreBreakdown Score(const std::vector<Finding>& findings, int pages_analyzed) {
  const double pages = pages_analyzed > 0 ? pages_analyzed : 1;
  std::array<double, kCategories.size()> penalty{};
  // A site-wide check counts once however many lines it names (twenty bad
  // robots.txt lines are one bad robots.txt, as for Lighthouse).
  std::set<std::string> site_checks;
  for (const auto& finding : findings) {
    if (finding.page.empty() && finding.pages.empty() &&
        !site_checks.insert(finding.check_id).second) {
      continue;
    }
    const double p = Penalty(finding.severity);
    // A page's finding costs its share of the site; a merged one, the
    // share of every page it lists; a site-wide one, the whole.
    const double share = !finding.pages.empty() ? static_cast<double>(finding.pages.size()) / pages
                         : finding.page.empty() ? 1.0
                                                : 1.0 / pages;
    penalty[CategoryIndex(finding.check_id)] += p * std::min(share, 1.0);
  }
  ScoreBreakdown out;
  double total = 0;
  for (std::size_t i = 0; i < kCategories.size(); ++i) {
    const double score = std::clamp(100.0 - penalty[i], 0.0, 100.0);
    total += kCategories[i].weight * score;
    out.categories.push_back(
        {std::string(kCategories[i].name), kCategories[i].weight, Round1(score)});
  }
  out.geo_score = Round1(total);
  return out;
}

std::string BuildReport(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                        const std::vector<Finding>& findings, const ScoreBreakdown& score) {
  json::object report;
  report["geo_score"] = score.geo_score;

  json::array breakdown;
  for (const auto& c : score.categories) {
    breakdown.push_back(json::object{{"name", c.name}, {"weight", c.weight}, {"score", c.score}});
  }
  report["score_breakdown"] = std::move(breakdown);

  constexpr std::array<Severity, 4> kOrder = {Severity::kCritical, Severity::kHigh,
                                              Severity::kMedium, Severity::kLow};
  json::object counts;
  json::object grouped;
  for (Severity s : kOrder) {
    counts[ToString(s)] = 0;
    grouped[ToString(s)] = json::array();
  }
  std::map<std::string, int> per_page;
  for (const auto& f : findings) {
    counts[ToString(f.severity)] = counts[ToString(f.severity)].as_int64() + 1;
    json::object entry{
        {"check_id", f.check_id}, {"page", f.page}, {"message", f.message}, {"fix", f.fix}};
    if (!f.evidence.empty()) entry["evidence"] = f.evidence;
    if (f.line > 0) entry["line"] = f.line;
    if (!f.pages.empty()) {
      json::array list;
      for (const auto& p : f.pages) {
        list.push_back(json::string(p));
        ++per_page[p];
      }
      entry["pages"] = std::move(list);
    }
    grouped[ToString(f.severity)].as_array().push_back(std::move(entry));
    if (!f.page.empty()) ++per_page[f.page];
  }
  report["issue_counts"] = std::move(counts);
  report["total_pages"] = crawl.pages.size();
  report["findings"] = std::move(grouped);

  std::map<std::string, const PageFacts*> facts_by_url;
  for (const auto& f : pages) facts_by_url.emplace(f.url, &f);
  json::array page_list;
  for (const auto& page : crawl.pages) {
    const PageFacts* facts = nullptr;
    if (auto it = facts_by_url.find(page.url); it != facts_by_url.end()) facts = it->second;
    json::array types;
    if (facts) {
      for (const auto& t : facts->jsonld_types) types.push_back(json::string(t));
    }
    json::object entry{
        {"url", page.url},
        {"status", page.status},
        {"title", facts ? facts->title : std::string()},
        {"word_count", facts ? facts->word_count : 0},
        {"response_ms", page.response_ms},
        {"bytes", page.bytes},
        {"h1_count", facts ? facts->h1_count : 0},
        {"jsonld_types", std::move(types)},
        {"issues", per_page.count(page.url) ? per_page[page.url] : 0},
    };
    if (!page.error.empty()) entry["error"] = page.error;
    page_list.push_back(std::move(entry));
  }
  report["pages"] = std::move(page_list);

  json::object crawlers;
  const RobotsState robots_state = RobotsStateOf(crawl.robots_txt);
  for (const auto& bot : kAiCrawlers) {
    std::string_view state = "allowed";  // no robots.txt: everything is allowed
    if (robots_state == RobotsState::kUnreachable) {
      state = "unknown";
    } else if (robots_state == RobotsState::kRulesRead &&
               !IsAllowed(crawl.robots_txt.body, bot.agent, "/")) {
      state = "blocked";
    }
    crawlers[bot.agent] = state;
  }
  json::array skipped;
  for (const auto& url : crawl.skipped_by_robots) skipped.push_back(json::string(url));
  report["site"] = json::object{
      {"robots_txt", crawl.robots_txt.status},   {"llms_txt", crawl.llms_txt.status},
      {"sitemap", crawl.sitemap_xml.status},     {"ai_crawlers", std::move(crawlers)},
      {"skipped_by_robots", std::move(skipped)},
  };
  if (crawl.crawl_delay_seconds > 0) {
    report["site"].as_object()["crawl_delay"] =
        json::object{{"seconds", crawl.crawl_delay_seconds}, {"capped", crawl.crawl_delay_capped}};
  }
  return JsonText(report);
}

}  // namespace herald::audit
