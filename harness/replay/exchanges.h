// Splitting a recorded session (results/transcript.h) into exchanges: what
// the client sent before it waited, and the replies that answered it. The
// client bytes are read as the server reads them — command lines, a DATA
// body up to its end-of-data line, a BDAT chunk by its size, the lines of an
// AUTH exchange — and the server bytes as replies (parser/), paired in
// order: each thing the client sends is answered by one reply. Replies are
// read with every leniency of the reply reader; Reply::deviations says which
// ones a reply needed (the runner reads strictly, see to_scenario.h).
//
// Where an exchange ends comes from the record's order: a client unit joins
// the current exchange while no reply to that exchange has arrived yet (the
// client did not wait: an RFC 2920 pipelined group), and starts a new one
// otherwise. A reply that arrives while nothing is waiting for one and the
// client is in the middle of a unit answers the bytes sent so far: they
// become a kRaw unit (the server framed them differently from the RFC, e.g.
// ended a DATA body at a bare LF "." LF), and reading goes on with a
// command. `convert` writes scenarios and fuzz seeds from exchanges;
// `replay` can send them and compare the replies.
#ifndef SMTP_HARNESS_REPLAY_EXCHANGES_H_
#define SMTP_HARNESS_REPLAY_EXCHANGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/replay/damage.h"
#include "parser/command.h"
#include "parser/reply.h"
#include "results/transcript.h"

namespace smtp::replay {

// One thing the client sent that the server answers with one reply.
struct Sent {
  enum class Kind : std::uint8_t {
    kCommand,   // a command line (verb set; kUnknown when it does not parse)
    kSasl,      // a line answering an AUTH challenge (334)
    kDataBody,  // a DATA body through its end-of-data line
    kBdat,      // a BDAT command line and its chunk
    kPartial,   // bytes the record ends in the middle of (no line end yet, a
                // body or chunk cut short); never answered
    kRaw,       // bytes the server answered before they made a whole unit:
                // a body it took as ended by a sequence other than CRLF "."
                // CRLF (SMTP smuggling), a line it answered without its end
  };
  Kind kind = Kind::kCommand;
  std::string bytes;           // exactly as sent: line end, dot-stuffing and all
  Verb verb = Verb::kUnknown;  // kCommand, kBdat
  // kCommand, kSasl: the line without its line end. kDataBody: the body
  // with the dot-stuffing removed (strict end of data). kBdat: the chunk.
  std::string text;
  bool crlf = true;  // kCommand, kSasl: the line ended in CRLF (not a bare LF)
  bool bdat_last = false;
};

struct Exchange {
  // The server spoke first: the greeting (nothing sent; replies[0] is it).
  bool greeting = false;
  std::vector<Sent> sent;  // more than one: a pipelined group
  // replies[i] answers sent[i] (the greeting: replies[0]); fewer than
  // sent.size() when the record ends first. Replies with nothing left to
  // answer (a server that speaks unasked) are appended to the exchange they
  // arrive in and counted in `unsolicited`.
  std::vector<Reply> replies;
  std::vector<std::string> reply_bytes;  // each reply exactly as received
  std::size_t unsolicited = 0;
  // Server bytes that are not a reply arrived while this exchange waited
  // for its replies (or after it): the pairing of replies from here on is
  // a guess (Exchanges::notes says what was skipped).
  bool reply_error = false;
  // What happened after this exchange: TLS started and was seen (a
  // kTlsEstablished entry), or started and was not (kTlsOpaque).
  bool tls_established = false;
  bool tls_opaque = false;
};

struct Exchanges {
  std::vector<Exchange> exchanges;
  // Stopped at a kTlsOpaque entry: what followed was encrypted and not seen.
  bool tls_opaque = false;
  // The record ends with something incomplete: a partial unit or reply, or
  // the transcript's own storage cap (Transcript::truncated()).
  bool truncated = false;
  // The peer closed the connection after the last reply (a kPeerClosed entry).
  bool peer_closed = false;
  // TLS was on before the first byte (a kTlsEstablished entry first):
  // implicit TLS.
  bool implicit_tls = false;
  // The record is damaged (harness/replay/damage.h): `exchanges` stop before
  // the damage, and this says where and why.
  std::optional<Damage> damage;
  // What could not be read, e.g. "server bytes at offset 120 are not a
  // reply (...); skipped to the next line".
  std::vector<std::string> notes;
};

// Splits `t` (see the file comment). Never fails: what cannot be read is
// noted and skipped. A damaged record (damage.h) is split up to its damage.
Exchanges SplitExchanges(const harness::Transcript& t);

// The same, reading the record as it is, across any damage (bytes on both
// sides of a capture gap are joined). For CutAtDamage.
Exchanges SplitExchangesAsRecorded(const harness::Transcript& t);

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_EXCHANGES_H_
