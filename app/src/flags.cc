#include "flags.h"

namespace mamori::app {

Result<Flags> Flags::Parse(const std::vector<std::string>& args, const FlagSpec& spec) {
  Flags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) f.positional_.push_back(args[i]);
      break;
    }
    if (a.size() < 3 || a[0] != '-' || a[1] != '-') {
      if (a.size() > 1 && a[0] == '-' && a != "-") {
        return Status::InvalidArgument("unknown flag '" + a + "' (flags are --long-name)");
      }
      f.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (spec.booleans.count(name)) {
      if (value) return Status::InvalidArgument("flag --" + name + " takes no value");
      f.values_[name].push_back("true");
      continue;
    }
    if (!spec.with_value.count(name)) {
      return Status::InvalidArgument("unknown flag --" + name);
    }
    if (!value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument("flag --" + name + " needs a value");
      value = args[++i];
    }
    f.values_[name].push_back(*value);
    f.ordered_.emplace_back(name, *value);
  }
  return f;
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace mamori::app
