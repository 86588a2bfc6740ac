#include "harness/scenario/suggest.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace smtp::scenario {
namespace {

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view Suggest(std::string_view key, std::span<const std::string_view> allowed) {
  std::string_view best;
  std::size_t best_d = 3;
  for (std::string_view a : allowed) {
    const std::size_t d = EditDistance(key, a);
    if (d < best_d && d < a.size()) {
      best = a;
      best_d = d;
    }
  }
  return best;
}

}  // namespace smtp::scenario
