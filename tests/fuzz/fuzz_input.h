#pragma once
// Splits a fuzzer's input into fields at NUL bytes, so that seed files stay
// readable ("robots.txt\0agent\0/path") and every field can take any value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::fuzz {

// The first `n` fields of `data` (missing ones are empty; the last takes the rest).
inline std::vector<std::string> Fields(const uint8_t* data, size_t size, size_t n) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    const size_t nul = in.find('\0');
    if (nul == std::string_view::npos) break;
    out.emplace_back(in.substr(0, nul));
    in.remove_prefix(nul + 1);
  }
  out.emplace_back(in);
  out.resize(n);
  return out;
}

// A property the code under test must keep: a violation aborts, which
// libFuzzer reports with the input that caused it.
#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      __builtin_fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      __builtin_trap();                                                                            \
    }                                                                                              \
  } while (0)

}  // namespace herald::fuzz
