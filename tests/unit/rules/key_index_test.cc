// KeyIndex (rules/src/key_index.h, internal): word-at-a-time ASCII folding in the hash and the
// comparison must agree with byte-by-byte folding, for every byte value and every key length.
#include "key_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace mamori::rules::internal {
namespace {

std::string Fold(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

TEST(KeyIndex, EveryByteInEveryLaneFoldsLikeAscii) {
  for (std::size_t len : {1u, 3u, 4u, 7u, 8u, 9u, 17u}) {
    for (std::size_t lane = 0; lane < len; ++lane) {
      for (int b = 0; b < 256; ++b) {
        std::string key(len, 'x');
        key[lane] = static_cast<char>(b);
        KeyIndex<true> ci;
        ci.Insert(key);
        for (int o = 0; o < 256; ++o) {
          std::string other = key;
          other[lane] = static_cast<char>(o);
          ASSERT_EQ(ci.Find(other) == 0, Fold(key) == Fold(other))
              << len << " " << lane << " " << b << " " << o;
        }
      }
    }
  }
}

// Equal directly (a lookup compares only keys whose hash tags agree): one differing byte in any
// lane of keys of 0 to 20 bytes, case-sensitive and folded.
TEST(KeyIndex, EqualSeesEveryByte) {
  for (std::size_t len = 0; len <= 20; ++len) {
    const std::string key(len, 'q');
    EXPECT_TRUE(KeyIndex<false>::Equal(key, key));
    EXPECT_FALSE(KeyIndex<false>::Equal(key, key + "q"));
    for (std::size_t lane = 0; lane < len; ++lane) {
      for (int b = 0; b < 256; ++b) {
        std::string other = key;
        other[lane] = static_cast<char>(b);
        ASSERT_EQ(KeyIndex<false>::Equal(key, other), key == other)
            << len << " " << lane << " " << b;
        ASSERT_EQ(KeyIndex<true>::Equal(key, other), Fold(key) == Fold(other))
            << len << " " << lane << " " << b;
      }
    }
  }
}

TEST(KeyIndex, RandomKeys) {
  std::mt19937 rng(7);
  const std::string alphabet = "aAbBzZ@[`{09 .\x80\xc3";
  for (int it = 0; it < 50000; ++it) {
    std::string a, b;
    const int n = static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) a += alphabet[rng() % alphabet.size()];
    b = a;
    if (n > 0 && rng() % 2) b[rng() % n] = alphabet[rng() % alphabet.size()];
    if (rng() % 3 == 0) {
      for (auto& c : b) {
        if (rng() % 2 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
    }
    KeyIndex<true> ci;
    ci.Insert(a);
    ASSERT_EQ(ci.Find(b) == 0, Fold(a) == Fold(b)) << a << " / " << b;
    KeyIndex<false> cs;
    cs.Insert(a);
    ASSERT_EQ(cs.Find(b) == 0, a == b);
  }
  KeyIndex<true> many;
  for (int i = 0; i < 5000; ++i) many.Insert("Key." + std::to_string(i));
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(many.Find("kEY." + std::to_string(i)), i);
  EXPECT_EQ(many.Find("key.5000"), -1);
}

// Lookups are rejected early by key length (lengths of 63 bytes and more share one mark): every
// key is found whatever the lengths around it, and other lengths find nothing.
TEST(KeyIndex, LengthsOfKeys) {
  KeyIndex<false> index;
  EXPECT_EQ(index.Find(""), -1);
  const std::size_t lengths[] = {0, 1, 62, 63, 64, 200};
  for (std::size_t n : lengths) index.Insert(std::string(n, 'k'));
  for (std::size_t i = 0; i < std::size(lengths); ++i) {
    EXPECT_EQ(index.Find(std::string(lengths[i], 'k')), static_cast<int>(i)) << lengths[i];
  }
  for (std::size_t n : {2u, 61u, 65u, 100u, 201u}) EXPECT_EQ(index.Find(std::string(n, 'k')), -1);
  EXPECT_EQ(index.Find(std::string(64, 'j')), -1);
}

}  // namespace
}  // namespace mamori::rules::internal
