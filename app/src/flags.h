// A small command-line flag parser for mamori's subcommands: "--name value" or "--name=value",
// boolean flags without a value, repeatable flags, and positional arguments. Unknown flags are
// errors naming the flag. Single-threaded (runs in main before anything starts).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mamori/core/status.h"

namespace mamori::app {

struct FlagSpec {
  std::set<std::string> with_value;  // flags that take a value ("data-dir")
  std::set<std::string> booleans;    // flags that take none ("help")
};

class Flags {
 public:
  static Result<Flags> Parse(const std::vector<std::string>& args, const FlagSpec& spec);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // Last value given for the flag, if any.
  std::optional<std::string> Get(const std::string& name) const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The flags with values, in order, as (name, value): for turning flags into query params.
  const std::vector<std::pair<std::string, std::string>>& ordered() const { return ordered_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::pair<std::string, std::string>> ordered_;
  std::vector<std::string> positional_;
};

}  // namespace mamori::app
