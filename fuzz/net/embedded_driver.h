// Runs one fuzzed session (ClientMachine) against the embedded server in
// process: no sockets, no threads, no clock. A read for which the server has
// produced no reply, with every byte sent consumed, is a reply the server
// will never send: the machine is told "timeout" (a hang, when the count of
// owed replies is known).
#ifndef SMTP_FUZZ_NET_EMBEDDED_DRIVER_H_
#define SMTP_FUZZ_NET_EMBEDDED_DRIVER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/client_machine.h"
#include "fuzz/net/embedded_server.h"
#include "results/session_input.h"

namespace smtp::fuzz {

// The bytes of a session in order, for a finding's transcript.
struct WireChunk {
  bool from_client = true;
  std::string bytes;
};

struct SessionResult {
  Verdict verdict;
  // The session ended in a close the server announced (the verdict is ok).
  std::optional<Defence> defence;
  std::vector<ReplyEvent> replies;
  int depth = 0;  // ClientMachine::depth()
  bool known = true;
  std::size_t bytes_sent = 0;
  std::size_t bytes_received = 0;
  // Filled only when asked (RunEmbedded's `wire`), capped at kMaxWireBytes.
  std::vector<WireChunk> wire;
  bool wire_truncated = false;
  std::string end_state;  // the server's state when the session ended
  // Over a connection: the connection could not be made (no session ran;
  // the verdict says why, and is not a finding).
  bool connect_failed = false;
  // A spawned server's connection was reset while we drained its last
  // replies (net_target.cc): it may be dying.
  bool drain_reset = false;
  // Over a connection: it was reset. Where the reply count was unknown the
  // session ends unjudged, so a spawned server's process decides: it may be
  // dying (an abort takes a moment), so it is waited for before the judging.
  bool peer_reset = false;
  // Over a connection: a reply wait ended at the whole session's deadline,
  // not at the reply's own. The server was still answering, slowly: a hang
  // verdict then says the session was long, not that the server stopped.
  bool session_deadline = false;
};

inline constexpr std::size_t kMaxWireBytes = std::size_t{4} << 20;

// Appends `bytes` to `wire`, joining them to the last chunk when it is from
// the same side.
void AppendWire(std::vector<WireChunk>& wire, bool from_client, std::string_view bytes);

SessionResult RunEmbedded(smtp_netfuzz_embedded::Server& server, const SessionInput& input,
                          bool wire = false);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_EMBEDDED_DRIVER_H_
