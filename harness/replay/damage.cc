#include "harness/replay/damage.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "harness/replay/exchanges.h"

namespace smtp::replay {
namespace {

using harness::Entry;
using harness::EntryKind;

constexpr std::string_view kGapMark = "capture gap:";
constexpr std::string_view kMidstreamMark = "capture started mid-stream";

// Where each direction stops being whole: the index of the first entry that
// is not (entries.size() when none), and the first mark.
struct Marks {
  std::size_t client = 0, server = 0;
  std::size_t first = 0;  // min(client, server)
  std::optional<Damage> damage;
};

Marks Find(const harness::Transcript& t) {
  const std::vector<Entry>& es = t.entries();
  Marks m;
  m.client = m.server = m.first = es.size();
  const auto mark = [&](std::size_t i, bool client, bool server, std::string kind,
                        std::string detail) {
    if (client) m.client = std::min(m.client, i);
    if (server) m.server = std::min(m.server, i);
    if (!m.damage || i < m.first) m.damage = Damage{std::move(kind), std::move(detail), 0};
    m.first = std::min(m.client, m.server);
  };
  for (std::size_t i = 0; i < es.size(); ++i) {
    const Entry& e = es[i];
    if (e.kind == EntryKind::kNote && std::string_view(e.text).starts_with(kMidstreamMark)) {
      mark(0, true, true, "capture started mid-stream", e.text);
      break;
    }
    if (e.kind == EntryKind::kError && std::string_view(e.text).starts_with(kGapMark)) {
      const bool client = e.text.find("from the client") != std::string::npos;
      mark(i, client, !client, "capture gap", e.text);
      continue;
    }
    if (e.kind == EntryKind::kTruncated) {
      mark(i, true, true, "truncated recording",
           "the recording hit its storage cap (" + e.text + "); nothing after it was stored");
      break;
    }
    if (e.is_data() && e.size > e.data.size()) {
      // Its stored prefix is still good.
      mark(i + 1, true, true, "truncated recording",
           "the recording hit its storage cap: " + std::to_string(e.size - e.data.size()) +
               " bytes of a chunk and all after it were not stored");
      break;
    }
  }
  return m;
}

}  // namespace

std::string Damage::Describe() const {
  std::string out = detail;
  if (exchanges_kept > 0) {
    out += exchanges_kept == 1 ? std::string(", after the greeting")
                               : ", after exchange " + std::to_string(exchanges_kept - 1);
  }
  return out;
}

std::optional<Damage> FindDamage(const harness::Transcript& t) { return Find(t).damage; }

Undamaged CutAtDamage(const harness::Transcript& t) {
  Marks m = Find(t);
  if (!m.damage) return {t, std::nullopt};
  const std::vector<Entry>& es = t.entries();
  // The stored bytes of each direction before its damage.
  std::size_t clean_c = 0, clean_s = 0;
  for (std::size_t i = 0; i < es.size(); ++i) {
    if (es[i].kind == EntryKind::kClientToServer && i < m.client) clean_c += es[i].data.size();
    if (es[i].kind == EntryKind::kServerToClient && i < m.server) clean_s += es[i].data.size();
  }
  // Whole exchanges inside those bytes. The split of the whole record reads
  // across the damage, so the exchange it damages ends past the clean bytes.
  std::size_t keep_c = 0, keep_s = 0, kept = 0;
  const bool client_damaged = m.client < es.size();
  if (m.first > 0) {
    const Exchanges x = SplitExchangesAsRecorded(t);
    for (const Exchange& e : x.exchanges) {
      const std::size_t need = e.greeting ? 1 : e.sent.size();
      if (e.replies.size() < need || e.reply_error) break;
      std::size_t c = keep_c, s = keep_s;
      bool whole = true;
      for (const Sent& u : e.sent) {
        c += u.bytes.size();
        // A raw unit that ends where the client's bytes stop is a unit cut by
        // the gap, paired with a reply to what followed the gap (the capture
        // reports a hole only after the replies behind it), not a server
        // that framed the client's bytes its own way.
        whole = whole && u.kind != Sent::Kind::kPartial &&
                !(u.kind == Sent::Kind::kRaw && client_damaged && c >= clean_c);
      }
      for (const std::string& r : e.reply_bytes) s += r.size();
      if (!whole || c > clean_c || s > clean_s) break;
      keep_c = c;
      keep_s = s;
      ++kept;
      if (e.tls_opaque) break;
    }
  }
  m.damage->exchanges_kept = kept;

  // The prefix, rebuilt through the JSON form (it keeps every field).
  nlohmann::json j = t.ToJson();
  nlohmann::json entries = nlohmann::json::array();
  std::size_t taken_c = 0, taken_s = 0;
  bool clipped = false;
  for (std::size_t i = 0; i < es.size(); ++i) {
    const Entry& e = es[i];
    if (e.is_data()) {
      const bool c = e.kind == EntryKind::kClientToServer;
      std::size_t& taken = c ? taken_c : taken_s;
      const std::size_t room = (c ? keep_c : keep_s) - taken;
      const std::size_t n = std::min(room, e.data.size());
      clipped = clipped || n < e.data.size();
      if (n == 0) continue;
      taken += n;
      nlohmann::json je = j["entries"][i];
      je["data"] = harness::EscapeBytes(std::string_view(e.data).substr(0, n));
      je.erase("size");
      entries.push_back(std::move(je));
    } else if (i < m.first && kept > 0 && !clipped) {
      // Events up to the first byte left out: what happened after the cut
      // (a close, a TLS start) is not part of the prefix.
      entries.push_back(j["entries"][i]);
    }
  }
  j["entries"] = std::move(entries);
  j.erase("bytes");
  j["truncated"] = false;
  j.erase("omitted_bytes");
  absl::StatusOr<harness::Transcript> clean = harness::Transcript::FromJson(j, t.options());
  Undamaged out{clean.ok() ? *std::move(clean) : harness::Transcript(t.options()),
                std::move(m.damage)};
  out.transcript.meta() = t.meta();
  return out;
}

}  // namespace smtp::replay
