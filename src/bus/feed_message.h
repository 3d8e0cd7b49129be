#pragma once
// The JSON carried on kFeedChannel, and its parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/event_log.h"

namespace herald::bus {

std::string EncodeFeedMessage(const jobs::FeedEntry& entry);
// nullopt when the text is not a feed message.
std::optional<jobs::FeedEntry> DecodeFeedMessage(std::string_view text);

}  // namespace herald::bus
