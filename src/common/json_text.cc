#include "common/json_text.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <string_view>

namespace herald {
namespace {

namespace json = boost::json;

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[400];  // fixed notation of DBL_MAX is 309 digits
  // Shortest digits that round-trip, in fixed notation (never an exponent).
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  std::string_view text(buf, static_cast<size_t>(end - buf));
  if (text == "-0") text = "0";
  out += text;
}

// Quoted and escaped as Boost.JSON does: \" \\ \b \f \n \r \t, other
// control characters as \u00XX, everything else (UTF-8 too) as is.
void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void Append(std::string& out, const json::value& v);

void AppendArray(std::string& out, const json::array& a) {
  out += '[';
  bool first = true;
  for (const json::value& item : a) {
    if (!first) out += ',';
    first = false;
    Append(out, item);
  }
  out += ']';
}

void AppendObject(std::string& out, const json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& member : o) {
    if (!first) out += ',';
    first = false;
    AppendString(out, member.key());
    out += ':';
    Append(out, member.value());
  }
  out += '}';
}

void Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      AppendDouble(out, v.get_double());
      return;
    case json::kind::string:
      AppendString(out, v.get_string());
      return;
    case json::kind::array:
      AppendArray(out, v.get_array());
      return;
    case json::kind::object:
      AppendObject(out, v.get_object());
      return;
  }
}

}  // namespace

std::string JsonText(const json::value& value) {
  std::string out;
  out.reserve(128);
  Append(out, value);
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendString(out, text);
  return out;
}

std::string JsonText(const json::object& object) {
  std::string out;
  out.reserve(128);
  AppendObject(out, object);
  return out;
}

std::string JsonText(const json::array& array) {
  std::string out;
  out.reserve(128);
  AppendArray(out, array);
  return out;
}

}  // namespace herald
