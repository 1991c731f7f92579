// LiteralScanner (rules/src/literal_scanner.h, internal): every occurrence of every key, ASCII
// case folded, exactly as a brute-force search finds them, with the root skip (bytes that start
// no key) in play: random keys of 1 to 6 bytes over a small alphabet, random texts.
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

TEST(LiteralScanner, FindsWhatBruteForceFinds) {
  std::mt19937 rng(11);
  const std::string alphabet = "abcAB: 0\xc3\x80";
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
    scanner.Build();
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const int len = static_cast<int>(rng() % 40);
      for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
      std::set<std::pair<int, std::size_t>> want, got;
      for (int k = 0; k < n_keys; ++k) {
        for (std::size_t end = keys[k].size(); end <= text.size(); ++end) {
          const std::size_t start = end - keys[k].size();
          bool eq = true;
          for (std::size_t i = 0; i < keys[k].size() && eq; ++i) {
            eq = Fold(text[start + i]) == Fold(keys[k][i]);
          }
          if (eq) want.emplace(k, end);
        }
      }
      scanner.Scan(text, [&](int key, std::size_t end) { got.emplace(key, end); });
      ASSERT_EQ(got, want) << "text '" << text << "'";
    }
  }
}

}  // namespace
}  // namespace mamori::rules::internal
