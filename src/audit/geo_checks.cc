#include "audit/geo_checks.h"

#include <boost/url.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/page_url.h"
#include "audit/site_text.h"

namespace herald::audit {
namespace {

namespace urls = boost::urls;
using site_text::IsAsciiSpace;
using site_text::Lower;
using site_text::Trim;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

// ---------------------------------------------------------------------------
// Thresholds (docs/audit.md, "GEO checks").

// content.js_only: fewer visible words than this with a script is an app
// shell; an empty mount point (<div id="root"></div>) with a script makes a
// page an app shell up to content.thin's threshold.
constexpr int kShellWords = 50;
constexpr int kShellWordsWithMount = 200;
// citations.none: content long enough to make claims worth sourcing.
constexpr int kCitationWords = 300;
// freshness.stale: the newest date is older than this many years before now.
constexpr int kStaleYears = 2;

// ---------------------------------------------------------------------------
// Strings.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// At most `most` bytes, cut on a UTF-8 character boundary, "..." marking a cut.
std::string Cut(std::string s, std::size_t most = 200) {
  if (s.size() <= most) return s;
  std::size_t at = most - 3;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  s.resize(at);
  return s + "...";
}

std::string Plural(long n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ---------------------------------------------------------------------------
// URLs.

bool IsHttp(const urls::url& u) {
  return (u.scheme_id() == urls::scheme::http || u.scheme_id() == urls::scheme::https) &&
         !u.encoded_host().empty();
}

// The same, ignoring scheme, port and a leading "www.": how a sitemap
// written for https://www.example.com/ still names http://example.com/'s pages.
std::string LooseKey(std::string_view url) {
  auto u = NormalizedUrl(UrlKey(url));
  if (!u || !IsHttp(*u)) return "";
  std::string key = HostWithoutWww(*u) + std::string(u->encoded_path());
  if (u->has_query()) key += "?" + std::string(u->encoded_query());
  return key;
}

bool IsHomePage(std::string_view url) {
  auto u = NormalizedUrl(url);
  return u && u->encoded_path() == "/" && !u->has_query();
}

// ---------------------------------------------------------------------------
// Pages.

bool IsHtml(const FetchedPage& page) {
  const std::string type = Lower(page.content_type);
  return type.empty() || type.find("html") != std::string::npos;
}

bool Answered(const FetchedPage& page) {
  return page.error.empty() && page.status >= 200 && page.status < 300;
}

Finding Make(std::string check_id, Severity severity, const std::string& page, std::string message,
             std::string fix, const ElementRef& where = {}) {
  Finding f{std::move(check_id), severity, page, std::move(message), std::move(fix)};
  f.evidence = where.snippet;
  f.line = where.line;
  return f;
}

// ---------------------------------------------------------------------------
// schema.org types. A type is compared without a prefix or vocabulary URL
// ("schema:Organization", "https://schema.org/Organization").

std::string_view BareType(std::string_view type) {
  type = Trim(type);
  const std::size_t cut = type.find_last_of("/:#");
  return cut == std::string_view::npos ? type : type.substr(cut + 1);
}

// Organization and its subtypes (schema.org's Organization subtree,
// LocalBusiness's included).
bool IsOrganizationType(std::string_view type) {
  static const std::set<std::string, std::less<>> kTypes = {
      "Organization", "Airline", "Consortium", "Cooperative", "Corporation",
      "EducationalOrganization", "CollegeOrUniversity", "ElementarySchool", "HighSchool",
      "MiddleSchool", "Preschool", "School", "FundingScheme", "GovernmentOrganization",
      "LibrarySystem", "MedicalOrganization", "DiagnosticLab", "Hospital", "MedicalClinic",
      "Pharmacy", "Physician", "VeterinaryCare", "NGO", "NewsMediaOrganization", "OnlineBusiness",
      "OnlineStore", "PerformingGroup", "DanceGroup", "MusicGroup", "TheaterGroup",
      "PoliticalParty", "Project", "FundingAgency", "ResearchProject", "ResearchOrganization",
      "SearchRescueOrganization", "SportsOrganization", "SportsTeam", "WorkersUnion",
      // LocalBusiness
      "LocalBusiness", "AnimalShelter", "ArchiveOrganization", "AutomotiveBusiness", "AutoBodyShop",
      "AutoDealer", "AutoPartsStore", "AutoRental", "AutoRepair", "AutoWash", "GasStation",
      "MotorcycleDealer", "MotorcycleRepair", "ChildCare", "Dentist", "DryCleaningOrLaundry",
      "EmergencyService", "FireStation", "PoliceStation", "EmploymentAgency",
      "EntertainmentBusiness", "AdultEntertainment", "AmusementPark", "ArtGallery", "Casino",
      "ComedyClub", "MovieTheater", "NightClub", "FinancialService", "AccountingService",
      "AutomatedTeller", "BankOrCreditUnion", "InsuranceAgency", "FoodEstablishment", "Bakery",
      "BarOrPub", "Brewery", "CafeOrCoffeeShop", "Distillery", "FastFoodRestaurant", "IceCreamShop",
      "Restaurant", "Winery", "GovernmentOffice", "PostOffice", "HealthAndBeautyBusiness",
      "BeautySalon", "DaySpa", "HairSalon", "HealthClub", "NailSalon", "TattooParlor",
      "HomeAndConstructionBusiness", "Electrician", "GeneralContractor", "HVACBusiness",
      "HousePainter", "Locksmith", "MovingCompany", "Plumber", "RoofingContractor", "InternetCafe",
      "LegalService", "Attorney", "Notary", "Library", "LodgingBusiness", "BedAndBreakfast",
      "Campground", "Hostel", "Hotel", "Motel", "Resort", "SkiResort", "VacationRental",
      "MedicalBusiness", "Optician", "ProfessionalService", "RadioStation", "RealEstateAgent",
      "RecyclingCenter", "SelfStorage", "ShoppingCenter", "SportsActivityLocation", "BowlingAlley",
      "ExerciseGym", "GolfCourse", "PublicSwimmingPool", "SportsClub", "StadiumOrArena",
      "TennisComplex", "Store", "BikeStore", "BookStore", "ClothingStore", "ComputerStore",
      "ConvenienceStore", "DepartmentStore", "ElectronicsStore", "Florist", "FurnitureStore",
      "GardenStore", "GroceryStore", "HardwareStore", "HobbyShop", "HomeGoodsStore", "JewelryStore",
      "LiquorStore", "MensClothingStore", "MobilePhoneStore", "MovieRentalStore", "MusicStore",
      "OfficeEquipmentStore", "OutletStore", "PawnShop", "PetStore", "ShoeStore",
      "SportingGoodsStore", "TireShop", "ToyStore", "WholesaleStore", "TelevisionStation",
      "TouristInformationCenter", "TravelAgency"};
  return kTypes.contains(BareType(type));
}

bool IsPersonType(std::string_view type) {
  const std::string_view t = BareType(type);
  return t == "Person" || t == "Patient";
}

// Article and its subtypes.
bool IsArticleType(std::string_view type) {
  static const std::set<std::string, std::less<>> kTypes = {"Article",
                                                            "AdvertiserContentArticle",
                                                            "NewsArticle",
                                                            "AnalysisNewsArticle",
                                                            "AskPublicNewsArticle",
                                                            "BackgroundNewsArticle",
                                                            "OpinionNewsArticle",
                                                            "ReportageNewsArticle",
                                                            "ReviewNewsArticle",
                                                            "Report",
                                                            "SatiricalArticle",
                                                            "ScholarlyArticle",
                                                            "MedicalScholarlyArticle",
                                                            "SocialMediaPosting",
                                                            "BlogPosting",
                                                            "LiveBlogPosting",
                                                            "DiscussionForumPosting",
                                                            "TechArticle",
                                                            "APIReference"};
  return kTypes.contains(BareType(type));
}

// A sameAs value that names the entity elsewhere: an absolute http(s) URL
// on another host than the page's own ("www." aside).
bool IsProfileUrl(std::string_view same_as, std::string_view page_url) {
  auto u = NormalizedUrl(same_as);
  if (!u || !IsHttp(*u)) return false;
  auto page = NormalizedUrl(page_url);
  return !page || HostWithoutWww(*u) != HostWithoutWww(*page);
}

// ---------------------------------------------------------------------------
// Robots directives: meta content and X-Robots-Tag values.

struct Bot {
  std::string_view token;  // lower-case, as matched
  std::string_view name;   // as its owner writes it
  std::string_view who;
  bool ai = true;  // false: a search engine's crawler (noai scope only)
};

constexpr std::array<Bot, 23> kBots = {{
    {"gptbot", "GPTBot", "OpenAI's crawler for training its models"},
    {"oai-searchbot", "OAI-SearchBot", "ChatGPT search"},
    {"chatgpt-user", "ChatGPT-User", "ChatGPT fetching pages for its users"},
    {"claudebot", "ClaudeBot", "Anthropic's crawler for Claude"},
    {"claude-searchbot", "Claude-SearchBot", "Claude's web search"},
    {"claude-user", "Claude-User", "Claude fetching pages for its users"},
    {"claude-web", "Claude-Web", "Anthropic's former crawler token"},
    {"anthropic-ai", "anthropic-ai", "Anthropic's former crawler token"},
    {"perplexitybot", "PerplexityBot", "Perplexity's search"},
    {"perplexity-user", "Perplexity-User", "Perplexity fetching pages for its users"},
    {"google-extended", "Google-Extended", "Gemini and Google's AI training"},
    {"applebot-extended", "Applebot-Extended", "Apple Intelligence"},
    {"ccbot", "CCBot", "Common Crawl, a training source of many models"},
    {"bytespider", "Bytespider", "ByteDance's AI crawler"},
    {"meta-externalagent", "meta-externalagent", "Meta AI"},
    {"amazonbot", "Amazonbot", "Amazon's AI and Alexa answers"},
    {"cohere-ai", "cohere-ai", "Cohere's models"},
    {"youbot", "YouBot", "You.com's AI search"},
    {"duckassistbot", "DuckAssistBot", "DuckDuckGo's AI answers"},
    {"mistralai-user", "MistralAI-User", "Mistral's Le Chat"},
    {"diffbot", "Diffbot", "Diffbot's knowledge graph"},
    {"googlebot", "Googlebot", "Google Search", false},
    {"bingbot", "Bingbot", "Bing, which also feeds Copilot", false},
}};

const Bot* FindBot(std::string_view token) {
  for (const Bot& b : kBots)
    if (b.token == token) return &b;
  return nullptr;
}

// X-Robots-Tag directives whose value carries a colon: not a bot prefix.
bool IsColonDirective(std::string_view name) {
  return name == "max-snippet" || name == "max-image-preview" || name == "max-video-preview" ||
         name == "unavailable_after";
}

struct Directive {
  std::string bot;    // lower-case; "" for every crawler
  std::string value;  // lower-case: "noai", "noindex", ...
};

// "noai, noimageai" or "gptbot: noindex, nofollow": comma- (or space-)
// separated directives; a "bot:" prefix scopes those after it, up to the next
// prefix, to that bot (Google's X-Robots-Tag syntax).
std::vector<Directive> Directives(std::string_view text, std::string bot = "") {
  std::vector<Directive> out;
  const std::string value = Lower(text);
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string_view token = Trim(std::string_view(value).substr(start, end - start));
    if (auto colon = token.find(':'); colon != std::string_view::npos) {
      const std::string_view name = Trim(token.substr(0, colon));
      if (!name.empty() && name.find_first_of(" \t") == std::string_view::npos &&
          !IsColonDirective(name)) {
        bot = std::string(name);
        token = Trim(token.substr(colon + 1));
      }
    }
    for (std::size_t i = 0; i < token.size();) {
      while (i < token.size() && IsAsciiSpace(token[i])) ++i;
      std::size_t j = i;
      while (j < token.size() && !IsAsciiSpace(token[j])) ++j;
      if (j > i) out.push_back(Directive{bot, std::string(token.substr(i, j - i))});
      i = j;
    }
    start = end + 1;
  }
  return out;
}

// Where a directive was found: a meta tag or a header.
struct DirectiveSource {
  std::string label;  // "robots meta tag", "GPTBot meta tag", "X-Robots-Tag header"
  ElementRef where;
  std::vector<Directive> directives;
};

std::vector<DirectiveSource> RobotsDirectives(const PageFacts& facts, const FetchedPage& page,
                                              bool html) {
  std::vector<DirectiveSource> out;
  if (html) {
    for (const auto& [key, content, where] : facts.metas) {
      DirectiveSource s;
      if (key == "robots") {
        s.label = "robots meta tag";
        s.directives = Directives(content, "");
      } else if (key == "x-robots-tag") {
        s.label = "X-Robots-Tag meta tag";
        s.directives = Directives(content, "");
      } else if (const Bot* bot = FindBot(key)) {
        s.label = std::string(bot->name) + " meta tag";
        // A bot meta tag's directives are that bot's, whatever they say.
        for (Directive d : Directives(content, std::string(bot->token))) {
          d.bot = bot->token;
          s.directives.push_back(std::move(d));
        }
      } else {
        continue;
      }
      s.where = where;
      out.push_back(std::move(s));
    }
  }
  for (const auto& [name, value] : page.headers) {
    if (name != "x-robots-tag") continue;
    out.push_back(DirectiveSource{"X-Robots-Tag header",
                                  ElementRef{Cut("X-Robots-Tag: " + value), 0},
                                  Directives(value, "")});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Page checks.

// The first script that is not JSON-LD, one with a src (the bundle) first.
const ScriptRef* FirstScript(const PageFacts& facts) {
  const ScriptRef* first = nullptr;
  for (const ScriptRef& s : facts.scripts) {
    if (s.has_src) return &s;
    if (!first) first = &s;
  }
  return first;
}

void CheckJsOnly(const PageFacts& facts, std::vector<Finding>& out) {
  if (facts.script_count < 1) return;
  const std::optional<ElementRef>& mount = facts.empty_mount_point;
  if (!(facts.word_count < kShellWords || (mount && facts.word_count < kShellWordsWithMount))) {
    return;
  }
  const ScriptRef* script = FirstScript(facts);
  const ElementRef where = mount ? *mount : script ? script->where : ElementRef{};
  const std::string words = facts.word_count == 0
                                ? std::string("no text")
                                : "only " + Plural(facts.word_count, "word", "words");
  std::string message =
      mount ? "The page is an app shell: without JavaScript it shows " + words +
                  ", and its content is drawn by a script into an empty " + mount->snippet + "."
            : "Without JavaScript the page shows " + words + "; its content is produced by " +
                  (facts.script_count == 1
                       ? std::string("its script")
                       : "its " + std::to_string(facts.script_count) + " scripts") +
                  ".";
  message +=
      " AI crawlers such as GPTBot, ClaudeBot and PerplexityBot do not run JavaScript, so they "
      "see an empty page and cannot quote or cite it.";
  out.push_back(Make("content.js_only", Severity::kHigh, facts.url, std::move(message),
                     "Render the content into the HTML on the server or at build time (server-side "
                     "rendering or static generation: Next.js, Nuxt, Astro, a prerendering "
                     "service) and keep JavaScript for interactivity; check with \"View source\" "
                     "or curl that the text is in the response.",
                     where));
}

void CheckAuthorship(const PageFacts& facts, std::vector<Finding>& out) {
  std::string article_type;
  const JsonLdEntity* article = nullptr;
  for (const JsonLdEntity& e : facts.jsonld_entities) {
    for (const std::string& t : e.types) {
      if (article_type.empty() && IsArticleType(t)) {
        article_type = t;
        article = &e;
      }
    }
  }
  const MetaTag* og_type = nullptr;
  for (const MetaTag& m : facts.metas) {
    if (m.key == "og:type" && !og_type) og_type = &m;
  }
  const bool og_article = og_type && Lower(Trim(og_type->content)) == "article";
  if (article_type.empty() && !og_article) return;

  const bool jsonld_author = std::any_of(facts.jsonld_entities.begin(), facts.jsonld_entities.end(),
                                         [](const JsonLdEntity& e) { return e.has_author; });
  const bool meta_author =
      std::any_of(facts.metas.begin(), facts.metas.end(), [](const MetaTag& m) {
        return (m.key == "author" || m.key == "article:author") && !Trim(m.content).empty();
      });
  if (jsonld_author || meta_author || facts.has_rel_author) return;

  const std::string what = !article_type.empty()
                               ? "an article (JSON-LD " + Quote(article_type) + ")"
                               : std::string("an article (og:type \"article\")");
  out.push_back(Make(
      "authorship.missing", Severity::kLow, facts.url,
      "The page is " + what +
          " but names no author: no \"author\" in its JSON-LD, no <meta name=\"author\"> and no "
          "rel=\"author\" link.",
      "Name the author: add \"author\": {\"@type\": \"Person\", \"name\": \"...\", \"url\": "
      "\"<author page>\"} to the article's JSON-LD, and show a byline linking to the author's page "
      "with rel=\"author\" (or add <meta name=\"author\" content=\"...\">).",
      article ? article->where : og_type->where));
}

// Social networks: a link there is a profile or a share button, not a
// source for the page's claims.
bool IsSocialHost(std::string host) {
  static constexpr std::array<std::string_view, 12> kSocial = {
      "facebook.com", "fb.com",        "twitter.com", "x.com", "instagram.com", "linkedin.com",
      "tiktok.com",   "pinterest.com", "threads.net", "t.me",  "wa.me",         "whatsapp.com"};
  for (std::string_view s : kSocial) {
    if (host == s ||
        (host.size() > s.size() && host.ends_with(s) && host[host.size() - s.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

void CheckCitations(const PageFacts& facts, std::vector<Finding>& out) {
  if (IsHomePage(facts.url)) return;
  const bool in_main = facts.main_word_count > 0;
  const int words = in_main ? facts.main_word_count : facts.word_count;
  if (words < kCitationWords) return;
  std::vector<std::string> social;
  for (const std::string& link : facts.external_links) {
    auto u = NormalizedUrl(link);
    if (!u || !IsSocialHost(Lower(u->encoded_host()))) return;  // a source
    if (social.size() < 3) social.push_back(HostWithoutWww(*u));
  }
  std::string links = "links to no other site";
  if (!social.empty()) {
    std::string hosts;
    for (std::size_t i = 0; i < social.size(); ++i) hosts += (i ? ", " : "") + social[i];
    links = "links only to social networks (" + hosts + ")";
  }
  out.push_back(Make(
      "citations.none", Severity::kLow, facts.url,
      "The page has " + std::to_string(words) + " words" + (in_main ? " in its main content" : "") +
          " but " + links +
          ": it cites no source, so answer engines have nothing to corroborate its claims with "
          "and may prefer pages that do.",
      "Link the sources the page's facts rest on (studies, official statistics, standards, "
      "documentation, the original reporting) where each claim is made, with link text that "
      "names the source."));
}

// noai / noimageai (any crawler or a named one), and noindex / none for a
// named AI crawler.
void CheckAiDirectives(const PageFacts& facts, const FetchedPage& page, bool html,
                       std::vector<Finding>& out) {
  const std::vector<DirectiveSource> sources = RobotsDirectives(facts, page, html);

  // noai / noimageai: the first source that says either, for the first
  // scope (every crawler, or one named crawler) it says it for.
  for (const DirectiveSource& s : sources) {
    std::optional<std::string> scope;  // "" for every crawler, else the bot
    bool noai = false, noimageai = false;
    for (const Directive& d : s.directives) {
      if (d.value != "noai" && d.value != "noimageai") continue;
      const std::string bot = d.bot == "*" ? "" : d.bot;
      if (!bot.empty() && !FindBot(bot)) continue;  // a name we do not know
      if (!scope) scope = bot;
      if (bot != *scope) continue;
      (d.value == "noai" ? noai : noimageai) = true;
    }
    if (!scope) continue;
    const Bot* b = scope->empty() ? nullptr : FindBot(*scope);
    const std::string said = noai && noimageai ? "\"noai\" and \"noimageai\""
                             : noai            ? "\"noai\""
                                               : "\"noimageai\"";
    const std::string what = noai && noimageai ? "its text or its images"
                             : noai            ? "its content"
                                               : "its images";
    const std::string whom =
        b ? std::string(b->name) + " (" + std::string(b->who) + ")" : std::string("AI systems");
    out.push_back(Make(
        "ai_directives.noai", Severity::kHigh, facts.url,
        fmt::format("The page's {} says {}: it asks {} not to use {}, so AI crawlers that honour "
                    "it leave the page out of training and of AI answers, and will not quote or "
                    "cite it.",
                    s.label, said, whom, what),
        "Remove \"noai\"/\"noimageai\" from the " + s.label +
            " if AI answer engines should use and cite the page. To keep the page out of model "
            "training only, disallow the training crawlers (GPTBot, Google-Extended, CCBot) in "
            "robots.txt and leave the answer crawlers (OAI-SearchBot, ChatGPT-User, "
            "PerplexityBot, Claude-SearchBot) allowed.",
        s.where));
    break;
  }

  // tdm-reservation: 1 (W3C TDMRep), as a meta tag or a header.
  std::optional<ElementRef> tdm;
  std::string tdm_label;
  if (html) {
    for (const auto& [key, content, where] : facts.metas) {
      if (key == "tdm-reservation" && Trim(content) == "1") {
        tdm = where;
        tdm_label = "<meta name=\"tdm-reservation\" content=\"1\">";
        break;
      }
    }
  }
  if (!tdm) {
    for (const auto& [name, value] : page.headers) {
      if (name == "tdm-reservation" && Trim(value) == "1") {
        tdm = ElementRef{Cut("tdm-reservation: " + value), 0};
        tdm_label = "the tdm-reservation: 1 header";
        break;
      }
    }
  }
  if (tdm) {
    out.push_back(Make(
        "ai_directives.tdm_reserved", Severity::kMedium, facts.url,
        "The page reserves its text and data mining rights (" + tdm_label +
            ", the W3C TDMRep protocol): under the EU copyright directive (DSM Article 4) AI "
            "systems that honour it may not mine the page without a licence, so they may not use "
            "or cite it.",
        "If AI answer engines may use the page, remove the tdm-reservation meta tag or header (or "
        "set it to 0); if mining needs a licence, publish the terms with a tdm-policy URL beside "
        "the reservation so engines can obtain one.",
        *tdm));
  }

  // noindex / none addressed to a named AI crawler (Googlebot's is page.noindex).
  for (const DirectiveSource& s : sources) {
    for (const Directive& d : s.directives) {
      if (d.value != "noindex" && d.value != "none") continue;
      const Bot* b = FindBot(d.bot);
      if (!b || !b->ai) continue;
      out.push_back(Make(
          "ai_directives.bot_noindex", Severity::kHigh, facts.url,
          "The page's " + s.label + " tells " + std::string(b->name) + " (" + std::string(b->who) +
              ") \"" + d.value + "\": not to index the page, so " + std::string(b->name) +
              " leaves it out and the answers it feeds will not show or cite it.",
          "Remove the " + std::string(b->name) + " \"" + d.value +
              "\" directive if the page "
              "should appear in " +
              std::string(b->name) +
              "'s answers; to keep a crawler out of model training only, disallow it in "
              "robots.txt instead and leave the search and answer crawlers allowed.",
          s.where));
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Site checks.

struct Analysed {
  const PageFacts* facts;
  const FetchedPage* page;  // nullptr when the crawl does not hold it
};

// The pages that answered 2xx with HTML, in the order of `pages`.
std::vector<Analysed> AnsweredHtml(const CrawlResult& crawl, const std::vector<PageFacts>& pages) {
  std::map<std::string, const FetchedPage*> by_url;
  for (const FetchedPage& p : crawl.pages) by_url.emplace(p.url, &p);
  std::vector<Analysed> out;
  for (const PageFacts& f : pages) {
    if (f.status < 200 || f.status >= 300) continue;
    auto it = by_url.find(f.url);
    const FetchedPage* page = it == by_url.end() ? nullptr : it->second;
    if (page && (!Answered(*page) || !IsHtml(*page))) continue;
    out.push_back(Analysed{&f, page});
  }
  return out;
}

void CheckEntity(const std::vector<Analysed>& pages, std::vector<Finding>& out) {
  // The first Organization/Person without a usable sameAs, for the message.
  const Analysed* first = nullptr;
  std::string first_type;
  ElementRef first_where;
  std::vector<std::string> first_same_as;
  bool first_nested = false;
  int others = 0;
  // True when the entity names a profile elsewhere: the site is identified.
  auto consider = [&](const Analysed& a, const std::string& type,
                      const std::vector<std::string>& same_as, const ElementRef& where,
                      bool nested) {
    for (const std::string& s : same_as)
      if (IsProfileUrl(s, a.facts->url)) return true;
    if (!first) {
      first = &a;
      first_type = type;
      first_same_as = same_as;
      first_where = where;
      first_nested = nested;
    } else {
      ++others;
    }
    return false;
  };
  for (const Analysed& a : pages) {
    for (const JsonLdEntity& e : a.facts->jsonld_entities) {
      for (const std::string& t : e.types) {
        if (!IsOrganizationType(t) && !IsPersonType(t)) continue;
        if (consider(a, t, e.same_as, e.where, false)) return;
        break;
      }
    }
  }
  // Nested ones (an article's publisher) count as well, on pages the crawl
  // holds.
  for (const Analysed& a : pages) {
    if (!a.page) continue;
    for (const JsonLdEntity& e : a.facts->jsonld_nested) {
      const auto type = std::find_if(e.types.begin(), e.types.end(), [](const std::string& t) {
        return IsOrganizationType(t) || IsPersonType(t);
      });
      if (type == e.types.end()) continue;
      // A nested Person is an author, not who runs the site: it settles
      // the question only with sameAs, and is not named when it does not.
      if (IsPersonType(*type)) {
        for (const std::string& s : e.same_as)
          if (IsProfileUrl(s, a.facts->url)) return;
        continue;
      }
      if (consider(a, *type, e.same_as, e.where, true)) return;
    }
  }

  if (!first) {
    out.push_back(Make(
        "entity.unclear", Severity::kMedium, "",
        "No page of the site says who is behind it: none of the " +
            Plural(static_cast<long>(pages.size()), "page", "pages") +
            " analysed has a schema.org Organization or Person in JSON-LD with sameAs links to "
            "its profiles elsewhere, so answer engines cannot tell which company or person the "
            "site belongs to and may confuse it with namesakes.",
        "Describe who is behind the site in JSON-LD on the home page: an Organization (or a "
        "subtype such as LocalBusiness; a Person for a personal site) with name, url, logo and "
        "\"sameAs\": the URLs of its profiles elsewhere (Wikipedia, Wikidata, LinkedIn, "
        "Crunchbase, GitHub, official social accounts)."));
    return;
  }
  const ElementRef where = first->page ? first_where : ElementRef{};
  out.push_back(Make(
      "entity.unclear", Severity::kMedium, "",
      "The site describes itself as " + Quote(first_type) + " (JSON-LD on " + first->facts->url +
          (first_nested ? ", inside another entity" : "") + ") but " +
          (first_same_as.empty() ? std::string("gives no sameAs links")
                                 : "its sameAs names no profile on another site (" +
                                       Quote(Cut(first_same_as.front(), 80)) + ")") +
          (others == 1  ? std::string(" (nor does the site's other Organization or Person entity)")
           : others > 1 ? " (nor do the site's " + std::to_string(others) +
                              " other Organization or Person entities)"
                        : std::string()) +
          ", so answer engines cannot tie it to a known entity (Wikipedia, Wikidata, LinkedIn) "
          "and may confuse it with namesakes.",
      "Add \"sameAs\" to that " + std::string(BareType(first_type)) +
          ": an array of the absolute URLs of its profiles elsewhere (Wikipedia, Wikidata, "
          "LinkedIn, Crunchbase, GitHub, official social accounts).",
      where));
}

void CheckAnswers(const std::vector<Analysed>& pages, std::vector<Finding>& out) {
  for (const Analysed& a : pages) {
    const PageFacts& f = *a.facts;
    if (f.dl_count > 0 || f.table_count > 0) return;
    for (const JsonLdEntity& e : f.jsonld_entities) {
      for (const std::string& t : e.types) {
        const std::string_view bare = BareType(t);
        if ((bare == "FAQPage" || bare == "QAPage") && e.has_main_entity) return;
      }
    }
    for (const Heading& h : f.headings)
      if (!h.in_chrome && h.is_question) return;
  }
  out.push_back(
      Make("answers.none", Severity::kMedium, "",
           "None of the " + Plural(static_cast<long>(pages.size()), "page", "pages") +
               " analysed has content shaped like an answer: no FAQPage or QAPage structured data "
               "with questions (mainEntity), no question headings (ending in \"?\"), no definition "
               "lists (<dl>) and no tables. Answer engines quote such passages directly.",
           "Answer the questions your visitors ask in the form engines lift: an FAQ section with "
           "each question as a heading and a short direct answer below it (marked up with FAQPage "
           "JSON-LD), comparison or specification tables, and definition lists for terms."));
}

struct DateFound {
  std::string what;   // "JSON-LD dateModified", "Last-Modified header", ...
  std::string value;  // as written
  ElementRef where;
  std::optional<sys_seconds> when;
};

std::string Day(sys_seconds t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// `now` less kStaleYears calendar years (29 February becomes the 28th).
sys_seconds StaleBefore(std::chrono::system_clock::time_point now) {
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::year_month_day ymd{today};
  std::chrono::year_month_day then = ymd - std::chrono::years{kStaleYears};
  if (!then.ok())
    then = std::chrono::year_month_day_last(then.year(), std::chrono::month_day_last(then.month()));
  return std::chrono::floor<std::chrono::seconds>(sys_days(then) + (now - today));
}

void CheckFreshness(const CrawlResult& crawl, const std::vector<Analysed>& pages,
                    std::chrono::system_clock::time_point now, std::vector<Finding>& out) {
  std::map<std::string, std::string> exact, loose;
  if (crawl.sitemap_xml.status >= 200 && crawl.sitemap_xml.status < 300 &&
      crawl.sitemap_xml.error.empty()) {
    for (const auto& [loc, lastmod] : SitemapLastmods(crawl.sitemap_xml.body)) {
      exact.emplace(UrlKey(loc), lastmod);
      if (std::string k = LooseKey(loc); !k.empty()) loose.emplace(k, lastmod);
    }
  }
  const sys_seconds stale_before = StaleBefore(now);

  for (const Analysed& a : pages) {
    const PageFacts& f = *a.facts;
    std::vector<DateFound> dates;
    auto jsonld = [&](std::string_view name, const std::string& value, const ElementRef& where) {
      if (Trim(value).empty()) return;
      dates.push_back(DateFound{"JSON-LD " + std::string(name), value, where, ParseIsoDate(value)});
    };
    for (const JsonLdEntity& e : f.jsonld_entities) {
      jsonld("dateModified", e.date_modified, e.where);
      jsonld("datePublished", e.date_published, e.where);
    }
    for (const auto& [key, content, where] : f.metas) {
      if (key != "article:modified_time" && key != "article:published_time" &&
          key != "og:updated_time") {
        continue;
      }
      if (Trim(content).empty()) continue;
      dates.push_back(DateFound{key + " meta tag", content, where, ParseIsoDate(content)});
    }
    if (a.page) {
      for (const auto& [name, value] : a.page->headers) {
        if (name != "last-modified") continue;
        dates.push_back(DateFound{"Last-Modified header", value,
                                  ElementRef{Cut("Last-Modified: " + value), 0},
                                  ParseHttpDate(value)});
      }
    }
    std::vector<std::string> urls = {f.url};
    if (a.page && !a.page->final_url.empty()) urls.push_back(a.page->final_url);
    const std::string* lastmod = nullptr;
    for (const std::string& u : urls) {
      if (auto it = exact.find(UrlKey(u)); !lastmod && it != exact.end()) lastmod = &it->second;
    }
    for (const std::string& u : urls) {
      if (auto it = loose.find(LooseKey(u)); !lastmod && it != loose.end()) lastmod = &it->second;
    }
    if (lastmod) {
      dates.push_back(DateFound{"sitemap <lastmod>", *lastmod,
                                ElementRef{Cut("<lastmod>" + *lastmod + "</lastmod>"), 0},
                                ParseIsoDate(*lastmod)});
    }

    const DateFound* newest = nullptr;
    const DateFound* unreadable = nullptr;
    for (const DateFound& d : dates) {
      if (!d.when) {
        if (!unreadable) unreadable = &d;
      } else if (!newest || *d.when > *newest->when) {
        newest = &d;
      }
    }
    if (!newest) {
      out.push_back(Make(
          "freshness.no_date", Severity::kLow, f.url,
          "The page gives no machine-readable date: no dateModified or datePublished in its "
          "JSON-LD, no article:modified_time or article:published_time meta tag, no "
          "Last-Modified header and no <lastmod> for it in the sitemap" +
              (unreadable ? " (its " + unreadable->what + " " + Quote(Cut(unreadable->value, 60)) +
                                " is not " +
                                (unreadable->what == "Last-Modified header" ? "an HTTP date"
                                                                            : "an ISO 8601 date") +
                                ")"
                          : std::string()) +
              ". Answer engines weigh how recent a source is and cannot tell.",
          "Add \"dateModified\" (and \"datePublished\") to the page's JSON-LD as ISO 8601 dates "
          "(2026-11-30 or 2026-11-30T09:00:00Z), give the page a <lastmod> in sitemap.xml, and "
          "let the server send Last-Modified.",
          unreadable ? unreadable->where : ElementRef{}));
      continue;
    }
    if (*newest->when < stale_before) {
      out.push_back(Make(
          "freshness.stale", Severity::kLow, f.url,
          "The newest date the page gives is " + Day(*newest->when) + " (" + newest->what +
              "), more than " + std::to_string(kStaleYears) +
              " years ago, so answer engines may treat its content as out of date and prefer "
              "fresher sources.",
          "Review the content and bring it up to date, then set dateModified (JSON-LD), "
          "article:modified_time and the sitemap's <lastmod> to the date of that review; do not "
          "change the dates without changing the content.",
          newest->where));
    }
  }
}

// The text of the first <name> element in [from, to) of `xml` (lower: the
// same text lower-cased), trimmed, CDATA and entities undone.
std::string ElementText(std::string_view xml, std::string_view lower, std::string_view name,
                        std::size_t from, std::size_t to) {
  const std::string open = "<" + std::string(name);
  for (std::size_t at = lower.find(open, from); at != std::string_view::npos && at < to;
       at = lower.find(open, at + 1)) {
    const std::size_t after = at + open.size();
    if (after >= to || (lower[after] != '>' && !IsAsciiSpace(lower[after]))) continue;
    const std::size_t gt = lower.find('>', after);
    if (gt == std::string_view::npos || gt >= to) return "";
    const std::size_t close = lower.find("</" + std::string(name), gt);
    if (close == std::string_view::npos || close > to) return "";
    std::string_view text = Trim(xml.substr(gt + 1, close - gt - 1));
    if (text.starts_with("<![CDATA[") && text.ends_with("]]>")) {
      return std::string(Trim(text.substr(9, text.size() - 12)));
    }
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      bool replaced = false;
      for (auto [entity, c] : {std::pair<std::string_view, char>{"&amp;", '&'},
                               {"&lt;", '<'},
                               {"&gt;", '>'},
                               {"&quot;", '"'},
                               {"&apos;", '\''}}) {
        if (text.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size() - 1;
          replaced = true;
          break;
        }
      }
      if (!replaced) out += text[i];
    }
    return out;
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------

std::optional<sys_seconds> ParseIsoDate(std::string_view text) {
  const std::string_view s = Trim(text);
  std::size_t i = 0;
  auto digits = [&](int n, int& v) {
    if (i + static_cast<std::size_t>(n) > s.size()) return false;
    v = 0;
    for (int k = 0; k < n; ++k) {
      if (!IsDigit(s[i])) return false;
      v = v * 10 + (s[i++] - '0');
    }
    return true;
  };
  auto literal = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int y = 0, mo = 0, d = 0;
  if (!digits(4, y) || !literal('-') || !digits(2, mo) || !literal('-') || !digits(2, d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  sys_seconds t = sys_days(ymd);
  if (i == s.size()) return t;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
  ++i;
  int h = 0, mi = 0, sec = 0;
  if (!digits(2, h) || !literal(':') || !digits(2, mi)) return std::nullopt;
  if (literal(':')) {
    if (!digits(2, sec)) return std::nullopt;
    if (literal('.') || literal(',')) {
      const std::size_t start = i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      if (i == start) return std::nullopt;
    }
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  int offset = 0;  // minutes east of UTC
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      const int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int oh = 0, om = 0;
      if (!digits(2, oh)) return std::nullopt;
      if (literal(':')) {
        if (!digits(2, om)) return std::nullopt;
      } else if (i < s.size() && !digits(2, om)) {
        return std::nullopt;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset = sign * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  return t + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{sec} -
         std::chrono::minutes{offset};
}

std::optional<sys_seconds> ParseHttpDate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  const std::string s = Lower(Trim(text));
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " gmt") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu",
                                                            "fri", "sat", "sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (std::find(kDays.begin(), kDays.end(), s.substr(0, 3)) == kDays.end()) return std::nullopt;
  const auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month == kMonths.end()) return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n, int& v) {
    v = 0;
    for (std::size_t k = at; k < at + n; ++k) {
      if (!IsDigit(s[k])) return false;
      v = v * 10 + (s[k] - '0');
    }
    return true;
  };
  int d = 0, y = 0, h = 0, mi = 0, sec = 0;
  if (!number(5, 2, d) || !number(12, 4, y) || !number(17, 2, h) || !number(20, 2, mi) ||
      !number(23, 2, sec)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{
      std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(month - kMonths.begin() + 1)},
      std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return sys_seconds(sys_days(ymd)) + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{sec};
}

std::vector<std::pair<std::string, std::string>> SitemapLastmods(std::string_view xml) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string lower = Lower(xml);
  std::size_t at = 0;
  while ((at = lower.find("<url", at)) != std::string::npos) {
    const std::size_t after = at + 4;
    if (after >= lower.size() || (lower[after] != '>' && !IsAsciiSpace(lower[after]))) {
      at = after;  // <urlset>
      continue;
    }
    std::size_t end = lower.find("</url", after);
    if (end == std::string::npos) end = lower.size();
    std::string loc = ElementText(xml, lower, "loc", after, end);
    std::string lastmod = ElementText(xml, lower, "lastmod", after, end);
    if (!loc.empty() && !lastmod.empty()) out.emplace_back(std::move(loc), std::move(lastmod));
    at = end;
  }
  return out;
}

void CheckGeoPage(const PageFacts& facts, const FetchedPage& page, std::vector<Finding>& out) {
  if (!Answered(page)) return;
  if (!IsHtml(page)) {
    CheckAiDirectives(facts, page, false, out);
    return;
  }
  CheckJsOnly(facts, out);
  CheckAuthorship(facts, out);
  CheckCitations(facts, out);
  CheckAiDirectives(facts, page, true, out);
}

void CheckGeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out, std::chrono::system_clock::time_point now) {
  const std::vector<Analysed> html = AnsweredHtml(crawl, pages);
  if (html.empty()) return;  // nothing was read: nothing to judge
  CheckEntity(html, out);
  CheckAnswers(html, out);
  CheckFreshness(crawl, html, now, out);
}

void CheckGeoSite(const CrawlResult& crawl, const std::vector<PageFacts>& pages,
                  std::vector<Finding>& out) {
  CheckGeoSite(crawl, pages, out, std::chrono::system_clock::now());
}

}  // namespace herald::audit
