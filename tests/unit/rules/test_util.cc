#include "test_util.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mamori::rules::testing {

namespace {

void Flatten(const nlohmann::json& j, const std::string& prefix, Event* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Flatten(j[i], prefix + "." + std::to_string(i), out);
  } else if (j.is_string()) {
    out->fields.push_back(Field{prefix, j.get<std::string>()});
  } else if (!j.is_null()) {
    out->fields.push_back(Field{prefix, j.dump()});
  }
}

}  // namespace

bool FlattenJson(const std::string& json, Event* out) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return false;
  Flatten(j, "", out);
  return true;
}

std::vector<std::string> SplitJsonStream(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  while (true) {
    in >> std::ws;
    if (in.peek() == EOF) break;
    nlohmann::json j;
    try {
      in >> j;
    } catch (const nlohmann::json::exception&) {
      break;
    }
    out.push_back(j.dump());
  }
  return out;
}

Record MakeRecord(const std::string& line, std::int64_t time_ns, std::uint64_t seq) {
  Record r;
  r.seq = seq;
  r.raw.bytes = line;
  r.event.event_time_ns = time_ns;
  if (!line.empty() && line[0] == '{' && FlattenJson(line, &r.event)) {
    r.event.format = "json";
    if (auto* m = r.event.Get("message")) r.event.message = *m;
    if (auto* a = r.event.Get("app")) r.event.app = *a;
    if (auto* h = r.event.Get("host")) r.event.host = *h;
  } else {
    r.event.format = "unparsed";
    r.event.message = line;
  }
  return r;
}

Record Syslog(const std::string& app, const std::string& message, std::int64_t time_ns,
              std::uint64_t seq, std::vector<Field> fields, const std::string& host) {
  Record r;
  r.seq = seq;
  r.raw.bytes = "<38>" + app + ": " + message;
  r.event.event_time_ns = time_ns;
  r.event.app = app;
  r.event.host = host;
  r.event.message = message;
  r.event.format = "rfc3164";
  r.event.fields = std::move(fields);
  return r;
}

LoadResult Load(const std::string& yaml, const std::string& name) {
  return LoadRuleStrings({RuleSource{name, yaml}});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mamori::rules::testing
