#include "cli/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace herald::cli {
namespace {

using namespace std::chrono_literals;

std::vector<SseEvent> ParseAll(const std::vector<std::string_view>& chunks,
                               SseParser* parser_out = nullptr) {
  SseParser local;
  SseParser& parser = parser_out ? *parser_out : local;
  std::vector<SseEvent> events;
  for (std::string_view c : chunks) {
    parser.Feed(c, [&](const SseEvent& e) {
      events.push_back(e);
      return true;
    });
  }
  return events;
}

bool SameEvents(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].event != b[i].event || a[i].data != b[i].data) return false;
  return true;
}

TEST(SseParserTest, ReadsIdEventAndJoinsDataLines) {
  auto events =
      ParseAll({"retry: 5000\n\nid: 7\nevent: message\ndata: {\"a\":1}\ndata: second\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, "{\"a\":1}\nsecond");
}

TEST(SseParserTest, IgnoresCommentsAndKeepsRetry) {
  SseParser parser;
  auto events = ParseAll({": heartbeat\n\nretry: 250\n: another\ndata: x\n\n"}, &parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
  EXPECT_EQ(events[0].event, "message");
  ASSERT_TRUE(parser.retry().has_value());
  EXPECT_EQ(*parser.retry(), 250ms);
}

TEST(SseParserTest, IgnoresRetryThatIsNotDigits) {
  SseParser parser;
  ParseAll({"retry: 12a\nretry: -5\nretry:\n\n"}, &parser);
  EXPECT_FALSE(parser.retry().has_value());
}

TEST(SseParserTest, AcceptsCrLfAndCrLineEnds) {
  auto lf = ParseAll({"id: 1\ndata: a\n\nid: 2\ndata: b\ndata: c\n\n"});
  auto crlf = ParseAll({"id: 1\r\ndata: a\r\n\r\nid: 2\r\ndata: b\r\ndata: c\r\n\r\n"});
  auto cr = ParseAll({"id: 1\rdata: a\r\rid: 2\rdata: b\rdata: c\r\r"});
  ASSERT_EQ(lf.size(), 2u);
  EXPECT_EQ(lf[1].data, "b\nc");
  EXPECT_TRUE(SameEvents(lf, crlf));
  EXPECT_TRUE(SameEvents(lf, cr));
}

TEST(SseParserTest, GivesTheSameEventsForEverySplitPosition) {
  const std::string streams[] = {
      "retry: 100\n\nid: 1\nevent: message\ndata: "
      "{\"status\":\"running\",\"message\":\"\xC3\xA9t\xC3\xA9\"}\n\n"
      ": heartbeat\n\nid: 2\ndata: l1\ndata:l2\ndata:\n\nevent: error\ndata: {\"error\":\"Stream "
      "timeout\"}\n\n",
      "id: 1\r\ndata: a\r\n\r\n: c\r\nid: 2\r\ndata: b\r\ndata: c\r\n\r\n",
      "id: 1\rdata: a\r\rid: 2\rdata: b\r\r",
  };
  for (const std::string& s : streams) {
    auto whole = ParseAll({s});
    ASSERT_GE(whole.size(), 2u) << s;
    for (size_t i = 0; i <= s.size(); ++i) {
      std::string_view v = s;
      EXPECT_TRUE(SameEvents(whole, ParseAll({v.substr(0, i), v.substr(i)}))) << "split at " << i;
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < s.size(); ++i) bytes.push_back(std::string_view(s).substr(i, 1));
    EXPECT_TRUE(SameEvents(whole, ParseAll(bytes))) << "byte by byte";
  }
}

TEST(SseParserTest, SplitCrLfDoesNotMakeAnExtraBlankLine) {
  // "data: a\r" | "\ndata: b\r\n\r\n" must be one event "a\nb", not two.
  auto events = ParseAll({"data: a\r", "\ndata: b\r\n\r\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
}

TEST(SseParserTest, KeepsTheLastIdForEventsWithoutOne) {
  auto events = ParseAll({"id: 5\n\ndata: x\n\nid: 6\ndata: y\n\n"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "5");  // the dataless event set the id but was not dispatched
  EXPECT_EQ(events[1].id, "6");
}

TEST(SseParserTest, FieldWithoutColonAndOnlyOneSpaceStripped) {
  auto events = ParseAll({"data\ndata:  two spaces\nevent\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "\n two spaces");
  EXPECT_EQ(events[0].event, "message");
}

TEST(SseParserTest, StripsByteOrderMarkOnce) {
  auto events = ParseAll({"\xEF\xBB",
                          "\xBF"
                          "data: x\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParserTest, ResetDropsThePartialEventButKeepsIdAndRetry) {
  SseParser parser;
  auto events = ParseAll({"retry: 9\nid: 3\ndata: done\n\nid: 4\ndata: half"}, &parser);
  EXPECT_EQ(events.size(), 1u);
  parser.ResetConnection();
  EXPECT_EQ(parser.last_event_id(), "4");
  EXPECT_EQ(*parser.retry(), 9ms);
  auto after = ParseAll({"data: fresh\n\n"}, &parser);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].data, "fresh");
}

TEST(SseParserTest, StopsWhenTheCallbackSaysSo) {
  SseParser parser;
  int seen = 0;
  bool more = parser.Feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) {
    ++seen;
    return false;
  });
  EXPECT_FALSE(more);
  EXPECT_EQ(seen, 1);
}

TEST(ClientHelpersTest, OriginOfDropsThePath) {
  EXPECT_EQ(OriginOf("http://127.0.0.1:8000/api/v1/x?y=1"), "http://127.0.0.1:8000");
  EXPECT_EQ(OriginOf("http://host"), "http://host");
}

TEST(ClientHelpersTest, ServerErrorPrefersTheJsonErrorField) {
  EXPECT_EQ(ServerError({400, R"({"error":"url must be http or https"})"}),
            "url must be http or https");
  EXPECT_EQ(ServerError({502, "bad gateway\n"}), "bad gateway");
  EXPECT_EQ(ServerError({500, ""}), "HTTP 500");
}

TEST(ClientHelpersTest, TerminalStatuses) {
  EXPECT_TRUE(IsTerminalStatus("completed"));
  EXPECT_TRUE(IsTerminalStatus("failed"));
  EXPECT_FALSE(IsTerminalStatus("running"));
}

// A loopback port with nothing listening on it.
uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpClientTest, UnreachableServerGivesAReadableMessage) {
  std::string base = "http://127.0.0.1:" + std::to_string(ClosedPort());
  HttpClient http(base, "");
  auto res = http.Get("/api/v1/jobs/1");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().message,
            "cannot reach Herald at " + base + " (is `herald serve` running?)");
}

TEST(StreamTest, GivesUpOnAnUnreachableServerAfterMaxAttempts) {
  std::string base = "http://127.0.0.1:" + std::to_string(ClosedPort());
  StreamOptions options;
  options.max_attempts = 3;
  options.default_retry = 5ms;
  auto start = std::chrono::steady_clock::now();
  auto res = Stream(
      base + "/api/v1/sse/jobs/1/progress", {}, [](const SseEvent&) { return true; }, {}, options);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("cannot reach Herald at " + base), std::string::npos)
      << res.error().message;
  EXPECT_NE(res.error().message.find("3 attempts"), std::string::npos) << res.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// A scripted HTTP server: answers each accepted connection with the next
// canned response and records each request's head.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (const std::string& response : responses_) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string head;
        char buf[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          head.append(buf, static_cast<size_t>(n));
        }
        requests.push_back(head);
        (void)!::write(c, response.data(), response.size());
        ::close(c);  // every response ends with the connection
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> requests;  // read after the stream ended

 private:
  std::vector<std::string> responses_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string SseResponse(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + body;
}

TEST(StreamTest, ReconnectsWithLastEventIdUntilTheTerminalEvent) {
  ScriptedServer server({
      SseResponse(
          "retry: 10\n\nid: 1\nevent: message\ndata: {\"status\":\"running\",\"progress\":10}\n\n"),
      SseResponse("id: 2\nevent: message\ndata: {\"status\":\"completed\",\"progress\":100}\n\n"),
  });
  std::vector<SseEvent> seen;
  auto res = Stream("http://127.0.0.1:" + std::to_string(server.port()) + "/s",
                    {{"Authorization", "Bearer t0k"}},
                    [&](const SseEvent& e) {
                      seen.push_back(e);
                      return true;
                    },
                    {});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(*res, StreamEnd::kTerminal);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].id, "2");
  ASSERT_EQ(server.requests.size(), 2u);
  EXPECT_NE(server.requests[0].find("Authorization: Bearer t0k"), std::string::npos);
  EXPECT_EQ(server.requests[0].find("Last-Event-ID"), std::string::npos);
  EXPECT_NE(server.requests[1].find("Last-Event-ID: 1"), std::string::npos) << server.requests[1];
}

TEST(StreamTest, StopsOn204) {
  ScriptedServer server({"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"});
  auto res = Stream("http://127.0.0.1:" + std::to_string(server.port()) + "/s", {},
                    [](const SseEvent&) { return true; }, {});
  ASSERT_TRUE(res);
  EXPECT_EQ(*res, StreamEnd::kNoContent);
}

TEST(StreamTest, DoesNotRetryANotFound) {
  std::string body = R"({"error":"job not found"})";
  ScriptedServer server(
      {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body});
  auto res = Stream("http://127.0.0.1:" + std::to_string(server.port()) + "/s", {},
                    [](const SseEvent&) { return true; }, {});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kNotFound);
  EXPECT_EQ(res.error().message, "Herald answered 404: job not found");
}

TEST(StreamTest, ShouldStopEndsAQuietStream) {
  // Sends one event and then keeps the connection open (no close until the
  // server is destroyed): only should_stop can end it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(fd, 1);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    int c = ::accept(fd, nullptr, nullptr);
    std::string r = SseResponse("id: 1\ndata: {\"status\":\"running\"}\n\n");
    (void)!::write(c, r.data(), r.size());
    while (!stop) std::this_thread::sleep_for(10ms);
    ::close(c);
  });
  int events = 0;
  auto res = Stream(
      "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/s", {},
      [&](const SseEvent&) {
        ++events;
        return true;
      },
      [&] { return events > 0; });
  stop = true;
  peer.join();
  ::close(fd);
  ASSERT_TRUE(res);
  EXPECT_EQ(*res, StreamEnd::kInterrupted);
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace herald::cli
