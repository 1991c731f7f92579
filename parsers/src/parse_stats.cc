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
    if (names[i] == "unparsed") unparsed_index_ = i;
  }
  unparsed_ = &prometheus::BuildCounter()
                   .Name("mamori_events_unparsed_total")
                   .Help("Records that no parser understood (stored as format \"unparsed\")")
                   .Register(registry)
                   .Add({});
}

void ParseStats::Count(const Event& event) {
  Tally tally;
  Count(event, &tally);
  Publish(&tally);
}

void ParseStats::Count(const Event& event, Tally* tally) const {
  const auto& names = FormatNames();
  for (std::size_t i = 0; i < num_formats_; ++i) {
    if (names[i] == event.format) {
      ++tally->parsed[i];
      return;
    }
  }
  ++tally->unknown;
}

void ParseStats::Publish(Tally* tally) {
  // An unknown format is a bug in a parser; it is counted as "unparsed", where it cannot go
  // unnoticed.
  if (unparsed_index_ < num_formats_) tally->parsed[unparsed_index_] += tally->unknown;
  if (tally->unknown > 0 && unparsed_index_ >= num_formats_) {
    unparsed_->Increment(static_cast<double>(tally->unknown));
  }
  for (std::size_t i = 0; i < num_formats_; ++i) {
    const std::uint64_t n = tally->parsed[i];
    if (n == 0) continue;
    parsed_[i]->Increment(static_cast<double>(n));
    if (i == unparsed_index_) unparsed_->Increment(static_cast<double>(n));
  }
  *tally = Tally();
}

}  // namespace mamori::parsers
