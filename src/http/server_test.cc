// ParseRequest: the server's reading of one request's bytes (the step Serve
// takes before a handler sees it), pinned without a socket.
#include <gtest/gtest.h>

#include <string>

#include "http/request.h"
#include "http/server.h"

namespace herald::http {
namespace {

config::HttpConfig Limits() {
  config::HttpConfig c;
  c.max_header_bytes = 1024;
  c.max_body_bytes = 64;
  return c;
}

TEST(ParseRequestTest, AWellFormedRequestBecomesTheHandlersRequest) {
  auto p = ParseRequest(
      "POST http://h.example/api/v1/jobs/7/progress?x=1%202 HTTP/1.1\r\nHost: h\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\nCookie: a=b\r\n\r\n{}",
      Limits());
  ASSERT_TRUE(p.complete);
  ASSERT_TRUE(p.request) << p.status << " " << p.error;
  EXPECT_EQ(p.request->method, "POST");
  EXPECT_EQ(p.request->target, "/api/v1/jobs/7/progress?x=1%202");  // absolute-form accepted
  EXPECT_EQ(p.request->path, "/api/v1/jobs/7/progress");
  EXPECT_EQ(p.request->Query("x").value_or(""), "1 2");
  EXPECT_EQ(p.request->Header("content-type").value_or(""), "application/json");
  EXPECT_EQ(p.request->Cookie("a").value_or(""), "b");
  EXPECT_EQ(p.request->body, "{}");
  EXPECT_EQ(p.request->version, 11);
}

TEST(ParseRequestTest, ChunkedBodiesAreJoined) {
  auto p = ParseRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      Limits());
  ASSERT_TRUE(p.request) << p.error;
  EXPECT_EQ(p.request->body, "{}");
}

TEST(ParseRequestTest, RefusalsCarryTheStatusTheServerAnswers) {
  auto smuggle = ParseRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}",
      Limits());
  EXPECT_FALSE(smuggle.request);
  EXPECT_EQ(smuggle.status, 400);
  auto no_host = ParseRequest("GET / HTTP/1.1\r\n\r\n", Limits());
  EXPECT_EQ(no_host.status, 400);
  auto big_body = ParseRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n" + std::string(65, 'x'), Limits());
  EXPECT_EQ(big_body.status, 413);
  auto big_head = ParseRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", Limits());
  EXPECT_EQ(big_head.status, 431);
  auto garbage = ParseRequest("\x01\x02 nonsense\r\n\r\n", Limits());
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.error.find("malformed HTTP request"), std::string::npos) << garbage.error;
}

TEST(ParseRequestTest, BytesThatEndEarlyAreIncompleteNotAnError) {
  for (const char* partial : {"", "GET / HT", "GET / HTTP/1.1\r\nHost: h\r\n",
                              "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab"}) {
    auto p = ParseRequest(partial, Limits());
    EXPECT_FALSE(p.complete) << partial;
    EXPECT_FALSE(p.request) << partial;
    EXPECT_EQ(p.status, 0) << partial;
  }
}

}  // namespace
}  // namespace herald::http
