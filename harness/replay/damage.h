// Damaged recordings: where a recorded session stops being a faithful
// record, and the part before it that can still be replayed or converted.
//
// The marks (written by import-pcap, harness/record/pcap_import.cc, and by
// every writer of a Transcript through its storage cap):
//   - an "error" entry "capture gap: N bytes from the client|server lost
//     (...)": bytes of that direction were never captured (a snapshot length
//     that cut the frames, packets the kernel dropped);
//   - a "note" entry "capture started mid-stream: ...": the capture began
//     inside the session, so its first bytes are not its first exchange
//     (a 250 there is not a greeting);
//   - a "truncated" entry, or a data entry whose "size" is larger than the
//     bytes stored: the transcript's storage cap (record --max_session_bytes)
//     cut it; nothing after it was stored.
// The undamaged prefix ends after the last whole exchange (harness/replay/
// exchanges.h) whose sent units and replies all lie in the bytes before the
// damage of their direction: replay and convert both stop there, so they
// stop at the same point.
#ifndef SMTP_HARNESS_REPLAY_DAMAGE_H_
#define SMTP_HARNESS_REPLAY_DAMAGE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "results/transcript.h"

namespace smtp::replay {

struct Damage {
  // The short reason summaries group by: "capture gap", "capture started
  // mid-stream" or "truncated recording".
  std::string kind;
  std::string detail;  // the mark's own text, e.g. "capture gap: 1448 bytes from ..."
  // Whole exchanges before the damage, the greeting included (0: nothing,
  // not even the greeting, can be replayed).
  std::size_t exchanges_kept = 0;

  // "capture gap (capture gap: 1448 bytes from the client lost (never
  // captured)) after exchange 4": one line for reports.
  std::string Describe() const;
};

struct Undamaged {
  // The whole recording when it is not damaged; else its undamaged prefix:
  // the data up to the cut, the events before the first mark, without the
  // marks.
  harness::Transcript transcript;
  std::optional<Damage> damage;
};

// The first damage of `t`, without the cut (exchanges_kept is 0).
std::optional<Damage> FindDamage(const harness::Transcript& t);

// Cuts `t` at its damage (see the file comment). Never fails.
Undamaged CutAtDamage(const harness::Transcript& t);

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_DAMAGE_H_
