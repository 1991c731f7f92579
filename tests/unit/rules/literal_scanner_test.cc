// LiteralScanner (rules/src/literal_scanner.h, internal): every occurrence of every key, ASCII
// case folded, exactly as a brute-force search finds them, in both layouts of the automaton's
// table (dense, forced by a large memory bound, and byte classes, forced by a zero bound):
// random keys over a small alphabet with non-ASCII bytes, random texts, empty and huge texts.
#include "literal_scanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>

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

class LiteralScannerForms : public ::testing::TestWithParam<bool> {
 protected:
  // dense: a bound large enough for every automaton here; otherwise 0 bytes (byte classes).
  std::size_t Bound() const { return GetParam() ? std::size_t{1} << 30 : 0; }
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
    scanner.Build(Bound());
    ASSERT_EQ(scanner.dense(), GetParam());
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const int len = static_cast<int>(rng() % 40);
      for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
      ASSERT_EQ(Scan(scanner, text), BruteForce(keys, text)) << "text '" << text << "'";
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
    scanner.Build(Bound());
    ASSERT_EQ(scanner.dense(), GetParam());
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
      ASSERT_EQ(Scan(scanner, text), BruteForce(keys, text));
    }
  }
}

TEST_P(LiteralScannerForms, EmptyAndHugeTexts) {
  LiteralScanner scanner;
  scanner.Add("needle");
  scanner.Add("NEEDLES");
  scanner.Add("\xe2\x80\x94");  // an em dash: bytes without case
  scanner.Build(Bound());
  EXPECT_TRUE(Scan(scanner, "").empty());
  EXPECT_TRUE(Scan(scanner, "needl").empty());
  EXPECT_EQ(Scan(scanner, "NeEdLeS"), (Hits{{0, 6}, {1, 7}}));
  std::string huge(8 << 20, 'n');
  huge += "eedles\xe2\x80\x94";
  EXPECT_EQ(Scan(scanner, huge),
            (Hits{{0, huge.size() - 4}, {1, huge.size() - 3}, {2, huge.size()}}));
  LiteralScanner none;
  none.Build(Bound());
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(Scan(none, "needle").empty());
}

INSTANTIATE_TEST_SUITE_P(Forms, LiteralScannerForms, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Dense" : "Classes"; });

// The bound: a dense table takes 1 KiB per automaton state and is used only within
// kDenseMaxBytes; larger automata use byte classes (4 bytes per class and state), with the same
// results.
TEST(LiteralScanner, DenseTableWithinItsBound) {
  LiteralScanner small;
  small.Add("abc");
  small.Build();
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
  big.Build();
  EXPECT_FALSE(big.dense());
  EXPECT_LE(big.memory_bytes(), std::size_t{4} << 20);  // dense: ~25 MiB
  std::string text;
  for (int i = 0; i < 100; ++i) text += keys[rng() % keys.size()] + "xyz";
  EXPECT_EQ(Scan(big, text), BruteForce(keys, text));
}

}  // namespace
}  // namespace mamori::rules::internal
