// Information classification (POLICY.md 3.1, 1.2): gives every event its class I, II or III and
// finds My Numbers (個人番号) in it.
//
//   auto c = Classifier::Create(config.classification, &registry);  // once, at startup
//   if (!c.ok()) ...                                                 // a bad RE2 pattern
//   (*c)->Classify(&record.event);                                   // per event, any thread
//
// Order: the configured rules are tried in order and the first that matches gives the class
// (no match: class III). Then, when detection is on, a My Number anywhere in the message or a
// field value makes the event class I (class I always wins: it is the most sensitive) and, when
// masking is on, every digit of each detected number is replaced by '*' in the message and the
// fields. The raw record is not touched (Classify never sees it).
//
// My Number: 12 digits whose last digit is the check digit of the official formula (省令 on the
// 個人番号 check digit): with P_n the n-th of the 11 leading digits counted from the right and
// Q_n = n + 1 (1 <= n <= 6), n - 5 (7 <= n <= 11), r = (Σ P_n × Q_n) mod 11, the check digit is
// 0 when r <= 1 and 11 - r otherwise. A candidate is exactly 12 digits, or 4-4-4 groups joined by
// one kind of separator ("1234 5678 9012", "1234-5678-9012"), that is not part of a longer token:
// the characters around it are not letters, digits or '_', nor a separator ('.', ',', '-', '/',
// ':', '+') followed by a digit. So phone numbers (090-1234-5678, 0312345678), timestamps
// (20261126231629), card numbers (16 digits, 4-4-4-4) and 12 digits inside longer digit runs are
// never candidates. Neither are 12 digits right after '+' (international phone numbers) nor
// 12 digits that read as a timestamp YYYYMMDDhhmm (1970..2099, valid month/day/hour/minute;
// about 1 in 10,000 real My Numbers has that shape and is missed). A 12-digit ID that happens to
// pass the check digit (about 1 in 11 of random IDs) is flagged: the detector prefers a false alarm
// to a missed My Number.
//
// Thread-safety: after Create, Classify is const and may be called from any thread at once
// (RE2 matching and prometheus counters are thread-safe).
// Ownership: the registry, when given, must outlive the classifier.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace re2 {
class RE2;
}

namespace mamori::parsers {

// Whether the 12 digits of `digits` (exactly 12 chars '0'..'9') end with a valid check digit.
bool IsValidMyNumber(std::string_view digits);

// A My Number found in a text: offset and length of the candidate (12, or 14 with separators).
struct MyNumberMatch {
  std::size_t pos = 0;
  std::size_t len = 0;
};
// Finds the My Numbers in `text` (see above for what a candidate is). Appends to *out.
void FindMyNumbers(std::string_view text, std::vector<MyNumberMatch>* out);
// Replaces the digits of each match by '*' (separators are kept). Returns the count.
std::size_t MaskMyNumbers(std::string* text);

class Classifier {
 public:
  // Compiles the rules' patterns once. Fails (naming the rule) on an invalid pattern. When
  // `registry` is non-null, registers and then increments:
  //   mamori_classification_my_number_total         My Numbers detected (each occurrence)
  //   mamori_events_classified_total{class="I"|"II"|"III"}  events by the class given
  static Result<std::unique_ptr<Classifier>> Create(const ClassificationConfig& config,
                                                    prometheus::Registry* registry);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Sets event->info_class and masks My Numbers when configured. Returns the number of My
  // Numbers found (0 when detection is off). REQUIRES: event != nullptr.
  std::size_t Classify(Event* event) const;

  // The metric increments of several Classify calls, published at once (the collector's I/O
  // threads classify a whole read and touch each shared counter once per read, not per event).
  struct Tally {
    std::array<std::uint64_t, 3> by_class{};  // index = class - 1
    std::uint64_t my_numbers = 0;
  };
  // Classify, counting into *tally instead of the metrics.
  std::size_t Classify(Event* event, Tally* tally) const;
  // Adds *tally to the metrics and zeroes it.
  void Publish(Tally* tally) const;

 private:
  struct Rule {
    std::string name;
    InfoClass info_class;
    std::string host, app, field;
    std::unique_ptr<re2::RE2> re;  // null: matches when host/app match
  };
  Classifier() = default;
  bool RuleMatches(const Rule& r, const Event& e) const;

  bool detect_ = true;
  bool mask_ = false;
  std::vector<Rule> rules_;
  prometheus::Counter* my_number_ = nullptr;
  std::array<prometheus::Counter*, 3> by_class_{};  // index = class - 1
};

}  // namespace mamori::parsers
