#pragma once
// Every environment variable Herald reads, with its default and meaning:
// `herald serve --help` prints this list, and a test checks it against what
// LoadConfig reads and against the README's table, so the three agree.

#include <span>

namespace herald::config {

struct VariableDoc {
  const char* name;
  const char* default_value;
  const char* meaning;
};

std::span<const VariableDoc> Variables();

}  // namespace herald::config
