#pragma once
// Text a site serves (robots.txt, llms.txt, attribute values, URLs): lines,
// ASCII case and whitespace, and cutting what is quoted back to the site
// owner. Only ASCII bytes are ever changed, so UTF-8 passes through.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace herald::audit::site_text {

inline bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string Lower(std::string_view s);
// Without leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view s);
bool StartsWithNoCase(std::string_view s, std::string_view prefix);

// Lines split as JavaScript's split(/\r\n|\r|\n/): a final newline yields a
// last empty line.
std::vector<std::string_view> SplitLines(std::string_view text);

// At most `limit` bytes, not cutting a UTF-8 sequence in two.
std::string_view Cut(std::string_view s, std::size_t limit);

// A value quoted in a message: at most 100 bytes, "..." when shortened.
std::string Quoted(std::string_view s);

// A body that is an HTML page (a "soft 404" for a text file), after an
// optional BOM and leading whitespace.
bool LooksLikeHtml(std::string_view body);

}  // namespace herald::audit::site_text
