#include "common/json_text.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <string>

namespace herald {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, DoublesAreWrittenAsPeopleWriteThem) {
  EXPECT_EQ(JsonText(json::value(78.5)), "78.5");
  EXPECT_EQ(JsonText(json::value(79.4)), "79.4");
  EXPECT_EQ(JsonText(json::value(100.0)), "100");
  EXPECT_EQ(JsonText(json::value(0.25)), "0.25");
  EXPECT_EQ(JsonText(json::value(-0.0)), "0");
  EXPECT_EQ(JsonText(json::value(1e21)), "1000000000000000000000");
  EXPECT_EQ(JsonText(json::value(0.000001)), "0.000001");
  EXPECT_EQ(JsonText(json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(JsonText(json::value(std::numeric_limits<double>::infinity())), "null");
  // Every double reads back as itself (with a correctly rounding reader:
  // Boost.JSON 1.81's own parser is not one for 300-digit numbers).
  for (double d : {0.1, 1.0 / 3, 123456.789, 5e-324, 1.7976931348623157e308}) {
    const std::string text = JsonText(json::value(d));
    EXPECT_EQ(text.find_first_of("eE"), std::string::npos) << text;
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), d) << text;
  }
}

TEST(JsonTextTest, EverythingElseIsWhatBoostJsonWrites) {
  const json::value v =
      json::parse(R"({"s":"a\"b\\c\b\f\n\r\t\u0001\u001f\u007f/é","i":-3,"u":18446744073709551615,)"
                  R"("b":[true,false,null,{"k":[]},{}],"":""})");
  EXPECT_EQ(JsonText(v), json::serialize(v));
  EXPECT_EQ(JsonText(v.as_object()), json::serialize(v));
  EXPECT_EQ(JsonText(json::array{1, "x", json::object{{"score", 52.0}}}),
            R"([1,"x",{"score":52}])");
}

}  // namespace
}  // namespace herald
