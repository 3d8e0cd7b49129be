#pragma once
// JSON text as people write numbers: 78.5, 100, 0.25 - never 7.85E1, which
// is what Boost.JSON's serialize() makes of a double. Everything Herald
// sends (payloads, replies, reports, notices) goes through JsonText.

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>

namespace herald {

// Compact JSON for `value`, like boost::json::serialize, except that a
// double is written in plain decimal notation: the shortest digits that
// read back as the same double (a whole double keeps ".0" off: 100). NaN
// and infinities, which JSON has no text for, are written as null.
std::string JsonText(const boost::json::value& value);
std::string JsonText(const boost::json::object& object);
std::string JsonText(const boost::json::array& array);

// `text` as a JSON string literal, quotes included (escaped as above).
std::string JsonQuote(std::string_view text);

}  // namespace herald
