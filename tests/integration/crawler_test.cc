#include "audit/crawler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/fixture_site.h"

namespace herald::audit {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string FixtureDir() {
#ifdef HERALD_SOURCE_DIR
  return std::string(HERALD_SOURCE_DIR) + "/tests/fixtures/site";
#else
  return "../tests/fixtures/site";
#endif
}

CrawlOptions LocalOptions() {
  CrawlOptions options;
  options.allow_private = true;  // the fixture site is on loopback
  options.user_agent = "HeraldAudit/test";
  options.connect_timeout = 2s;
  options.total_timeout = 10s;
  return options;
}

std::vector<std::string> Paths(const CrawlResult& result, const test::FixtureSite& site) {
  std::vector<std::string> out;
  std::string prefix = site.url("");
  for (const FetchedPage& page : result.pages) {
    out.push_back(page.url.starts_with(prefix) ? page.url.substr(prefix.size()) : page.url);
  }
  return out;
}

const FetchedPage* FindPage(const CrawlResult& result, std::string_view suffix) {
  for (const FetchedPage& page : result.pages) {
    if (page.url.ends_with(suffix)) return &page;
  }
  return nullptr;
}

TEST(CrawlerTest, CrawlsTheFixtureSiteBreadthFirst) {
  test::FixtureSite site(FixtureDir());
  std::vector<std::string> steps;
  std::vector<std::pair<int, int>> progress;
  CrawlCallbacks callbacks;
  callbacks.on_step = [&](std::string_view step, std::string_view) { steps.emplace_back(step); };
  callbacks.on_page = [&](const FetchedPage&, int done, int known) {
    progress.emplace_back(done, known);
  };
  auto result = Crawl(site.url("/"), LocalOptions(), callbacks);
  ASSERT_TRUE(result.has_value()) << result.error().message;

  // Document order within a page, level by level across pages; fragments
  // dropped ("/#team" is "/"), mailto:/tel:/javascript: and other hosts ignored.
  EXPECT_EQ(Paths(*result, site),
            (std::vector<std::string>{"/", "/about.html", "/blog/post.html", "/products.html",
                                      "/broken-link.html", "/contact.html", "/redirect-loop",
                                      "/faq.html", "/news.html", "/slow-page", "/big"}));
  // "/index.html" (linked from /big) is "/": one page, fetched once.
  for (const auto& t : site.RequestedTargetsForTest()) EXPECT_NE(t, "/index.html");
  EXPECT_EQ(result->start_url, site.url("/"));
  EXPECT_EQ(steps, (std::vector<std::string>{"robots", "llms", "sitemap"}));
  ASSERT_EQ(progress.size(), result->pages.size());
  for (std::size_t i = 0; i < progress.size(); ++i) {
    EXPECT_EQ(progress[i].first, static_cast<int>(i + 1));
    EXPECT_GE(progress[i].second, progress[i].first);
  }
  EXPECT_EQ(progress.back().second, 11);

  const FetchedPage& home = result->pages[0];
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(home.content_type, "text/html; charset=utf-8");
  EXPECT_NE(home.body.find("Northwind Roasters"), std::string::npos);
  EXPECT_EQ(home.bytes, home.body.size());
  EXPECT_FALSE(home.truncated);
  EXPECT_TRUE(home.error.empty());
  EXPECT_GT(home.response_ms, 0);

  const FetchedPage* broken = FindPage(*result, "/broken-link.html");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->status, 404);
  EXPECT_TRUE(broken->error.empty());  // an HTTP status is not a transport error

  // Site files: robots.txt and sitemap.xml exist, llms.txt does not.
  EXPECT_EQ(result->robots_txt.status, 200);
  EXPECT_NE(result->robots_txt.body.find("GPTBot"), std::string::npos);
  EXPECT_EQ(result->sitemap_xml.status, 200);
  EXPECT_NE(result->sitemap_xml.body.find("<urlset"), std::string::npos);
  EXPECT_EQ(result->llms_txt.status, 404);
  EXPECT_TRUE(result->llms_txt.error.empty());
}

TEST(CrawlerTest, SkipsPagesRobotsTxtDisallows) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/"), LocalOptions(), {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->skipped_by_robots, std::vector<std::string>{site.url("/private/secret.html")});
  EXPECT_EQ(FindPage(*result, "/private/secret.html"), nullptr);
  for (const std::string& target : site.RequestedTargetsForTest()) {
    EXPECT_FALSE(target.starts_with("/private/")) << target;
  }
}

// A proxy from the environment would connect to the proxy's address, not
// the target's, and so slip past the connect-time SSRF check: the crawler
// never uses one. (Here the "proxy" is a closed port: honoured, it would
// fail every fetch.)
TEST(CrawlerTest, IgnoresProxyVariablesFromTheEnvironment) {
  test::FixtureSite site(FixtureDir());
  const char* names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"};
  for (const char* name : names) ::setenv(name, "http://127.0.0.1:9", 1);
  auto result = Crawl(site.url("/"), LocalOptions(), {});
  for (const char* name : names) ::unsetenv(name);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_FALSE(result->pages.empty());
  EXPECT_EQ(result->pages.front().status, 200) << result->pages.front().error;
}

TEST(CrawlerTest, StopsAtMaxPages) {
  test::FixtureSite site(FixtureDir());
  CrawlOptions options = LocalOptions();
  options.max_pages = 3;
  int last_known = 0;
  CrawlCallbacks callbacks;
  callbacks.on_page = [&](const FetchedPage&, int, int known) { last_known = known; };
  auto result = Crawl(site.url("/"), options, callbacks);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(Paths(*result, site),
            (std::vector<std::string>{"/", "/about.html", "/blog/post.html"}));
  EXPECT_EQ(last_known, 3);

  options.max_pages = 0;  // clamped to 1
  result = Crawl(site.url("/"), options, {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->pages.size(), 1u);
}

TEST(CrawlerTest, RecordsARedirectLoopAsTooManyRedirects) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/"), LocalOptions(), {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const FetchedPage* loop = FindPage(*result, "/redirect-loop");
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(loop->error_kind, "too_many_redirects");
  EXPECT_NE(loop->error.find("redirect"), std::string::npos) << loop->error;
  // The crawl went on after it.
  EXPECT_NE(FindPage(*result, "/faq.html"), nullptr);
}

TEST(CrawlerTest, FollowsARedirectChainWithinTheLimit) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/redirect/3"), LocalOptions(), {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const FetchedPage& page = result->pages[0];
  EXPECT_EQ(page.url, site.url("/redirect/3"));
  EXPECT_EQ(page.final_url, site.url("/redirect/0"));
  EXPECT_EQ(page.redirects, 3);
  EXPECT_EQ(page.status, 200);

  CrawlOptions options = LocalOptions();
  options.max_redirects = 2;
  auto too_far = Crawl(site.url("/redirect/3"), options, {});
  ASSERT_FALSE(too_far.has_value());
  EXPECT_EQ(too_far.error().code, Errc::kUnavailable);
  EXPECT_NE(too_far.error().message.find("more than 2 redirects"), std::string::npos)
      << too_far.error().message;
}

TEST(CrawlerTest, TruncatesABigPageAtTheCap) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/big"), LocalOptions(), {});  // 3 MB > 2 MB default cap
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const FetchedPage& big = result->pages[0];
  EXPECT_TRUE(big.truncated);
  EXPECT_TRUE(big.error.empty()) << big.error;
  EXPECT_EQ(big.body.size(), LocalOptions().max_page_bytes);
  // Its true size: the rest was read and counted, not kept.
  EXPECT_GT(big.bytes, 3u * 1024 * 1024);
  EXPECT_LT(big.bytes, 3u * 1024 * 1024 + 2048);
  EXPECT_FALSE(big.bytes_at_least);
  EXPECT_EQ(big.status, 200);
  // Links from the part that was kept are still followed.
  EXPECT_NE(FindPage(*result, "/index.html"), nullptr);
}

TEST(CrawlerTest, StopsCountingAtMaxCountedBytes) {
  test::FixtureSite site(FixtureDir());
  CrawlOptions options = LocalOptions();
  options.max_page_bytes = 1024;
  options.max_counted_bytes = 100 * 1024;
  auto result = Crawl(site.url("/big"), options, {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const FetchedPage& big = result->pages[0];
  EXPECT_TRUE(big.truncated);
  EXPECT_TRUE(big.bytes_at_least);
  EXPECT_GE(big.bytes, 100u * 1024);
  EXPECT_LT(big.bytes, 3u * 1024 * 1024);
  EXPECT_TRUE(big.error.empty()) << big.error;
}

// A site written for the test: its own robots.txt and header files.
class TempSite {
 public:
  explicit TempSite(const std::vector<std::pair<std::string, std::string>>& files)
      : dir_(std::filesystem::temp_directory_path() /
             ("herald-crawl-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_))) {
    for (const auto& [name, content] : files) {
      std::filesystem::create_directories((dir_ / name).parent_path());
      std::ofstream(dir_ / name, std::ios::binary) << content;
    }
    site_ = std::make_unique<test::FixtureSite>(dir_.string());
  }
  ~TempSite() {
    site_.reset();
    std::filesystem::remove_all(dir_);
  }
  test::FixtureSite& site() { return *site_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<test::FixtureSite> site_;
};

TEST(CrawlerTest, KeepsTheFinalResponsesHeaders) {
  TempSite temp({{"index.html", "<!doctype html><title>Home</title><a href=\"/a.html\">a</a>"},
                 {"a.html", "<!doctype html><title>A</title>"},
                 {"a.html.headers",
                  "X-Robots-Tag: noindex, noai\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\n"}});
  auto result = Crawl(temp.site().url("/"), LocalOptions(), {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_EQ(result->pages.size(), 2u);
  const FetchedPage& a = result->pages[1];
  auto header = [&](std::string_view name) {
    for (const auto& [n, v] : a.headers)
      if (n == name) return v;
    return std::string();
  };
  EXPECT_EQ(header("x-robots-tag"), "noindex, noai");
  EXPECT_EQ(header("last-modified"), "Tue, 01 Dec 2026 10:00:00 GMT");
  EXPECT_EQ(header("content-type"), "text/html; charset=utf-8");
}

TEST(CrawlerTest, HonoursCrawlDelayAndIndexFilesAreOnePage) {
  TempSite temp({{"robots.txt", "User-agent: *\nCrawl-delay: 0.4\n"},
                 {"index.html",
                  "<!doctype html><title>Home</title><a href=\"/index.html\">home</a>"
                  "<a href=\"/b/\">b</a><a href=\"/b/index.htm\">b again</a>"},
                 {"b/index.html", "<!doctype html><title>B</title>"},
                 {"b/index.htm", "<!doctype html><title>B</title>"}});
  auto start = Clock::now();
  auto result = Crawl(temp.site().url("/"), LocalOptions(), {});
  auto took = Clock::now() - start;
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(Paths(*result, temp.site()), (std::vector<std::string>{"/", "/b/"}));
  EXPECT_EQ(result->crawl_delay_seconds, 0.4);
  EXPECT_FALSE(result->crawl_delay_capped);
  // robots, llms, sitemap, /, /b/: four waits of 0.4 s between five requests.
  EXPECT_GE(took, 1600ms);
}

TEST(CrawlerTest, CapsALongCrawlDelay) {
  TempSite temp({{"robots.txt", "User-agent: HeraldAudit\nCrawl-delay: 3600\n"},
                 {"index.html", "<!doctype html><title>Home</title>"}});
  CrawlOptions options = LocalOptions();
  options.max_crawl_delay = 100ms;
  auto result = Crawl(temp.site().url("/"), options, {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->crawl_delay_seconds, 3600);
  EXPECT_TRUE(result->crawl_delay_capped);
}

TEST(CrawlerTest, PageKeyFoldsIndexFilesIntoTheirDirectory) {
  EXPECT_EQ(PageKey("https://e.com/index.html"), "https://e.com/");
  EXPECT_EQ(PageKey("https://e.com/docs/index.htm?x=1"), "https://e.com/docs/?x=1");
  EXPECT_EQ(PageKey("https://e.com/index.php"), "https://e.com/");
  EXPECT_EQ(PageKey("https://e.com/myindex.html"), "https://e.com/myindex.html");
  EXPECT_EQ(PageKey("https://e.com/a.html"), "https://e.com/a.html");
  EXPECT_EQ(PageKey("https://e.com/?q=/index.html"), "https://e.com/?q=/index.html");
}

TEST(CrawlerTest, DecodesACompressedResponse) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/gzip"), LocalOptions(), {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_NE(result->pages[0].body.find("travelled gzip-encoded"), std::string::npos);
}

TEST(CrawlerTest, CancelDuringASlowStartPageReturnsWithinASecond) {
  test::FixtureSite site(FixtureDir());
  std::atomic<bool> cancel{false};
  CrawlCallbacks callbacks;
  callbacks.cancelled = [&] { return cancel.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(500ms);
    cancel = true;
  });
  auto cancelled_at = Clock::now() + 500ms;
  auto result = Crawl(site.url("/slow"), LocalOptions(), callbacks);
  auto returned_at = Clock::now();
  canceller.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kConflict);
  EXPECT_EQ(result.error().message, "cancelled");
  EXPECT_LT(returned_at - cancelled_at, 1s);
}

TEST(CrawlerTest, CancelDuringThePerHostDelayIsPrompt) {
  test::FixtureSite site(FixtureDir());
  CrawlOptions options = LocalOptions();
  options.per_host_delay = 10s;
  std::atomic<bool> cancel{false};
  CrawlCallbacks callbacks;
  callbacks.cancelled = [&] { return cancel.load(); };
  callbacks.on_step = [&](std::string_view step, std::string_view) {
    if (step == "llms") cancel = true;  // robots.txt done; the delay is next
  };
  auto started = Clock::now();
  auto result = Crawl(site.url("/"), options, callbacks);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "cancelled");
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST(CrawlerTest, TimesOutASlowPage) {
  test::FixtureSite site(FixtureDir());
  CrawlOptions options = LocalOptions();
  options.total_timeout = 700ms;
  auto result = Crawl(site.url("/slow"), options, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(result.error().message, "timed out after 0.7 s");
}

TEST(CrawlerTest, RejectsANonHtmlStartPage) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/doc.pdf"), LocalOptions(), {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kBadRequest);
  EXPECT_EQ(result.error().message, "the start page is not HTML (content-type: application/pdf)");
}

TEST(CrawlerTest, RejectsAStartPageThatAnswers404) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/missing.html"), LocalOptions(), {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kBadRequest);
  EXPECT_EQ(result.error().message, "the start page answered HTTP 404");
}

TEST(CrawlerTest, RejectsAStartPageRobotsTxtDisallows) {
  test::FixtureSite site(FixtureDir());
  auto result = Crawl(site.url("/private/secret.html"), LocalOptions(), {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kBadRequest);
  EXPECT_NE(result.error().message.find("robots.txt"), std::string::npos);
}

TEST(CrawlerTest, ReportsAnUnresolvableHost) {
  CrawlOptions options = LocalOptions();
  auto result = Crawl("http://example.invalid/", options, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(result.error().message, "could not resolve host example.invalid");
}

TEST(CrawlerTest, ReportsARefusedConnection) {
  // A port that was just free: bind, read the number, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  auto result = Crawl(url, LocalOptions(), {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Errc::kUnavailable);
  EXPECT_EQ(result.error().message, "connection refused by 127.0.0.1");
}

// SSRF guard: with allow_private=false nothing on loopback, private or
// link-local addresses is reached, however the host is spelled.
class CrawlerSsrfTest : public ::testing::Test {
 protected:
  CrawlOptions PublicOptions() {
    CrawlOptions options;
    options.allow_private = false;
    options.connect_timeout = 1s;
    options.total_timeout = 3s;
    return options;
  }
  void ExpectBlocked(const std::string& url, const CrawlOptions& options) {
    auto started = Clock::now();
    auto result = Crawl(url, options, {});
    ASSERT_FALSE(result.has_value()) << url;
    EXPECT_EQ(result.error().code, Errc::kUnavailable) << url;
    EXPECT_NE(result.error().message.find("resolves to a private or loopback address"),
              std::string::npos)
        << url << ": " << result.error().message;
    EXPECT_NE(result.error().message.find("AUDIT_ALLOW_PRIVATE=1"), std::string::npos);
    EXPECT_LT(Clock::now() - started, 1s) << url << " waited instead of being refused";
  }
  test::FixtureSite site_{FixtureDir()};
};

TEST_F(CrawlerSsrfTest, BlocksLoopbackLiteral) {
  ExpectBlocked(site_.url("/"), PublicOptions());
  EXPECT_TRUE(site_.RequestedTargetsForTest().empty());
}

TEST_F(CrawlerSsrfTest, BlocksLocalhostByName) {
  ExpectBlocked("http://localhost:" + std::to_string(site_.port()) + "/", PublicOptions());
  EXPECT_TRUE(site_.RequestedTargetsForTest().empty());
}

TEST_F(CrawlerSsrfTest, BlocksIpv6Loopback) {
  ExpectBlocked("http://[::1]:" + std::to_string(site_.port()) + "/", PublicOptions());
}

TEST_F(CrawlerSsrfTest, BlocksTheMetadataAddress) {
  ExpectBlocked("http://169.254.169.254/latest/meta-data/", PublicOptions());
}

TEST_F(CrawlerSsrfTest, BlocksAPublicLookingNameThatResolvesToLoopback) {
  // Stands for DNS rebinding or a hostile DNS answer: the name looks public,
  // the address connected to is loopback, and the check is on the address.
  CrawlOptions options = PublicOptions();
  std::string port = std::to_string(site_.port());
  options.resolve = {"public.example:" + port + ":127.0.0.1"};
  ExpectBlocked("http://public.example:" + port + "/", options);
  EXPECT_TRUE(site_.RequestedTargetsForTest().empty());
}

}  // namespace
}  // namespace herald::audit
