#include "support/fixture_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace herald::test {

std::string FixturePath(std::string_view dir, std::string_view name) {
  return std::string(HERALD_SOURCE_DIR) + "/tests/fixtures/" + std::string(dir) + "/" +
         std::string(name);
}

std::string ReadFixture(std::string_view dir, std::string_view name, bool required) {
  const std::string path = FixturePath(dir, name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (required) ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace herald::test
