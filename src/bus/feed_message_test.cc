#include "bus/feed_message.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>

namespace herald::bus {
namespace {

namespace json = boost::json;

jobs::FeedEntry JobEvent() {
  jobs::FeedEntry e;
  e.id = 1234;
  e.notice = false;
  e.job_id = 56;
  e.seq = 7;
  e.audience = "alice";
  e.event = "audit";
  e.data = R"({"audit_id":56,"status":"running","progress":40,"seq":7})";
  return e;
}

jobs::FeedEntry Notice() {
  jobs::FeedEntry e;
  e.id = 99;
  e.notice = true;
  e.audience = "*";
  e.event = "maintenance";
  e.data = R"({"text":"back at 5"})";
  return e;
}

void ExpectSameEntry(const jobs::FeedEntry& got, const jobs::FeedEntry& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.notice, want.notice);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.seq, want.seq);
  EXPECT_EQ(got.audience, want.audience);
  EXPECT_EQ(got.event, want.event);
  EXPECT_EQ(got.data, want.data);
}

TEST(FeedMessageTest, RoundTripsAJobEvent) {
  jobs::FeedEntry entry = JobEvent();
  auto decoded = DecodeFeedMessage(EncodeFeedMessage(entry));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameEntry(*decoded, entry);
}

TEST(FeedMessageTest, RoundTripsANotice) {
  jobs::FeedEntry entry = Notice();
  auto decoded = DecodeFeedMessage(EncodeFeedMessage(entry));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameEntry(*decoded, entry);
}

TEST(FeedMessageTest, EncodesOneJsonObjectWithEveryField) {
  std::string text = EncodeFeedMessage(JobEvent());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  ASSERT_FALSE(ec) << text;
  ASSERT_TRUE(v.is_object());
  const json::object& o = v.get_object();
  EXPECT_EQ(o.at("id").as_int64(), 1234);
  EXPECT_EQ(o.at("audience").as_string(), "alice");
  EXPECT_EQ(o.at("notice").as_bool(), false);
  EXPECT_EQ(o.at("event").as_string(), "audit");
  EXPECT_EQ(o.at("job_id").as_int64(), 56);
  EXPECT_EQ(o.at("seq").as_int64(), 7);
  EXPECT_EQ(text.find('\n'), std::string::npos) << "one line";
}

TEST(FeedMessageTest, EmbedsDataAsRawJsonNotAsAnEscapedString) {
  jobs::FeedEntry entry = JobEvent();
  std::string text = EncodeFeedMessage(entry);
  EXPECT_NE(text.find("\"data\":" + entry.data), std::string::npos) << text;
  json::value v = json::parse(text);
  ASSERT_TRUE(v.at("data").is_object()) << text;
  EXPECT_EQ(v.at("data").at("progress").as_int64(), 40);
}

TEST(FeedMessageTest, RoundTripsNonAsciiTextRaw) {
  jobs::FeedEntry entry = Notice();
  entry.audience = "j\xc3\xbcrgen";                                         // jürgen
  entry.data = "{\"text\":\"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80\"}";  // café ✓ 🚀
  std::string text = EncodeFeedMessage(entry);
  EXPECT_NE(text.find("caf\xc3\xa9"), std::string::npos) << "non-ASCII stays raw: " << text;
  EXPECT_EQ(text.find("\\u"), std::string::npos) << text;
  auto decoded = DecodeFeedMessage(text);
  ASSERT_TRUE(decoded.has_value());
  ExpectSameEntry(*decoded, entry);
}

TEST(FeedMessageTest, RoundTripsStringsThatNeedEscaping) {
  jobs::FeedEntry entry = Notice();
  entry.audience = "we\"ird\\user";
  entry.event = "a.b-c_d";
  entry.data = R"({"text":"line1\nline2 \"quoted\""})";
  auto decoded = DecodeFeedMessage(EncodeFeedMessage(entry));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameEntry(*decoded, entry);
}

TEST(FeedMessageTest, RoundTripsDataThatIsNotAnObject) {
  jobs::FeedEntry entry = Notice();
  for (std::string data : {"\"just text\"", "[1,2,3]", "42", "null", "true"}) {
    entry.data = data;
    auto decoded = DecodeFeedMessage(EncodeFeedMessage(entry));
    ASSERT_TRUE(decoded.has_value()) << data;
    EXPECT_EQ(decoded->data, data);
  }
}

TEST(FeedMessageTest, DecodeRejectsTextThatIsNotJson) {
  EXPECT_FALSE(DecodeFeedMessage("").has_value());
  EXPECT_FALSE(DecodeFeedMessage("not json").has_value());
  EXPECT_FALSE(DecodeFeedMessage(R"({"id":1,"audience":"a")").has_value());
}

TEST(FeedMessageTest, DecodeRejectsJsonThatIsNotAnObject) {
  EXPECT_FALSE(DecodeFeedMessage("[1,2]").has_value());
  EXPECT_FALSE(DecodeFeedMessage("\"text\"").has_value());
  EXPECT_FALSE(DecodeFeedMessage("null").has_value());
}

TEST(FeedMessageTest, DecodeRejectsAMessageMissingARequiredField) {
  const json::object full = {{"id", 1},
                             {"audience", "alice"},
                             {"notice", false},
                             {"event", "audit"},
                             {"job_id", 2},
                             {"seq", 3},
                             {"data", json::object{{"a", 1}}}};
  ASSERT_TRUE(DecodeFeedMessage(json::serialize(full)).has_value());
  for (const char* key : {"id", "audience", "event", "data"}) {
    json::object o = full;
    o.erase(key);
    EXPECT_FALSE(DecodeFeedMessage(json::serialize(o)).has_value()) << "without " << key;
  }
}

TEST(FeedMessageTest, DecodeRejectsRequiredFieldsOfTheWrongType) {
  EXPECT_FALSE(DecodeFeedMessage(R"({"id":"1","audience":"a","event":"e","data":{}})"));
  EXPECT_FALSE(DecodeFeedMessage(R"({"id":1.5,"audience":"a","event":"e","data":{}})"));
  EXPECT_FALSE(DecodeFeedMessage(R"({"id":1,"audience":7,"event":"e","data":{}})"));
  EXPECT_FALSE(DecodeFeedMessage(R"({"id":1,"audience":"a","event":null,"data":{}})"));
}

TEST(FeedMessageTest, DecodeDefaultsTheOptionalFields) {
  auto decoded = DecodeFeedMessage(R"({"id":5,"audience":"bob","event":"job","data":{}})");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->id, 5);
  EXPECT_FALSE(decoded->notice);
  EXPECT_EQ(decoded->job_id, 0);
  EXPECT_EQ(decoded->seq, 0);
  EXPECT_EQ(decoded->data, "{}");
}

}  // namespace
}  // namespace herald::bus
