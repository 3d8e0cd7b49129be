#pragma once
// Files under tests/fixtures/, for tests that read them from disk (the
// audit's robots.txt, llms.txt and GEO fixtures) rather than serve them.

#include <string>
#include <string_view>

namespace herald::test {

// tests/fixtures/<dir>/<name> in the source tree.
std::string FixturePath(std::string_view dir, std::string_view name);

// The file's bytes; "" (and a test failure, unless `required` is false)
// when it cannot be read.
std::string ReadFixture(std::string_view dir, std::string_view name, bool required = true);

}  // namespace herald::test
