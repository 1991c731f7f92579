#include "mamori/parsers/classifier.h"

#include <re2/re2.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstdint>
#include <cstring>

namespace mamori::parsers {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsJoiner(char c) {
  return c == '.' || c == ',' || c == '-' || c == '/' || c == ':' || c == '+';
}

// Whether the character at `i` (before or after a candidate) ends the token. `step` is -1 for
// the left side, +1 for the right.
bool IsBoundary(std::string_view s, std::ptrdiff_t i, int step) {
  if (i < 0 || i >= static_cast<std::ptrdiff_t>(s.size())) return true;
  char c = s[i];
  if (IsWordChar(c)) return false;
  if (IsJoiner(c) || c == ' ') {
    std::ptrdiff_t j = i + step;
    if (j >= 0 && j < static_cast<std::ptrdiff_t>(s.size()) && IsDigit(s[j])) return false;
  }
  return true;
}

// 4-4-4 digits joined by one separator (' ' or '-') at s[i]; fills the 12 digits.
bool GroupedAt(std::string_view s, std::size_t i, char digits[12]) {
  if (i + 14 > s.size()) return false;
  char sep = s[i + 4];
  if (sep != ' ' && sep != '-') return false;
  if (s[i + 9] != sep) return false;
  int k = 0;
  for (std::size_t j = i; j < i + 14; ++j) {
    if (j == i + 4 || j == i + 9) continue;
    if (!IsDigit(s[j])) return false;
    digits[k++] = s[j];
  }
  return true;
}

// "YYYYMMDDhhmm" with a plausible date and time (1970..2099): a timestamp, not a My Number.
bool LooksLikeTimestamp(std::string_view d) {
  auto num = [&](std::size_t p, std::size_t n) {
    int v = 0;
    for (std::size_t i = p; i < p + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  int y = num(0, 4), mo = num(4, 2), day = num(6, 2), h = num(8, 2), mi = num(10, 2);
  return y >= 1970 && y <= 2099 && mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 &&
         mi <= 59;
}

// Bit 7 of each byte of the 8 at `p` that is an ASCII digit ('0'..'9'), others 0. Exact, bytes
// >= 0x80 never match ("hasbetween" of Bit Twiddling Hacks, per byte without carries).
inline std::uint64_t DigitMask(const char* p) {
  static_assert(std::endian::native == std::endian::little);
  constexpr std::uint64_t kOnes = ~std::uint64_t{0} / 255;  // 0x0101...
  constexpr std::uint64_t kLow7 = kOnes * 127;
  constexpr std::uint64_t kHigh = kOnes * 128;
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  const std::uint64_t low = x & kLow7;
  return (kOnes * (127 + ('9' + 1)) - low) & ~x & (low + kOnes * (127 - ('0' - 1))) & kHigh;
}

// The end of the digit run that starts at or before `i` (the first non-digit at or after `i`).
std::size_t DigitRunEnd(std::string_view s, std::size_t i) {
  constexpr std::uint64_t kHigh = ~std::uint64_t{0} / 255 * 128;
  const std::size_t n = s.size();
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t m = ~DigitMask(s.data() + i) & kHigh;
    if (m != 0) return i + static_cast<std::size_t>(std::countr_zero(m)) / 8;
  }
  while (i < n && IsDigit(s[i])) ++i;
  return i;
}

// Bit k set when p[k] is an ASCII digit, for the 64 bytes at p.
inline std::uint64_t DigitBits64(const char* p) {
#if defined(__SSE2__)
  const __m128i below = _mm_set1_epi8('0' - 1);
  const __m128i above = _mm_set1_epi8('9' + 1);
  std::uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) {
    // Signed compares: bytes >= 0x80 are negative, never digits.
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i d = _mm_and_si128(_mm_cmpgt_epi8(x, below), _mm_cmplt_epi8(x, above));
    bits |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(d)))
            << (16 * k);
  }
  return bits;
#else
  std::uint64_t bits = 0;
  for (int k = 0; k < 8; ++k) {
    // DigitMask has bit 7 of each digit byte: gather those 8 bits.
    std::uint64_t m = DigitMask(p + 8 * k) >> 7;
    for (int j = 0; j < 8; ++j) bits |= ((m >> (8 * j)) & 1) << (8 * k + j);
  }
  return bits;
#endif
}

// DigitBits64 for s[base, base + 64); bytes past the end are not digits.
inline std::uint64_t DigitBits(std::string_view s, std::size_t base) {
  if (base + 64 <= s.size()) return DigitBits64(s.data() + base);
  char tail[64] = {};
  std::memcpy(tail, s.data() + base, s.size() - base);
  return DigitBits64(tail);
}

}  // namespace

bool IsValidMyNumber(std::string_view d) {
  if (d.size() != 12) return false;
  int sum = 0;
  for (int n = 1; n <= 11; ++n) {
    char c = d[11 - n];  // P_n: n-th of the 11 leading digits, from the right
    if (!IsDigit(c)) return false;
    int q = n <= 6 ? n + 1 : n - 5;
    sum += (c - '0') * q;
  }
  if (!IsDigit(d[11])) return false;
  int r = sum % 11;
  int check = r <= 1 ? 0 : 11 - r;
  return d[11] - '0' == check;
}

// The runs of digits are found 64 bytes at a time from a bitmap of the digit bytes; only runs of
// exactly 4 or 12 digits are looked at further (most runs are times, ports, pids).
void FindMyNumbers(std::string_view s, std::vector<MyNumberMatch>* out) {
  const std::size_t n = s.size();
  std::size_t resume = 0;  // runs that start before this are inside a match already reported
  for (std::size_t base = 0; base < n; base += 64) {
    const std::uint64_t bits = DigitBits(s, base);
    const std::uint64_t carry = base > 0 && IsDigit(s[base - 1]) ? 1 : 0;
    const std::uint64_t starts = bits & ~((bits << 1) | carry);
    // Candidates, a superset of the runs of exactly 4 or 12 digits: the runs that have exactly 4
    // or 12 digits inside the block, and the run that reaches the block's end (it may go on).
    const std::uint64_t four = bits & (bits >> 1) & (bits >> 2) & (bits >> 3);  // 4 from here
    const std::uint64_t twelve = four & (four >> 4) & (four >> 8);              // 12 from here
    std::uint64_t candidates = starts & ((four & ~(bits >> 4)) | (twelve & ~(bits >> 12)));
    if (bits >> 63 != 0) {
      const std::uint64_t gaps = ~bits;
      const int top = gaps == 0 ? 0 : 64 - std::countl_zero(gaps);  // where the last run starts
      candidates |= starts & (std::uint64_t{1} << top);
    }
    for (; candidates != 0; candidates &= candidates - 1) {
      const std::size_t k = static_cast<std::size_t>(std::countr_zero(candidates));
      const std::size_t i = base + k;
      if (i < resume) continue;
      const std::uint64_t after = ~bits >> k;  // bit j: s[i + j] is no digit (or past the block)
      const std::size_t run = after == 0 ? DigitRunEnd(s, base + 64) : i + std::countr_zero(after);
      const std::size_t len = run - i;
      if (len != 12 && len != 4) continue;
      // '+' right before: an international phone number (+81 90 ...).
      bool left =
          IsBoundary(s, static_cast<std::ptrdiff_t>(i) - 1, -1) && (i == 0 || s[i - 1] != '+');
      if (len == 12 && left && IsBoundary(s, static_cast<std::ptrdiff_t>(run), +1)) {
        std::string_view d = s.substr(i, 12);
        if (IsValidMyNumber(d) && !LooksLikeTimestamp(d)) out->push_back({i, 12});
      } else if (len == 4 && left) {
        char d[12];
        if (GroupedAt(s, i, d) && IsBoundary(s, static_cast<std::ptrdiff_t>(i + 14), +1) &&
            IsValidMyNumber(std::string_view(d, 12))) {
          out->push_back({i, 14});
          resume = i + 14;  // its second and third groups are not candidates of their own
        }
      }
    }
  }
}

std::size_t MaskMyNumbers(std::string* text) {
  std::vector<MyNumberMatch> m;
  FindMyNumbers(*text, &m);
  for (const MyNumberMatch& x : m) {
    for (std::size_t j = x.pos; j < x.pos + x.len; ++j) {
      if (IsDigit((*text)[j])) (*text)[j] = '*';
    }
  }
  return m.size();
}

Result<std::unique_ptr<Classifier>> Classifier::Create(const ClassificationConfig& config,
                                                       prometheus::Registry* registry) {
  std::unique_ptr<Classifier> c(new Classifier());
  c->detect_ = config.detect_my_number;
  c->mask_ = config.mask_my_number;
  for (std::size_t i = 0; i < config.rules.size(); ++i) {
    const ClassRule& r = config.rules[i];
    Rule rule{r.name, r.info_class, r.host, r.app, r.field.empty() ? "message" : r.field, nullptr};
    if (!r.pattern.empty()) {
      RE2::Options opt;
      opt.set_log_errors(false);
      rule.re = std::make_unique<re2::RE2>(r.pattern, opt);
      if (!rule.re->ok()) {
        return Status::InvalidArgument("classification.rules[" + std::to_string(i) + "] (" +
                                       r.name + "): invalid pattern: " + rule.re->error());
      }
    }
    c->rules_.push_back(std::move(rule));
  }
  if (registry != nullptr) {
    c->my_number_ = &prometheus::BuildCounter()
                         .Name("mamori_classification_my_number_total")
                         .Help("My Numbers (12 digits with a valid check digit) found in events")
                         .Register(*registry)
                         .Add({});
    auto& fam = prometheus::BuildCounter()
                    .Name("mamori_events_classified_total")
                    .Help("Events by the information class they were given (I, II, III)")
                    .Register(*registry);
    c->by_class_[0] = &fam.Add({{"class", "I"}});
    c->by_class_[1] = &fam.Add({{"class", "II"}});
    c->by_class_[2] = &fam.Add({{"class", "III"}});
  }
  return c;
}

Classifier::~Classifier() = default;

bool Classifier::RuleMatches(const Rule& r, const Event& e) const {
  if (!r.host.empty() && r.host != e.host) return false;
  if (!r.app.empty() && r.app != e.app) return false;
  if (r.re == nullptr) return true;
  const std::string* v = nullptr;
  if (r.field == "message") {
    v = &e.message;
  } else if (r.field == "host") {
    v = &e.host;
  } else if (r.field == "app") {
    v = &e.app;
  } else if (r.field == "format") {
    v = &e.format;
  } else {
    v = e.Get(r.field);
  }
  return v != nullptr && RE2::PartialMatch(*v, *r.re);
}

std::size_t Classifier::Classify(Event* e) const {
  Tally tally;
  const std::size_t found = Classify(e, &tally);
  Publish(&tally);
  return found;
}

void Classifier::Publish(Tally* tally) const {
  if (my_number_ != nullptr) {
    if (tally->my_numbers > 0) my_number_->Increment(static_cast<double>(tally->my_numbers));
    for (std::size_t i = 0; i < by_class_.size(); ++i) {
      if (tally->by_class[i] > 0) by_class_[i]->Increment(static_cast<double>(tally->by_class[i]));
    }
  }
  *tally = Tally();
}

std::size_t Classifier::Classify(Event* e, Tally* tally) const {
  InfoClass cls = InfoClass::kIII;
  for (const Rule& r : rules_) {
    if (RuleMatches(r, *e)) {
      cls = r.info_class;
      break;
    }
  }
  std::size_t found = 0;
  if (detect_) {
    if (mask_) {
      found += MaskMyNumbers(&e->message);
      for (Field& f : e->fields) found += MaskMyNumbers(&f.value);
    } else {
      std::vector<MyNumberMatch> m;
      FindMyNumbers(e->message, &m);
      for (const Field& f : e->fields) FindMyNumbers(f.value, &m);
      found = m.size();
    }
    if (found > 0) cls = InfoClass::kI;
  }
  e->info_class = cls;
  tally->my_numbers += found;
  ++tally->by_class[static_cast<int>(cls) - 1];
  return found;
}

}  // namespace mamori::parsers
