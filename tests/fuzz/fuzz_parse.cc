// libFuzzer target: Parse() on arbitrary bytes, with the format pinned to kFuzzFormat (defined
// per target by CMake: "auto" detects; a body format runs only that parser), then the classifier
// with masking.
// Checks the invariants every parser promises: no crash, no sanitizer report, a known format,
// an unparsed event keeps the bytes, the raw record is not modified.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mamori/parsers/classifier.h"
#include "mamori/parsers/parser.h"

extern const char kFuzzFormat[];  // one tiny generated file per target

namespace {

const mamori::parsers::Classifier& TheClassifier() {
  static const mamori::parsers::Classifier* c = [] {
    mamori::ClassificationConfig cfg;
    cfg.mask_my_number = true;
    cfg.rules.push_back({"ops", mamori::InfoClass::kII, "", "", "user.name", "^adm"});
    auto r = mamori::parsers::Classifier::Create(cfg, nullptr);
    if (!r.ok()) std::abort();
    return std::move(r).value().release();
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mamori::RawRecord raw;
  raw.bytes.assign(reinterpret_cast<const char*>(data), size);
  raw.received_ns = 1'700'000'000'000'000'000;
  const std::string copy = raw.bytes;
  mamori::parsers::ParseContext ctx;
  ctx.format = kFuzzFormat;
  ctx.utc_offset_minutes = 9 * 60;
  mamori::Event e = mamori::parsers::Parse(raw, ctx);
  bool known = false;
  for (auto n : mamori::parsers::FormatNames()) known |= n == e.format;
  if (!known || raw.bytes != copy) std::abort();
  if (e.format == "unparsed" && e.message != raw.bytes) std::abort();
  std::size_t before = e.fields.size();
  TheClassifier().Classify(&e);
  if (e.fields.size() != before) std::abort();
  return 0;
}
