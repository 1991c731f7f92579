// The parsers' internal substring searches (parsers/src/body.h) give exactly std::string_view's
// answers: body sniffing relies on it to decide the format.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../../../parsers/src/body.h"

namespace mamori::parsers::internal {
namespace {

TEST(FindTest, FindByLastAndFindStartingByMatchStringView) {
  const std::string alphabet = "ab =[]\",:";
  const std::string_view needles[] = {
      "=", "[", " [", "] \"", "IN=", " OUT=", " date=", "CEF:", "a", "aa", "", "ab a", ":"};
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t len = next() % 40;
    for (std::size_t i = 0; i < len; ++i) s.push_back(alphabet[next() % alphabet.size()]);
    for (std::string_view n : needles) {
      const std::size_t pos = next() % (s.size() + 2);
      ASSERT_EQ(FindByLast(s, n, pos), std::string_view(s).find(n, pos)) << s << " / " << n;
      const std::size_t limit = next() % (s.size() + 2);
      const std::size_t p = std::string_view(s).find(n);
      ASSERT_EQ(FindStartingBy(s, n, limit), p <= limit ? p : std::string_view::npos)
          << s << " / " << n << " / " << limit;
    }
  }
}

}  // namespace
}  // namespace mamori::parsers::internal
