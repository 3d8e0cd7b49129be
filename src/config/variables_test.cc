#include "config/variables.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "config/config.h"

namespace herald::config {
namespace {

std::set<std::string> Documented() {
  std::set<std::string> names;
  for (const auto& v : Variables()) {
    EXPECT_TRUE(names.insert(v.name).second) << v.name << " listed twice";
    EXPECT_NE(std::string(v.default_value), "") << v.name;
    EXPECT_NE(std::string(v.meaning), "") << v.name;
  }
  return names;
}

// Every variable LoadConfig asks for is documented (and so in --help).
TEST(VariablesTest, EveryVariableLoadConfigReadsIsListed) {
  std::set<std::string> asked;
  (void)LoadConfig([&](const std::string& name) -> std::optional<std::string> {
    asked.insert(name);
    if (name == "JWT_SECRET") return "secret";
    return std::nullopt;
  });
  const auto documented = Documented();
  for (const auto& name : asked)
    EXPECT_TRUE(documented.count(name)) << name << " is read but not listed";
  for (const auto& name : documented)
    EXPECT_TRUE(asked.count(name)) << name << " is listed but not read";
}

// And the README's configuration table names the same variables.
TEST(VariablesTest, TheReadmeTableNamesTheSameVariables) {
  std::ifstream in(HERALD_SOURCE_DIR "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto start = readme.find("## Configuration");
  const auto end = readme.find("\nCommands:", start);
  ASSERT_NE(start, std::string::npos);
  const std::string table = readme.substr(start, end - start);
  for (const auto& name : Documented()) {
    EXPECT_NE(table.find("`" + name + "`"), std::string::npos)
        << name << " is not in the README's table";
  }
}

}  // namespace
}  // namespace herald::config
