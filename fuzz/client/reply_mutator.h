// The session-level mutator of `fuzz --client`: changes a reply sequence
// (a ServerScript, reply_script.h) the way a hostile or broken server
// would answer a client: reply codes (known, unknown, known only by their
// first digit, out of range), multiline structure (line counts, mixed
// codes, a continuation that never ends, bare LF, a missing line end),
// lengths (lines over 512 and 1000 octets, hundreds of lines), the EHLO
// extension list (added, removed, doubled, odd parameters), pauses and
// replies written in small pieces, faults around STARTTLS (454, bytes
// injected after the 220, no handshake) and early closes.
//
// Deterministic for a seed (fuzz/net/rng.h), and bounded: a script never
// holds more than kMaxRepliesPerKey replies per command nor replies over
// 64 KiB, and a pause is at most 200 ms, so an iteration stays short.
#ifndef SMTP_FUZZ_CLIENT_REPLY_MUTATOR_H_
#define SMTP_FUZZ_CLIENT_REPLY_MUTATOR_H_

#include <cstddef>
#include <string>
#include <vector>

#include "fuzz/client/reply_script.h"
#include "fuzz/net/rng.h"

namespace smtp::fuzz::client {

inline constexpr std::size_t kMaxRepliesPerKey = 4;

// One mutation of `s` (for a client in `mode`); returns its name for the
// statistics ("reply-code", "extensions-add", ...). `sent`: the verbs the
// client sent when it met `s` (its parent's run), to which replies are
// scripted mostly; empty: any command.
std::string MutateScript(ServerScript* s, ClientMode mode, Rng& rng,
                         const std::vector<std::string>& sent = {});

// A reply the mutator would make for `key` (a command, or "greeting").
ReplySpec RandomReply(std::string_view key, Rng& rng);

}  // namespace smtp::fuzz::client

#endif  // SMTP_FUZZ_CLIENT_REPLY_MUTATOR_H_
