#include "audit/finding.h"

namespace herald::audit {

std::string_view ToString(Severity severity) {
  switch (severity) {
    case Severity::kCritical:
      return "critical";
    case Severity::kHigh:
      return "high";
    case Severity::kMedium:
      return "medium";
    case Severity::kLow:
      return "low";
  }
  return "low";  // Unreachable for valid enumerators.
}

}  // namespace herald::audit
