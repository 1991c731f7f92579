#include "mamori/rules/rule.h"

namespace mamori::rules {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "medium";
}

bool ParseSeverity(std::string_view name, Severity* out) {
  if (name == "info" || name == "informational") {
    *out = Severity::kInfo;
  } else if (name == "low") {
    *out = Severity::kLow;
  } else if (name == "medium") {
    *out = Severity::kMedium;
  } else if (name == "high") {
    *out = Severity::kHigh;
  } else if (name == "critical") {
    *out = Severity::kCritical;
  } else {
    return false;
  }
  return true;
}

std::string Diagnostic::ToString() const {
  std::string s = file.empty() ? "<input>" : file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += level == Level::kError ? ": error: " : level == Level::kWarning ? ": warning: " : ": ";
  if (!rule_id.empty()) s += "rule " + rule_id + ": ";
  s += message;
  return s;
}

}  // namespace mamori::rules
