// Beast's "parsegrind" for the push readers (LineReader, ReplyReader,
// DataReader, BdatReader): a reader must produce the same thing however its
// input is cut into feeds. Grind re-feeds an input in every cut and returns
// what each produced; the test compares. Test-only, header-only, free of
// gtest.
#ifndef SMTP_PARSER_GRIND_TEST_UTIL_H_
#define SMTP_PARSER_GRIND_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace smtp::testing {

// One way to feed an input: its chunks in order (views into the input) and
// how it was cut, for failure messages.
struct Split {
  std::string how;  // "split at 3", "split at 2,5", "byte by byte"
  std::vector<std::string_view> chunks;
};

// The cuts of `in`: two chunks at every offset 0..in.size() (so an empty
// chunk first and last), three chunks at every pair of offsets when `in` has
// at most `three_way_up_to` octets (quadratic: for short inputs; 0: never),
// and one octet per chunk.
inline std::vector<Split> EverySplit(std::string_view in, std::size_t three_way_up_to = 0) {
  std::vector<Split> out;
  for (std::size_t i = 0; i <= in.size(); ++i) {
    out.push_back({"split at " + std::to_string(i), {in.substr(0, i), in.substr(i)}});
  }
  if (three_way_up_to > 0 && in.size() <= three_way_up_to) {
    for (std::size_t i = 0; i <= in.size(); ++i) {
      for (std::size_t j = i; j <= in.size(); ++j) {
        out.push_back({"split at " + std::to_string(i) + "," + std::to_string(j),
                       {in.substr(0, i), in.substr(i, j - i), in.substr(j)}});
      }
    }
  }
  Split bytes{"byte by byte", {}};
  for (std::size_t i = 0; i < in.size(); ++i) bytes.chunks.push_back(in.substr(i, 1));
  out.push_back(std::move(bytes));
  return out;
}

// `drive(chunks)` feeds the chunks to a fresh reader and returns what it
// produced. Grind calls it for each cut of EverySplit(in, three_way_up_to)
// and returns, in that order, how the input was cut and what came out.
template <class Drive>
auto Grind(std::string_view in, Drive&& drive, std::size_t three_way_up_to = 0) {
  using Produced = std::decay_t<std::invoke_result_t<Drive&, const std::vector<std::string_view>&>>;
  std::vector<std::pair<std::string, Produced>> out;
  for (Split& s : EverySplit(in, three_way_up_to)) {
    Produced produced = drive(static_cast<const std::vector<std::string_view>&>(s.chunks));
    out.emplace_back(std::move(s.how), std::move(produced));
  }
  return out;
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_GRIND_TEST_UTIL_H_
