#pragma once
// The JSON carried on kFeedChannel, and its parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/job_store.h"

namespace herald::bus {

std::string EncodeFeedMessage(const store::FeedEntry& entry);
// nullopt when the text is not a feed message.
std::optional<store::FeedEntry> DecodeFeedMessage(std::string_view text);

}  // namespace herald::bus
