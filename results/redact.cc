#include "results/redact.h"

#include <algorithm>

#include "results/transcript.h"

namespace smtp::harness {
namespace {

// Sorts `ranges` and merges the overlapping ones.
void Normalize(std::vector<ByteRange>* ranges) {
  std::sort(ranges->begin(), ranges->end(),
            [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
  std::vector<ByteRange> merged;
  merged.reserve(ranges->size());
  for (const ByteRange& r : *ranges) {
    if (r.begin >= r.end) continue;
    if (!merged.empty() && r.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
    } else {
      merged.push_back(r);
    }
  }
  *ranges = std::move(merged);
}

}  // namespace

std::vector<ByteRange> FindSecrets(std::string_view bytes,
                                   const std::vector<std::string>& secrets) {
  std::vector<ByteRange> ranges;
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (std::size_t at = bytes.find(s); at != std::string_view::npos; at = bytes.find(s, at + 1)) {
      ranges.push_back({at, at + s.size()});
    }
  }
  Normalize(&ranges);
  return ranges;
}

std::size_t SecretFragmentAtEnd(std::string_view bytes, const std::vector<std::string>& secrets) {
  std::size_t best = 0;
  for (const std::string& s : secrets) {
    if (s.size() <= kMinRedactedFragment) continue;  // no proper prefix is long enough
    const std::string_view secret(s);
    for (std::size_t len = std::min(s.size() - 1, bytes.size()); len > best; --len) {
      if (len < kMinRedactedFragment) break;
      if (bytes.ends_with(secret.substr(0, len))) {
        best = len;
        break;
      }
    }
  }
  return best;
}

void AddRange(ByteRange range, std::vector<ByteRange>* ranges) {
  if (range.begin >= range.end) return;
  ranges->push_back(range);
  Normalize(ranges);
}

std::string ReplaceRanges(std::string_view bytes, const std::vector<ByteRange>& ranges) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t at = 0;
  for (const ByteRange& r : ranges) {
    out.append(bytes.substr(at, r.begin - at));
    out.append(kRedactionMarker);
    at = r.end;
  }
  out.append(bytes.substr(std::min(at, bytes.size())));
  return out;
}

std::string RedactText(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<ByteRange> ranges = FindSecrets(text, secrets);
  auto cut_at = [&](std::size_t end) {
    const std::size_t n = SecretFragmentAtEnd(text.substr(0, end), secrets);
    if (n > 0) ranges.push_back({end - n, end});
  };
  cut_at(text.size());
  for (std::size_t at = text.find(kCutMarker); at != std::string_view::npos;
       at = text.find(kCutMarker, at + 1)) {
    cut_at(at);
  }
  Normalize(&ranges);
  return ReplaceRanges(text, ranges);
}

std::vector<std::string> WithEscapedForms(const std::vector<std::string>& secrets) {
  std::vector<std::string> out = secrets;
  for (const std::string& s : secrets) {
    std::string escaped = EscapeBytes(s);
    if (escaped != s) out.push_back(std::move(escaped));
  }
  return out;
}

}  // namespace smtp::harness
