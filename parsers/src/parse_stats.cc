#include "mamori/parsers/parser.h"

namespace mamori::parsers {

ParseStats::ParseStats(prometheus::Registry& registry) {
  auto& parsed = prometheus::BuildCounter()
                     .Name("mamori_events_parsed_total")
                     .Help("Events produced by the parsers, by format (\"unparsed\" included)")
                     .Register(registry);
  const auto& names = FormatNames();
  num_formats_ = names.size() < kMaxFormats ? names.size() : kMaxFormats;
  for (std::size_t i = 0; i < num_formats_; ++i) {
    parsed_[i] = &parsed.Add({{"format", std::string(names[i])}});
  }
  unparsed_ = &prometheus::BuildCounter()
                   .Name("mamori_events_unparsed_total")
                   .Help("Records that no parser understood (stored as format \"unparsed\")")
                   .Register(registry)
                   .Add({});
}

void ParseStats::Count(const Event& event) {
  const auto& names = FormatNames();
  for (std::size_t i = 0; i < num_formats_; ++i) {
    if (names[i] == event.format) {
      parsed_[i]->Increment();
      if (names[i] == "unparsed") unparsed_->Increment();
      return;
    }
  }
  // An unknown format is a bug in a parser; count it where it cannot go unnoticed.
  for (std::size_t i = 0; i < num_formats_; ++i) {
    if (names[i] == "unparsed") parsed_[i]->Increment();
  }
  unparsed_->Increment();
}

}  // namespace mamori::parsers
