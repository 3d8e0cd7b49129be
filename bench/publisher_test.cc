// The publisher's payloads (the contract's for Herald, plus a "seq" for the
// peers) and its reading of Herald's batch reply.
#include "publisher.h"

#include <gtest/gtest.h>

namespace herald::bench {
namespace {

TEST(UpdateJsonTest, HeraldPayloadsAreTheContractsAndPeersGetASeq) {
  EXPECT_EQ(UpdateJson(Mode::kHerald, false, 5, 123, 9), R"({"progress":5,"message":"t=123"})");
  EXPECT_EQ(UpdateJson(Mode::kHerald, true, 5, 123, 9),
            R"({"status":"completed","message":"t=123"})");
  EXPECT_EQ(UpdateJson(Mode::kNchan, false, 5, 123, 9),
            R"({"progress":5,"message":"t=123","seq":9})");
  EXPECT_EQ(UpdateJson(Mode::kNchan, false, 5, 123, 0), R"({"progress":5,"message":"t=123"})");
}

TEST(ParseBatchReplyTest, OneVerdictPerItemInOrder) {
  std::vector<bool> ok;
  ASSERT_TRUE(ParseBatchReply(
      R"([{"id":4},{"error":"job is terminal {x}","status":409}, {"id": 7}])", &ok));
  EXPECT_EQ(ok, (std::vector<bool>{true, false, true}));
  EXPECT_FALSE(ParseBatchReply(R"({"error":"not found"})", &ok));
  EXPECT_FALSE(ParseBatchReply(R"([{"id":1})", &ok));
}

}  // namespace
}  // namespace herald::bench
