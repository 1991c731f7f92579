// LiteralScanner (rules/src/literal_scanner.h, internal): every occurrence of every key, ASCII
// case folded, exactly as a brute-force search finds them, in both layouts of the automaton's
// table (dense, forced by a large memory bound, and byte classes, forced by a zero bound) and
// with the prefilter (AVX2 when the CPU has it, and scalar): random keys over a small alphabet
// with non-ASCII bytes, random texts, empty and huge texts. The prefilter is also compared with
// the automaton (the reference) on random keys and texts of every length around its 32-byte
// steps, and on the Sigma corpus's literals over loghub lines (read in place from
// MAMORI_CORPORA).
#include "literal_scanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "compiled.h"
#include "mamori/rules/loader.h"
#include "test_util.h"

namespace mamori::rules::internal {
namespace {

char Fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

using Hits = std::set<std::pair<int, std::size_t>>;

Hits BruteForce(const std::vector<std::string>& keys, std::string_view text) {
  Hits want;
  for (int k = 0; k < static_cast<int>(keys.size()); ++k) {
    for (std::size_t end = keys[k].size(); end <= text.size(); ++end) {
      const std::size_t start = end - keys[k].size();
      bool eq = true;
      for (std::size_t i = 0; i < keys[k].size() && eq; ++i) {
        eq = Fold(text[start + i]) == Fold(keys[k][i]);
      }
      if (eq) want.emplace(k, end);
    }
  }
  return want;
}

Hits Scan(const LiteralScanner& scanner, std::string_view text) {
  Hits got;
  scanner.Scan(text, [&](int key, std::size_t end) { got.emplace(key, end); });
  return got;
}

// Scans a copy of the text in a heap block of exactly its size (reads past it are bugs that
// the sanitizers see).
Hits ScanExact(const LiteralScanner& scanner, std::string_view text) {
  std::unique_ptr<char[]> copy(new char[text.size()]);
  std::copy(text.begin(), text.end(), copy.get());
  return Scan(scanner, std::string_view(copy.get(), text.size()));
}

enum class Form { kDense, kClasses, kPrefilter, kPrefilterScalar };

class LiteralScannerForms : public ::testing::TestWithParam<Form> {
 protected:
  bool Dense() const { return GetParam() == Form::kDense; }
  bool Automaton() const { return GetParam() == Form::kDense || GetParam() == Form::kClasses; }
  // dense: a bound large enough for every automaton here; otherwise 0 bytes (byte classes).
  void Build(LiteralScanner* scanner) const {
    using M = LiteralScanner::Method;
    const M m = Automaton()                      ? M::kAutomaton
                : GetParam() == Form::kPrefilter ? M::kPrefilter
                                                 : M::kPrefilterScalar;
    scanner->Build(Dense() ? std::size_t{1} << 30 : 0, m);
    ASSERT_EQ(scanner->dense(), Dense());
    ASSERT_EQ(scanner->prefiltered(), !Automaton() && !scanner->empty());
  }
};

TEST_P(LiteralScannerForms, FindsWhatBruteForceFinds) {
  std::mt19937 rng(11);
  const std::string alphabet = "abcAB: 0\xc3\x80\xff";
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> keys;
    const int n_keys = 1 + static_cast<int>(rng() % 12);
    LiteralScanner scanner;
    for (int k = 0; k < n_keys; ++k) {
      std::string key;
      const int len = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < len; ++i) key += alphabet[rng() % alphabet.size()];
      keys.push_back(key);
      ASSERT_EQ(scanner.Add(key), k);
    }
    Build(&scanner);
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const int len = static_cast<int>(rng() % 80);
      for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
      ASSERT_EQ(ScanExact(scanner, text), BruteForce(keys, text)) << "text '" << text << "'";
    }
  }
}

// Many keys (a large automaton, outputs at many depths, keys that are suffixes and prefixes of
// each other) over all 256 byte values, texts made of key fragments and random bytes.
TEST_P(LiteralScannerForms, ManyKeysAllBytes) {
  std::mt19937 rng(5);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::string> keys;
    LiteralScanner scanner;
    for (int k = 0; k < 400; ++k) {
      std::string key;
      const int len = 1 + static_cast<int>(rng() % 12);
      for (int i = 0; i < len; ++i)
        key += static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 6);
      keys.push_back(key);
      scanner.Add(key);
    }
    Build(&scanner);
    for (int t = 0; t < 50; ++t) {
      std::string text;
      while (text.size() < 200) {
        if (rng() % 2 == 0) {
          std::string k = keys[rng() % keys.size()];
          for (auto& c : k) {
            if (rng() % 2 == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
          }
          text += k;
        } else {
          text += static_cast<char>(rng() % 256);
        }
      }
      ASSERT_EQ(ScanExact(scanner, text), BruteForce(keys, text));
    }
  }
}

TEST_P(LiteralScannerForms, EmptyAndHugeTexts) {
  LiteralScanner scanner;
  scanner.Add("needle");
  scanner.Add("NEEDLES");
  scanner.Add("\xe2\x80\x94");  // an em dash: bytes without case
  Build(&scanner);
  EXPECT_TRUE(Scan(scanner, "").empty());
  EXPECT_TRUE(Scan(scanner, "needl").empty());
  EXPECT_EQ(Scan(scanner, "NeEdLeS"), (Hits{{0, 6}, {1, 7}}));
  std::string huge(8 << 20, 'n');
  huge += "eedles\xe2\x80\x94";
  EXPECT_EQ(Scan(scanner, huge),
            (Hits{{0, huge.size() - 4}, {1, huge.size() - 3}, {2, huge.size()}}));
  LiteralScanner none;
  Build(&none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(Scan(none, "needle").empty());
}

INSTANTIATE_TEST_SUITE_P(Forms, LiteralScannerForms,
                         ::testing::Values(Form::kDense, Form::kClasses, Form::kPrefilter,
                                           Form::kPrefilterScalar),
                         [](const auto& info) {
                           switch (info.param) {
                             case Form::kDense:
                               return "Dense";
                             case Form::kClasses:
                               return "Classes";
                             case Form::kPrefilter:
                               return "Prefilter";
                             default:
                               return "PrefilterScalar";
                           }
                         });

// The prefilter against the automaton: random keys (1 to 40 bytes, many keys prefixes or
// suffixes of others, mixed case, all byte values, bytes that the prefilter's loose fold
// conflates such as '@' and '`'), texts of every length from 0 to 130 (shorter than a step,
// unaligned tails), made of key fragments and random bytes, at odd offsets.
TEST(LiteralScannerPrefilter, SameHitsAsTheAutomaton) {
  std::mt19937 rng(29);
  static const char kAlphabet[] = "aAbB@`[{\\|\x00\x09)\x80\xa0\xff-.";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  auto random_byte = [&]() -> char {
    return rng() % 3 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> keys;
    const int n_keys = 1 + static_cast<int>(rng() % (round % 4 == 0 ? 300 : 20));
    const bool tiny = round % 3 == 0;  // 1-2 byte keys too
    for (int k = 0; k < n_keys; ++k) {
      std::string key;
      if (!keys.empty() && rng() % 3 == 0) {  // a prefix, suffix or extension of another key
        key = keys[rng() % keys.size()];
        const std::size_t cut = rng() % (key.size() + 1);
        switch (rng() % 3) {
          case 0:
            key = key.substr(0, cut);
            break;
          case 1:
            key = key.substr(cut);
            break;
          default:
            key += random_byte();
        }
      } else {
        const int len =
            rng() % 8 == 0 ? 17 + static_cast<int>(rng() % 24) : 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < len; ++i) key += random_byte();
      }
      if (key.size() < (tiny ? 1u : 3u)) key += "abc";
      for (auto& c : key) {
        if (rng() % 2 == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      keys.push_back(key);
    }
    LiteralScanner reference, simd, scalar, automatic;
    for (const auto& k : keys) {
      reference.Add(k);
      simd.Add(k);
      scalar.Add(k);
      automatic.Add(k);
    }
    reference.Build(LiteralScanner::kDenseMaxBytes, LiteralScanner::Method::kAutomaton);
    simd.Build(LiteralScanner::kDenseMaxBytes, LiteralScanner::Method::kPrefilter);
    scalar.Build(LiteralScanner::kDenseMaxBytes, LiteralScanner::Method::kPrefilterScalar);
    automatic.Build();
    ASSERT_FALSE(reference.prefiltered());
    ASSERT_TRUE(simd.prefiltered());
    ASSERT_FALSE(scalar.simd());
    for (int len = 0; len <= 130; ++len) {
      std::string text;
      while (text.size() < static_cast<std::size_t>(len)) {
        if (rng() % 3 == 0) {
          std::string k = keys[rng() % keys.size()];
          for (auto& c : k) {
            if (rng() % 2 == 0) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          }
          text += k;
        } else {
          text += random_byte();
        }
      }
      text.resize(len);
      const Hits want = ScanExact(reference, text);
      ASSERT_EQ(want, BruteForce(keys, text));
      ASSERT_EQ(ScanExact(simd, text), want) << "round " << round << " length " << len;
      ASSERT_EQ(ScanExact(scalar, text), want) << "round " << round << " length " << len;
      ASSERT_EQ(ScanExact(automatic, text), want) << "round " << round << " length " << len;
    }
  }
}

// Whether kAuto picks the prefilter: with AVX2 and BMI2, at most kMaxTiny keys of 1-2 bytes.
TEST(LiteralScannerPrefilter, AutoChoosesByKeys) {
  const bool simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
  LiteralScanner words;
  for (const char* k : {"sshd", "failed", "su:", "."}) words.Add(k);
  words.Build();
  EXPECT_EQ(words.prefiltered(), simd);
  EXPECT_EQ(words.simd(), simd);
  LiteralScanner tiny;
  for (const char* k : {"a", "b", "c", "d", "e", "sshd"}) tiny.Add(k);
  tiny.Build();
  EXPECT_FALSE(tiny.prefiltered());
  EXPECT_EQ(Scan(tiny, "SSHD"), (Hits{{3, 4}, {5, 4}}));
}

// The Sigma corpus's literal keys (each field matcher's, as the compiler truncates them) over
// the loghub Linux and OpenSSH lines: the prefilter finds what the automaton finds.
TEST(LiteralScannerPrefilter, SigmaLiteralsOverLoghubLines) {
  const std::string corpora = MAMORI_CORPORA;
  if (!std::filesystem::exists(corpora + "/sigma")) GTEST_SKIP() << "corpus not found";
  const LoadResult r = LoadRuleFiles({corpora + "/sigma/rules"});
  ASSERT_NE(r.rules, nullptr);
  std::vector<std::string> lines;
  for (const char* log : {"/loghub/Linux/Linux_2k.log", "/loghub/OpenSSH/OpenSSH_2k.log"}) {
    std::istringstream in(testing::ReadFile(corpora + log));
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  ASSERT_GT(lines.size(), 3000u);
  std::size_t scanners = 0, hits = 0, largest = 0;
  for (const auto& m : r.rules->compiled().matchers) {
    if (m.literals.empty()) continue;
    LiteralScanner reference, prefilter;
    for (const auto& lit : m.literals) {
      reference.Add(std::string_view(lit.text).substr(0, lit.key_len));
      prefilter.Add(std::string_view(lit.text).substr(0, lit.key_len));
    }
    reference.Build(LiteralScanner::kDenseMaxBytes, LiteralScanner::Method::kAutomaton);
    prefilter.Build(LiteralScanner::kDenseMaxBytes, LiteralScanner::Method::kPrefilter);
    ++scanners;
    largest = std::max(largest, m.literals.size());
    for (const auto& line : lines) {
      const Hits want = ScanExact(reference, line);
      hits += want.size();
      ASSERT_EQ(ScanExact(prefilter, line), want) << m.field.key() << ": " << line;
    }
  }
  EXPECT_GT(scanners, 50u);
  EXPECT_GT(largest, 300u);
  EXPECT_GT(hits, 1000u);
  std::printf("%zu scanners (largest: %zu keys), %zu hits in %zu lines\n", scanners, largest, hits,
              lines.size());
}

// The bound: a dense table takes 1 KiB per automaton state and is used only within
// kDenseMaxBytes; larger automata use byte classes (4 bytes per class and state), with the same
// results.
TEST(LiteralScanner, DenseTableWithinItsBound) {
  using M = LiteralScanner::Method;
  LiteralScanner small;
  small.Add("abc");
  small.Build(LiteralScanner::kDenseMaxBytes, M::kAutomaton);
  EXPECT_TRUE(small.dense());
  EXPECT_LE(small.memory_bytes(), 4 * 1024 + 4096);
  LiteralScanner big;  // 4,000 keys of 8 letters: ~25,000 states over 27 classes
  std::mt19937 rng(3);
  std::vector<std::string> keys;
  for (int k = 0; k < 4000; ++k) {
    std::string key;
    for (int i = 0; i < 8; ++i) key += static_cast<char>('a' + rng() % 26);
    keys.push_back(key);
    big.Add(key);
  }
  big.Build(LiteralScanner::kDenseMaxBytes, M::kAutomaton);
  EXPECT_FALSE(big.dense());
  EXPECT_LE(big.memory_bytes(), std::size_t{4} << 20);  // dense: ~25 MiB
  std::string text;
  for (int i = 0; i < 100; ++i) text += keys[rng() % keys.size()] + "xyz";
  EXPECT_EQ(Scan(big, text), BruteForce(keys, text));
}

}  // namespace
}  // namespace mamori::rules::internal
