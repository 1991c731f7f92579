// Test helpers: records from raw lines or JSON, and rule loading that prints diagnostics.
//
// FlattenJson is a stand-in for the parsers module's JSON parser (parsers/json.h) with the same
// flattening: nested objects become dotted keys, arrays "a.0", null omitted. Switch to
// mamori::parsers::Parse once the rules tests may link mamori_parsers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/rules/engine.h"
#include "mamori/rules/loader.h"

namespace mamori::rules::testing {

// Appends the flattened fields of a JSON value to *out; false on invalid JSON.
bool FlattenJson(const std::string& json, Event* out);
// Splits a stream of JSON objects written back to back (or one per line).
std::vector<std::string> SplitJsonStream(const std::string& text);

// A record for a raw line: message = line, raw bytes = line; JSON objects are flattened too.
Record MakeRecord(const std::string& line, std::int64_t time_ns = 0, std::uint64_t seq = 1);
Record Syslog(const std::string& app, const std::string& message, std::int64_t time_ns,
              std::uint64_t seq, std::vector<Field> fields = {}, const std::string& host = "h1");

LoadResult Load(const std::string& yaml, const std::string& name = "test.yml");
std::string ReadFile(const std::string& path);

constexpr std::int64_t kSec = 1'000'000'000;

}  // namespace mamori::rules::testing
