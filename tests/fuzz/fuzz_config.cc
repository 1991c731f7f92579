// libFuzzer target: a configuration file of arbitrary bytes through LoadConfigString (YAML
// syntax, unknown keys, types, durations and sizes, cross-field validation).
// Checks: no crash, no sanitizer report; a text that loads gives a configuration that
// ValidateConfig accepts (LoadConfigString validates before it returns).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mamori/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto c = mamori::LoadConfigString(std::string_view(reinterpret_cast<const char*>(data), size));
  if (c.ok() && !mamori::ValidateConfig(c.value()).ok()) std::abort();
  return 0;
}
