#include "sse_parser.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "stats.h"

namespace herald::bench {
namespace {

// Records what the parser reports, one "id|type|data" string per event.
class RecordingSink : public SseSink {
 public:
  bool OnHeaders(int status) override {
    status_ = status;
    return status == 200 || status == 204;
  }
  void OnEvent(const SseEvent& e) override {
    events.push_back((e.has_id ? std::string(e.id) : "-") + "|" + std::string(e.type) + "|" +
                     std::string(e.data));
  }
  void OnComment(std::string_view) override { ++comments; }

  int status_ = 0;
  int comments = 0;
  std::vector<std::string> events;
};

// LF, CRLF and CR line ends, a comment, multi-line data, an error event and
// a last event cut off without its blank line.
const std::string kBody =
    "retry: 5000\n\nid: 1\nevent: message\ndata: {\"a\":1}\n\n: heartbeat\n\n"
    "id: 2\r\ndata: line1\r\ndata: line2\r\n\r\nid: 3\rdata:x\r\rdata: no-id\n\n"
    "id: 4\nevent: error\ndata: {\"error\": \"x\"}\n\nid: 5\ndata: partial";
const std::vector<std::string> kWant = {"1|message|{\"a\":1}", "2|message|line1\nline2",
                                        "3|message|x", "-|message|no-id",
                                        "4|error|{\"error\": \"x\"}"};

std::string Chunked(const std::string& body, std::size_t size) {
  std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t i = 0; i < body.size(); i += size) {
    std::string part = body.substr(i, size);
    char line[32];
    std::snprintf(line, sizeof line, "%zx;ext=1\r\n", part.size());
    out += line + part + "\r\n";
  }
  return out + "0\r\nX-Trailer: 1\r\n\r\n";
}

// Feeds `response` in pieces of `step` bytes, then EOF if still open.
SseResponseParser::Result FeedAll(const std::string& response, std::size_t step,
                                  RecordingSink& sink) {
  SseResponseParser parser;
  auto r = SseResponseParser::Result::kMore;
  for (std::size_t i = 0; i < response.size() && r == SseResponseParser::Result::kMore; i += step) {
    r = parser.Feed(response.data() + i, std::min(step, response.size() - i), sink);
  }
  return r == SseResponseParser::Result::kMore ? parser.Finish() : r;
}

TEST(SseResponseParserTest, ReadsEveryFramingSplitAnywhere) {
  const std::string responses[] = {
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + kBody,
      Chunked(kBody, 7),
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" + kBody +
          "NOT-BODY",
  };
  for (const std::string& response : responses) {
    for (std::size_t step : {1, 3, 1000}) {
      RecordingSink sink;
      EXPECT_EQ(FeedAll(response, step, sink), SseResponseParser::Result::kDone);
      EXPECT_EQ(sink.events, kWant) << "step " << step << " response " << response;
      EXPECT_EQ(sink.comments, 1);
    }
  }
}

TEST(SseResponseParserTest, RefusedStatusAbortsAndNoContentEnds) {
  RecordingSink sink;
  EXPECT_EQ(FeedAll("HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}", 1000, sink),
            SseResponseParser::Result::kAbort);
  EXPECT_EQ(sink.status_, 401);
  EXPECT_EQ(FeedAll("HTTP/1.1 204 No Content\r\n\r\n", 1000, sink),
            SseResponseParser::Result::kDone);
}

TEST(SseResponseParserTest, ChunkedBodyCutShortIsAnError) {
  RecordingSink sink;
  EXPECT_EQ(FeedAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nid: 1", 1000, sink),
            SseResponseParser::Result::kError);
  EXPECT_EQ(FeedAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1000, sink),
            SseResponseParser::Result::kError);
}

TEST(FindJsonTest, FindsTopLevelishKeys) {
  std::string_view value;
  int64_t n = 0;
  EXPECT_TRUE(FindJsonString(R"({"job_id": 3, "status" : "completed", "message":"t=1"})", "status",
                             &value));
  EXPECT_EQ(value, "completed");
  EXPECT_TRUE(FindJsonString(R"({"message":"a\"b"})", "message", &value));
  EXPECT_EQ(value, R"(a\"b)");
  EXPECT_TRUE(FindJsonInt(R"({"job_id": 3, "id": 7})", "id", &n));
  EXPECT_EQ(n, 7);
  EXPECT_FALSE(FindJsonInt(R"({"job_id": 3})", "id", &n));
}

TEST(HistogramTest, QuantilesAndRoundTrip) {
  Histogram h;
  for (int i = 1; i <= 100; ++i) h.Add(int64_t{i} * 1'000'000);  // 1..100 ms.
  h.Add(int64_t{20} * 1'000'000'000);                            // Overflow.
  EXPECT_EQ(h.count(), 101u);
  EXPECT_EQ(h.Quantile(0.5), 51'010'000);  // Upper edge of the 51 ms bucket.
  EXPECT_EQ(h.max_ns(), int64_t{20} * 1'000'000'000);

  Histogram copy;
  ASSERT_TRUE(copy.Parse(h.Serialize()));
  Histogram merged;
  merged.Merge(copy);
  merged.Merge(copy);
  EXPECT_EQ(merged.count(), 202u);
  EXPECT_EQ(merged.Quantile(0.5), 51'010'000);
  EXPECT_EQ(merged.Quantile(1.0), int64_t{20} * 1'000'000'000);
}

TEST(CountersTest, MergeSumsAndKeepsExtremes) {
  Counters a, b;
  a.established = 3;
  a.first_connect_ns = 50;
  a.last_established_ns = 70;
  b.established = 4;
  b.first_connect_ns = 40;
  b.last_established_ns = 60;
  Counters parsed;
  parsed.Parse(b.Serialize());
  a.Merge(parsed);
  EXPECT_EQ(a.established, 7u);
  EXPECT_EQ(a.first_connect_ns, 40u);
  EXPECT_EQ(a.last_established_ns, 70u);
}

}  // namespace
}  // namespace herald::bench
