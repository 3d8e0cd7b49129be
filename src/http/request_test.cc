#include "http/request.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace herald::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------
// PercentDecode

TEST(RequestTest, PercentDecodeDecodesHexEscapesInEitherCase) {
  EXPECT_EQ(PercentDecode("a%20b%2fc%2Fd", false), "a b/c/d");
  EXPECT_EQ(PercentDecode("%C3%A9", false), "\xc3\xa9");
}

TEST(RequestTest, PercentDecodeReadsPlusAsSpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

TEST(RequestTest, PercentDecodeKeepsAnEncodedPlusAsPlus) {
  EXPECT_EQ(PercentDecode("1%2B1", true), "1+1");
}

TEST(RequestTest, PercentDecodeKeepsAnInvalidEscapeAsIs) {
  EXPECT_EQ(PercentDecode("%zz", false), "%zz");
  EXPECT_EQ(PercentDecode("%4g", false), "%4g");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
}

TEST(RequestTest, PercentDecodeKeepsATruncatedEscapeAsIs) {
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("a%4", false), "a%4");
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("a%41", false), "aA") << "an escape at the very end still decodes";
}

TEST(RequestTest, PercentDecodeDecodesNulAndDoesNotDecodeTwice) {
  EXPECT_EQ(PercentDecode("a%00b", false), std::string("a\0b", 3));
  EXPECT_EQ(PercentDecode("%2541", false), "%41");
}

// ---------------------------------------------------------------------------
// ParseQuery

TEST(RequestTest, ParseQuerySplitsAndDecodesPairs) {
  EXPECT_EQ(ParseQuery("a=1&b=%20x&c=hello+world"),
            (Pairs{{"a", "1"}, {"b", " x"}, {"c", "hello world"}}));
}

TEST(RequestTest, ParseQueryKeepsKeysWithoutValuesAndSkipsEmptyItems) {
  EXPECT_EQ(ParseQuery("flag&&x=&=v&"), (Pairs{{"flag", ""}, {"x", ""}, {"", "v"}}));
  EXPECT_TRUE(ParseQuery("").empty());
}

TEST(RequestTest, ParseQuerySplitsOnTheFirstEqualsSign) {
  EXPECT_EQ(ParseQuery("token=a=b=="), (Pairs{{"token", "a=b=="}}));
}

TEST(RequestTest, ParseQueryDecodesKeysAndEscapedSeparators) {
  EXPECT_EQ(ParseQuery("my+key=a%26b%3Dc"), (Pairs{{"my key", "a&b=c"}}));
}

TEST(RequestTest, ParseQueryKeepsRepeatedKeysInOrder) {
  EXPECT_EQ(ParseQuery("a=1&a=2"), (Pairs{{"a", "1"}, {"a", "2"}}));
}

// ---------------------------------------------------------------------------
// Header and Query lookup

TEST(RequestTest, HeaderReturnsTheFirstMatchAndNothingWhenMissing) {
  Request r;
  r.headers = {{"accept", "text/event-stream"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(r.Header("accept"), "text/event-stream");
  EXPECT_EQ(r.Header("x-a"), "1");
  EXPECT_FALSE(r.Header("authorization").has_value());
}

TEST(RequestTest, HeaderDistinguishesAnEmptyValueFromAMissingOne) {
  Request r;
  r.headers = {{"last-event-id", ""}};
  ASSERT_TRUE(r.Header("last-event-id").has_value());
  EXPECT_EQ(*r.Header("last-event-id"), "");
}

TEST(RequestTest, QueryReturnsTheFirstMatchAndNothingWhenMissing) {
  Request r;
  r.query = ParseQuery("token=abc&token=def&empty=");
  EXPECT_EQ(r.Query("token"), "abc");
  ASSERT_TRUE(r.Query("empty").has_value());
  EXPECT_EQ(*r.Query("empty"), "");
  EXPECT_FALSE(r.Query("missing").has_value());
}

// ---------------------------------------------------------------------------
// Cookie

TEST(RequestTest, CookieFindsOneOfSeveral) {
  Request r;
  r.headers = {{"cookie", "theme=dark; herald_token=abc.def.ghi; lang=en"}};
  EXPECT_EQ(r.Cookie("theme"), "dark");
  EXPECT_EQ(r.Cookie("herald_token"), "abc.def.ghi");
  EXPECT_EQ(r.Cookie("lang"), "en");
}

TEST(RequestTest, CookieIsMissingWhenNotSent) {
  Request r;
  EXPECT_FALSE(r.Cookie("herald_token").has_value());
  r.headers = {{"cookie", "other=1; herald_token_old=x"}};
  EXPECT_FALSE(r.Cookie("herald_token").has_value());
  EXPECT_FALSE(r.Cookie("token").has_value()) << "no prefix or suffix match";
}

TEST(RequestTest, CookieStripsQuotes) {
  Request r;
  r.headers = {{"cookie", "a=\"quoted value\"; b=\""}};
  EXPECT_EQ(r.Cookie("a"), "quoted value");
  EXPECT_EQ(r.Cookie("b"), "\"");
}

TEST(RequestTest, CookieKeepsEqualsSignsInTheValue) {
  Request r;
  r.headers = {{"cookie", "t=YWJj==; u=1"}};
  EXPECT_EQ(r.Cookie("t"), "YWJj==");
}

TEST(RequestTest, CookiePercentDecodesButKeepsPlus) {
  Request r;
  r.headers = {{"cookie", "v=a%20b+c"}};
  EXPECT_EQ(r.Cookie("v"), "a b+c");
}

TEST(RequestTest, CookieReadsEveryCookieHeader) {
  Request r;
  r.headers = {{"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "b=2"}};
  EXPECT_EQ(r.Cookie("a"), "1");
  EXPECT_EQ(r.Cookie("b"), "2");
}

TEST(RequestTest, CookieSkipsItemsWithoutAnEqualsSign) {
  Request r;
  r.headers = {{"cookie", "garbage; ;a=1;"}};
  EXPECT_EQ(r.Cookie("a"), "1");
  EXPECT_FALSE(r.Cookie("garbage").has_value());
}

TEST(RequestTest, CookieHandlesAnEmptyValue) {
  Request r;
  r.headers = {{"cookie", "a=; b=2"}};
  ASSERT_TRUE(r.Cookie("a").has_value());
  EXPECT_EQ(*r.Cookie("a"), "");
}

// ---------------------------------------------------------------------------
// Reply

TEST(RequestTest, ReplyJsonSetsStatusBodyAndJsonContentType) {
  Reply r = Reply::Json(201, R"({"id":1})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"id":1})");
  EXPECT_EQ(r.content_type, "application/json");
}

TEST(RequestTest, ReplyErrorWrapsTheMessage) {
  Reply r = Reply::Error(404, "Job not found");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"Job not found"})");
}

TEST(RequestTest, ReplyErrorEscapesTheMessageAsJson) {
  const std::string message = "bad \"field\" \\ path\nnext\ttab \x01 caf\xc3\xa9 </script>";
  Reply r = Reply::Error(400, message);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("error").as_string(), message);
  EXPECT_EQ(v.as_object().size(), 1u);
  EXPECT_EQ(r.body.find('\n'), std::string::npos) << r.body;
}

TEST(FramingTest, Http11NeedsAHost) {
  EXPECT_EQ(FramingProblem(11, false, std::nullopt, false),
            "HTTP/1.1 request without a Host header");
  EXPECT_EQ(FramingProblem(11, true, std::nullopt, false), "");
  EXPECT_EQ(FramingProblem(10, false, std::nullopt, false), "") << "HTTP/1.0 has no Host";
}

TEST(FramingTest, OnlyChunkedIsATransferEncodingAndNeverBesideAContentLength) {
  EXPECT_EQ(FramingProblem(11, true, "chunked", false), "");
  EXPECT_EQ(FramingProblem(11, true, " Chunked ", false), "");
  EXPECT_NE(FramingProblem(11, true, "xchunked", true), "");
  EXPECT_NE(FramingProblem(11, true, "xchunked", false), "");
  EXPECT_NE(FramingProblem(11, true, "gzip, chunked", false), "");
  EXPECT_NE(FramingProblem(11, true, "", false), "");
  EXPECT_EQ(FramingProblem(11, true, "chunked", true), "both Transfer-Encoding and Content-Length");
}

TEST(FramingTest, AnAbsoluteFormTargetBecomesItsOriginForm) {
  EXPECT_EQ(OriginForm("/api/v1/jobs?limit=2"), "/api/v1/jobs?limit=2");
  EXPECT_EQ(OriginForm("http://127.0.0.1:8000/healthz"), "/healthz");
  EXPECT_EQ(OriginForm("https://example.com/a/b?c=d"), "/a/b?c=d");
  EXPECT_EQ(OriginForm("http://example.com"), "/");
  EXPECT_EQ(OriginForm("http://example.com?x=1"), "/?x=1");
  EXPECT_EQ(OriginForm("*"), "*");
}

}  // namespace
}  // namespace herald::http
