#include "audit/seo_checks.h"

#include <boost/url.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "audit/page_url.h"
#include "audit/site_text.h"

namespace herald::audit {
namespace {

namespace urls = boost::urls;
using site_text::Lower;
using site_text::Trim;

std::string WithoutSpaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// `href` against the page's URL (no <base>: enough to compare targets); an
// empty href is the page itself, as a browser resolves it.
std::optional<urls::url> Against(std::string_view page_url, std::string_view href) {
  auto base = NormalizedUrl(page_url);
  if (!base) return std::nullopt;
  if (Trim(href).empty()) return base;
  return ResolveHref(*base, href);
}

// The first few elements of a list, for a message: `<a href="#">` (line 12).
template <typename T, typename F>
std::string List(const std::vector<const T*>& items, F where, std::size_t most = 3) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < most; ++i) {
    const ElementRef& w = where(*items[i]);
    out +=
        (i ? ", " : "") + w.snippet + (w.line > 0 ? " (line " + std::to_string(w.line) + ")" : "");
  }
  if (items.size() > most) out += ", and " + std::to_string(items.size() - most) + " more";
  return out;
}

Finding At(std::string check_id, Severity severity, const std::string& page, std::string message,
           std::string fix, const ElementRef& where) {
  Finding f{std::move(check_id), severity, page, std::move(message), std::move(fix)};
  f.evidence = where.snippet;
  f.line = where.line;
  return f;
}

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// ---------------------------------------------------------------------------
// link-text: Lighthouse's list of link texts that say nothing about the
// target (core/audits/seo/link-text.js, the English entries and those of
// the languages most sites here are written in).
bool IsGenericLinkText(std::string_view text) {
  static const std::set<std::string, std::less<>> kGeneric = {
      // en
      "click here", "click this", "go", "here", "information", "learn more", "more", "more info",
      "more information", "right here", "read more", "see more", "start", "this",
      // es
      "click aquí", "haga clic aquí", "aquí", "más", "más información", "leer más", "ver más",
      // de
      "hier klicken", "hier", "mehr", "mehr erfahren", "weiterlesen", "mehr infos",
      // fr
      "cliquez ici", "cliquer ici", "ici", "plus", "en savoir plus", "lire la suite",
      // pt
      "clique aqui", "aqui", "mais", "saiba mais", "leia mais",
      // it
      "clicca qui", "qui", "altro", "scopri di più", "leggi di più"};
  return kGeneric.contains(Lower(Trim(text)));
}

void CheckLinkText(const PageFacts& facts, std::vector<Finding>& out) {
  std::vector<const Anchor*> bad;
  const auto self = NormalizedUrl(facts.url);
  for (const Anchor& a : facts.anchors) {
    if (!a.has_href || Lower(Trim(a.raw_href)).starts_with("javascript:")) continue;
    if ((" " + a.rel + " ").find(" nofollow ") != std::string::npos) continue;
    if (!IsGenericLinkText(a.text)) continue;  // most links: no URL work at all
    // A link to this very page (a fragment, or href="") is not judged.
    if (self) {
      auto target = Trim(a.raw_href).empty() ? self : ResolveHref(*self, a.raw_href);
      if (target && target->buffer() == self->buffer()) continue;
    }
    bad.push_back(&a);
  }
  if (bad.empty()) return;
  out.push_back(At(
      "links.text_not_descriptive", Severity::kLow, facts.url,
      Plural(bad.size(), "link says", "links say") + " nothing about where it goes (\"" +
          bad.front()->text +
          "\"): " + List(bad, [](const Anchor& a) -> const ElementRef& { return a.where; }) + ".",
      "Write link text that names the target (\"Roasting schedule\", not \"click "
      "here\"): search and answer engines read it as a description of the page.",
      bad.front()->where));
}

// crawlable-anchors: core/audits/seo/crawlable-anchors.js, on what the HTML
// says (event listeners added by script are invisible here; an onclick
// attribute stands for them).
bool IsUncrawlable(const Anchor& a) {
  const std::string raw = WithoutSpaces(a.raw_href);
  if (!Trim(a.role).empty()) return false;
  if (raw.starts_with("mailto:")) return false;
  if (raw.empty() && !a.id.empty()) return false;
  if (raw.starts_with("file:")) return true;
  if (!Trim(a.name).empty()) return false;
  if (!a.has_href && !a.has_href_associated) return a.has_onclick;
  if (!a.has_href) return true;
  static const std::regex kVoid("javascript:void(\\(|)0(\\)|)");
  if (std::regex_search(raw, kVoid)) return true;
  return !urls::parse_uri_reference(raw).has_value();
}

void CheckCrawlableAnchors(const PageFacts& facts, std::vector<Finding>& out) {
  std::vector<const Anchor*> bad;
  for (const Anchor& a : facts.anchors)
    if (IsUncrawlable(a)) bad.push_back(&a);
  if (bad.empty()) return;
  out.push_back(
      At("links.not_crawlable", Severity::kMedium, facts.url,
         Plural(bad.size(), "link has", "links have") + " no address a crawler can follow: " +
             List(bad, [](const Anchor& a) -> const ElementRef& { return a.where; }) + ".",
         "Give each link a real href (href=\"/pricing\"), and use a <button> for actions "
         "that are not navigation; javascript:void(0) and click handlers are invisible "
         "to crawlers.",
         bad.front()->where));
}

// image-alt (axe-core's rule, as Lighthouse runs it): an image needs an alt
// attribute (alt="" marks it decorative), or a label, or role=presentation;
// an alt of only spaces is no alt.
void CheckImageAlt(const PageFacts& facts, std::vector<Finding>& out) {
  std::vector<const Image*> bad;
  for (const Image& i : facts.image_list) {
    if (i.presentational || i.labelled) continue;
    if (i.has_alt && (i.alt.empty() || !Trim(i.alt).empty())) continue;
    bad.push_back(&i);
  }
  if (bad.empty()) return;
  out.push_back(At("images.alt_missing", Severity::kMedium, facts.url,
                   Plural(bad.size(), "image has", "images have") + " no alt text: " +
                       List(bad, [](const Image& i) -> const ElementRef& { return i.where; }) + ".",
                   "Give every meaningful <img> an alt attribute that describes it (alt=\"\" for "
                   "decoration); answer engines read images only through their alt text.",
                   bad.front()->where));
}

// The robots meta tag named `key` ("robots", "googlebot") that says noindex
// or none, or nullptr.
const MetaTag* NoindexMeta(const PageFacts& facts, std::string_view key) {
  for (const MetaTag& m : facts.metas) {
    if (m.key != key) continue;
    const std::string d = Lower(m.content);
    if (d.find("noindex") != std::string::npos || Trim(d) == "none") return &m;
  }
  return nullptr;
}

// is-crawlable (core/audits/seo/is-crawlable.js): Lighthouse fails a page
// only when every crawler is kept out: a robots meta tag or an X-Robots-Tag
// without a bot name. A noindex for Googlebot alone is a warning there and
// its own finding here (page.noindex_google): it still keeps the page out
// of Google's results and their AI answers.
void CheckIndexable(const PageFacts& facts, const FetchedPage& page, std::vector<Finding>& out) {
  std::string header_evidence;
  const MetaTag* meta = NoindexMeta(facts, "robots");
  if (meta || HeaderBlocksIndexing(page.headers, &header_evidence)) {
    out.push_back(At("page.noindex", Severity::kHigh, facts.url,
                     meta ? "The page carries a robots meta tag with noindex, so search and AI "
                            "answer engines will drop it."
                          : "The page's X-Robots-Tag header says noindex, so search and AI answer "
                            "engines will drop it.",
                     meta ? "Remove \"noindex\" from <meta name=\"robots\"> if the page should be "
                            "found and cited."
                          : "Remove noindex from the X-Robots-Tag response header (server or CDN "
                            "configuration) if the page should be found and cited.",
                     meta ? meta->where : ElementRef{header_evidence, 0}));
    return;
  }
  const MetaTag* google = NoindexMeta(facts, "googlebot");
  if (google || HeaderBlocksIndexing(page.headers, &header_evidence, "googlebot")) {
    out.push_back(At("page.noindex_google", Severity::kMedium, facts.url,
                     "The page tells Googlebot noindex, so it is left out of Google's results "
                     "and the AI answers built on them (other engines may still index it).",
                     google ? "Remove \"noindex\" from <meta name=\"googlebot\"> if the page "
                              "should be found and cited."
                            : "Remove the googlebot noindex from the X-Robots-Tag response header "
                              "if the page should be found and cited.",
                     google ? google->where : ElementRef{header_evidence, 0}));
  }
}

// canonical: core/audits/seo/canonical.js. Absent is no failure there.
void CheckCanonical(const PageFacts& facts, std::vector<Finding>& out) {
  if (facts.canonicals.empty()) return;
  const std::string fix =
      "Use one <link rel=\"canonical\"> whose href is the absolute URL of this page's preferred "
      "version on this site (https://example.com/page).";
  auto fail = [&](std::string message, const ElementRef& where) {
    out.push_back(
        At("canonical.invalid", Severity::kMedium, facts.url, std::move(message), fix, where));
  };
  std::set<std::string> targets;
  for (const auto& [raw, where] : facts.canonicals) {
    auto resolved = Against(facts.url, raw);
    targets.insert(resolved ? std::string(resolved->buffer()) : raw);
  }
  if (targets.size() > 1) {
    fail("The page has " + std::to_string(targets.size()) +
             " conflicting canonical URLs; search engines may ignore them all.",
         facts.canonicals[1].second);
    return;
  }
  const auto& [raw, where] = facts.canonicals.front();
  auto absolute = NormalizedUrl(raw);
  auto resolved = Against(facts.url, raw);
  if (!resolved) {
    fail("The canonical URL \"" + raw + "\" is not a valid URL.", where);
    return;
  }
  if (!absolute) {
    fail("The canonical URL \"" + raw + "\" is relative; it must be absolute (" +
             std::string(resolved->buffer()) + ").",
         where);
    return;
  }
  auto page = NormalizedUrl(facts.url);
  if (!page) return;
  if (HostWithoutWww(*absolute) != HostWithoutWww(*page)) {
    // Beyond Lighthouse (its canonical audit does not look at the host):
    // a check of its own, so Lighthouse's verdict stays canonical.invalid.
    out.push_back(At("canonical.other_site", Severity::kMedium, facts.url,
                     "The canonical URL points to another site (" +
                         std::string(absolute->encoded_host()) +
                         "), so this page gives its credit away.",
                     fix, where));
    return;
  }
  for (const HreflangLink& h : facts.hreflangs) {
    if (!h.href.empty() && h.href == absolute->buffer() && h.href != page->buffer()) {
      fail("The canonical URL is the page's " + h.lang +
               " alternate, not this page: each language version should be its own canonical.",
           where);
      return;
    }
  }
  const bool page_is_root = page->encoded_path() == "/" && !page->has_query();
  const bool target_is_root = absolute->encoded_path() == "/" && !absolute->has_query();
  if (target_is_root && !page_is_root) {
    fail("The canonical URL points to the site's home page, not to this page's content.", where);
  }
}

// hreflang: core/audits/seo/hreflang.js: a valid language code (or
// x-default) and an absolute href.
void CheckHreflang(const PageFacts& facts, std::vector<Finding>& out) {
  for (const HreflangLink& h : facts.hreflangs) {
    std::string problem;
    if (!IsValidHreflang(h.lang)) {
      problem = "\"" + h.lang + "\" is not a valid language code";
    } else if (!NormalizedUrl(h.raw_href)) {
      problem = "its href \"" + h.raw_href + "\" is not an absolute URL";
    }
    if (problem.empty()) continue;
    out.push_back(At("hreflang.invalid", Severity::kMedium, facts.url,
                     "A hreflang alternate is invalid: " + problem + ".",
                     "Write hreflang as a language code with an optional region (en, en-GB, "
                     "pt-BR, or x-default) and href as the absolute URL of that version.",
                     h.where));
  }
}

}  // namespace

bool IsValidHreflang(std::string_view tag) {
  // ISO 639-1; three-letter codes (ISO 639-2/3) are accepted as written.
  static const std::set<std::string, std::less<>> kIso6391 = {
      "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg",
      "bh", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv",
      "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi",
      "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr",
      "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja",
      "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw",
      "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml",
      "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv",
      "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro",
      "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr",
      "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr",
      "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi",
      "yo", "za", "zh", "zu"};
  const std::string t = Lower(Trim(tag));
  if (t == "x-default") return true;
  static const std::regex kTag("^([a-z]{2,3})(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?$");
  std::smatch m;
  if (!std::regex_match(t, m, kTag)) return false;
  const std::string language = m[1].str();
  return language.size() == 3 || kIso6391.contains(language);
}

bool HeaderBlocksIndexing(const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string* evidence, std::string_view for_bot) {
  const std::string wanted = Lower(for_bot);
  for (const auto& [name, value] : headers) {
    if (name != "x-robots-tag") continue;
    std::string v = Lower(value);
    // "googlebot: noindex" applies to the bot it names; a directive such as
    // "unavailable_after: <date>" is not a bot name.
    std::string_view directives = v;
    std::string_view bot = "*";
    if (auto colon = v.find(':'); colon != std::string::npos) {
      std::string_view named = Trim(std::string_view(v).substr(0, colon));
      const bool is_bot = !named.empty() && named != "unavailable_after" &&
                          named.find_first_of(" ,") == std::string_view::npos;
      if (is_bot) {
        bot = named;
        directives = std::string_view(v).substr(colon + 1);
      }
    }
    if (wanted.empty() ? bot != "*" : bot != wanted) continue;
    std::size_t start = 0;
    while (start <= directives.size()) {
      std::size_t end = directives.find(',', start);
      if (end == std::string_view::npos) end = directives.size();
      std::string_view d = Trim(directives.substr(start, end - start));
      if (d == "noindex" || d == "none") {
        if (evidence) *evidence = "X-Robots-Tag: " + value;
        return true;
      }
      start = end + 1;
    }
  }
  return false;
}

void CheckSeoPage(const PageFacts& facts, const FetchedPage& page, std::vector<Finding>& out) {
  CheckIndexable(facts, page, out);
  CheckCanonical(facts, out);
  CheckHreflang(facts, out);
  CheckImageAlt(facts, out);
  CheckLinkText(facts, out);
  CheckCrawlableAnchors(facts, out);
}

void CheckSeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out) {
  std::map<std::string, const FetchedPage*> fetched;
  for (const FetchedPage& p : crawl.pages) fetched.emplace(UrlKey(p.url), &p);
  std::map<std::string, const PageFacts*> analysed;
  for (const PageFacts& f : pages) analysed.emplace(UrlKey(f.url), &f);

  for (const PageFacts& f : pages) {
    // A canonical that names another crawled page: that page must be a
    // plain 200, indexable, reached without a redirect.
    if (!f.canonical.empty() && f.canonicals.size() == 1 && UrlKey(f.canonical) != UrlKey(f.url)) {
      auto it = fetched.find(UrlKey(f.canonical));
      if (it != fetched.end()) {
        const FetchedPage& target = *it->second;
        auto facts = analysed.find(UrlKey(f.canonical));
        std::string problem;
        if (!target.error.empty() || target.status == 0) {
          problem = "could not be fetched (" + target.error + ")";
        } else if (target.status != 200) {
          problem = "answers HTTP " + std::to_string(target.status);
        } else if (target.redirects > 0) {
          problem = "redirects to " + target.final_url;
        } else if (facts != analysed.end() && facts->second->noindex) {
          problem = "is marked noindex";
        } else if (HeaderBlocksIndexing(target.headers, nullptr)) {
          problem = "is marked noindex by its X-Robots-Tag header";
        }
        if (!problem.empty()) {
          out.push_back(At("canonical.bad_target", Severity::kMedium, f.url,
                           "The canonical URL " + f.canonical + " " + problem +
                               ", so search engines cannot use it.",
                           "Point the canonical at a page that answers 200 without a redirect and "
                           "may be indexed (usually this page itself).",
                           f.canonicals.front().second));
        }
      }
    }
    // hreflang pairs link both ways: B, named by A, names A.
    for (const HreflangLink& h : f.hreflangs) {
      if (h.href.empty() || UrlKey(h.href) == UrlKey(f.url)) continue;
      auto other = analysed.find(UrlKey(h.href));
      if (other == analysed.end() || other->second->status != 200) continue;
      bool back = false;
      for (const HreflangLink& r : other->second->hreflangs)
        back = back || (!r.href.empty() && UrlKey(r.href) == UrlKey(f.url));
      if (back) continue;
      out.push_back(At("hreflang.not_reciprocal", Severity::kLow, f.url,
                       "The " + h.lang + " alternate " + h.href +
                           " does not link back to this page with hreflang, so search engines "
                           "may ignore the pair.",
                       "Add a <link rel=\"alternate\" hreflang=\"...\" href=\"" + f.url +
                           "\"> to the alternate too: hreflang annotations must be reciprocal.",
                       h.where));
    }
  }
}

}  // namespace herald::audit
