#include "bus/memory_bus.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace herald::bus {
namespace {

using Message = std::pair<std::string, std::string>;

class MemoryBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus_.SetHandler([this](std::string_view channel, std::string_view payload) {
      received_.emplace_back(std::string(channel), std::string(payload));
    });
  }

  MemoryBus bus_;
  std::vector<Message> received_;
};

TEST_F(MemoryBusTest, DeliversAPublishOnASubscribedChannel) {
  bus_.Subscribe("audit:progress:1");
  bus_.Publish("audit:progress:1", "hello");
  EXPECT_EQ(received_, (std::vector<Message>{{"audit:progress:1", "hello"}}));
}

TEST_F(MemoryBusTest, DropsAPublishOnAChannelNobodySubscribed) {
  bus_.Subscribe("audit:progress:1");
  bus_.Publish("audit:progress:2", "elsewhere");
  bus_.Publish("job:progress:1", "other type");
  EXPECT_TRUE(received_.empty());
}

TEST_F(MemoryBusTest, StopsDeliveringAfterUnsubscribe) {
  bus_.Subscribe("audit:progress:1");
  bus_.Subscribe("audit:progress:2");
  bus_.Unsubscribe("audit:progress:1");
  bus_.Publish("audit:progress:1", "gone");
  bus_.Publish("audit:progress:2", "kept");
  EXPECT_EQ(received_, (std::vector<Message>{{"audit:progress:2", "kept"}}));
}

TEST_F(MemoryBusTest, DeliversInPublishOrder) {
  bus_.Subscribe(std::string(kFeedChannel));
  for (int i = 0; i < 5; ++i) bus_.Publish(std::string(kFeedChannel), std::to_string(i));
  ASSERT_EQ(received_.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(received_[i].second, std::to_string(i));
}

TEST_F(MemoryBusTest, DeliversAgainAfterResubscribing) {
  bus_.Subscribe("c");
  bus_.Unsubscribe("c");
  bus_.Subscribe("c");
  bus_.Publish("c", "back");
  EXPECT_EQ(received_.size(), 1u);
}

TEST(MemoryBusNoHandlerTest, PublishWithoutAHandlerIsHarmless) {
  MemoryBus bus;
  bus.Subscribe("c");
  bus.Publish("c", "nobody");  // must not crash
  EXPECT_EQ(bus.RedisHealth(), "n/a");
}

}  // namespace
}  // namespace herald::bus
