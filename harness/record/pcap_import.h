// pcap import: the SMTP connections of a packet capture (pcap or pcapng, as
// libpcap reads them) as Transcripts, one per TCP connection, for
// `smtp-harness import-pcap`.
//
// A connection belongs to SMTP when its server side uses one of
// Options::ports (the client is the side that sent the SYN, or when the
// capture missed it, the side talking to such a port). Each direction is
// reassembled (harness/record/tcp_reassembly.h: retransmissions, overlaps
// "first data wins", out-of-order segments buffered within bounds, lost
// bytes reported). The transcript holds, with t_us from the connection's
// first packet:
//   - "connect" (text: the server's address) at the SYN, or a note that the
//     capture started mid-stream when no SYN was seen;
//   - the c2s / s2c bytes in capture order, one entry per delivery;
//   - "error" entries for bytes that were never captured ("capture gap: ...");
//   - a "note" where a retransmission's bytes differ from the first copy's
//     ("retransmission with different bytes: ..."; the first copy is kept);
//   - "tls_opaque" where the session turned to TLS (STARTTLS accepted, or
//     implicit TLS; harness/record/follower.h follows each session); data
//     after it is counted in a note, not stored;
//   - "local_close" / "peer_close" (text "fin" or "reset") when the client /
//     the server closed; a note when the capture ended first.
// meta: source "pcap", client, server, started_at and ended_at from the
// packet timestamps. AUTH secrets (RFC 4954 initial responses and answers
// to 334) are redacted (Transcript::RedactStreams) unless keep_secrets; a
// session with one too long to capture is not handed to the sink then
// (counted in stats().unsaved_secret). A capture that starts inside an AUTH
// exchange can hold an answer the follower cannot tell from a command.
//
// A connection that carried no byte (a handshake alone, a bare SYN) is not
// a session: it is not handed to the sink (stats().empty_connections), but
// its index is taken all the same. Neither is one whose server, its start
// captured, opened with something else than an SMTP reply (HTTP on port
// 2525: stats().not_smtp).
//
// Memory is bounded by the connections that carry data: until its first
// byte a connection is a small pending record (at most
// max_pending_connections, the oldest forgotten), and only connections that
// carry data count against max_open_connections (the oldest is cut off
// beyond it, with a note), so a flood of SYNs neither costs much nor pushes
// out a real session. Then the reassembly buffers (per direction) and each
// transcript's own caps. A connection is handed to the sink as soon as it
// closes, so a long capture does not pile up transcripts.
#ifndef SMTP_HARNESS_RECORD_PCAP_IMPORT_H_
#define SMTP_HARNESS_RECORD_PCAP_IMPORT_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "harness/record/packet_decode.h"
#include "harness/record/tcp_reassembly.h"
#include "results/transcript.h"

namespace smtp::harness::pcap {

inline constexpr std::uint16_t kDefaultSmtpPorts[] = {25, 465, 587, 2525};

struct PcapImportOptions {
  std::vector<std::uint16_t> ports{std::begin(kDefaultSmtpPorts), std::end(kDefaultSmtpPorts)};
  ReassemblyOptions reassembly;
  TranscriptOptions transcript;
  std::size_t max_open_connections = 16384;  // carrying data
  // Connections that have carried no byte yet (a handshake, a bare SYN):
  // a small record each; beyond this many the oldest is forgotten.
  std::size_t max_pending_connections = 65536;
  // Closed connections remembered so that their late packets (the last
  // ACK, a retransmitted FIN) do not start a new mid-stream connection.
  std::size_t max_closed_remembered = 65536;
  bool keep_secrets = false;  // store AUTH secrets as captured
};

struct PcapImportStats {
  std::uint64_t packets = 0;            // frames read
  std::uint64_t file_bytes = 0;         // captured bytes plus record headers (pcap)
  std::uint64_t tcp_segments = 0;       // segments of SMTP connections
  std::uint64_t sessions = 0;           // transcripts handed to the sink
  std::uint64_t lost_bytes = 0;         // stream bytes never captured (gaps)
  std::uint64_t midstream = 0;          // sessions whose start was not captured
  std::uint64_t redacted = 0;           // sessions with AUTH secrets redacted
  std::uint64_t unsaved_secret = 0;     // sessions not handed on: a secret too long to redact
  std::uint64_t empty_connections = 0;  // connections on SMTP ports that carried no byte
  std::uint64_t not_smtp = 0;  // connections whose server opened with something else than a reply
  std::uint64_t conflicting_retransmissions = 0;  // copies whose bytes differed from the first
};

// Receives each finished connection: `index` counts connections in the order
// of their first packet (0, 1, ...); calls come in the order they close. A
// non-OK status stops the import with that status.
using SessionSink = std::function<absl::Status(std::size_t index, Transcript transcript)>;

// Connection tracking and reassembly over decoded frames. No libpcap: tests
// and benchmarks feed it directly.
class PcapImporter {
 public:
  PcapImporter(PcapImportOptions options, SessionSink sink);
  ~PcapImporter();

  // One captured frame of link type `link` at `ts_us` (microseconds since
  // the Unix epoch); `wire_length` is its length on the wire. A malformed
  // frame is InvalidArgument naming what is wrong and where in the frame;
  // a sink error is returned as is.
  absl::Status AddFrame(int link, std::int64_t ts_us, std::string_view frame,
                        std::size_t wire_length);
  // One decoded TCP segment (AddFrame's second half).
  absl::Status AddSegment(std::int64_t ts_us, const TcpSegment& segment);
  // The end of the capture: every open connection, in index order, is
  // finished (holes reported) and handed to the sink.
  absl::Status Finish();

  const PcapImportStats& stats() const { return stats_; }
  PcapImportStats& stats() { return stats_; }

 private:
  struct Conn;
  struct Key {
    Endpoint a, b;  // a < b
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };

  // A connection that has not carried a byte yet.
  struct Pending {
    std::size_t index = 0;
    Endpoint client, server;
    std::int64_t first_ts = 0, now_ts = 0;
    bool handshake = false;  // its first packet was a SYN
    std::optional<std::uint32_t> client_isn, server_isn;
    bool client_fin = false, server_fin = false;
    bool closed = false;  // both FINs or a reset: late packets start nothing
  };

  bool IsServerPort(std::uint16_t port) const;
  // The roles in a new connection from its first segment; nullopt when
  // neither end is on an SMTP port. Takes the next index.
  std::optional<Pending> Classify(std::int64_t ts_us, const TcpSegment& s);
  // A pending connection's first byte: the full connection.
  Conn* Open(const Pending& p, const Key& key);
  void ForgetPending(std::unordered_map<Key, Pending, KeyHash>::iterator it);
  static bool LooksLikeSmtp(const Conn& c);
  // Finishes the connection and hands it to the sink; `why_if_open` is
  // noted when it had not closed on both sides.
  absl::Status Close(Key key,
                     std::string_view why_if_open = {});  // by value: callers pass map keys

  PcapImportOptions options_;
  SessionSink sink_;
  PcapImportStats stats_;
  std::size_t next_index_ = 0;
  std::unordered_map<Key, std::unique_ptr<Conn>, KeyHash> conns_;  // open or remembered
  std::unordered_map<Key, Pending, KeyHash> pending_;              // no byte yet
  std::map<std::size_t, Key> pending_order_;                       // pending, by index
  std::map<std::size_t, Key> open_;                                // open, by index
  std::deque<Key> closed_;                                         // oldest first
  std::vector<bool> server_port_;                                  // by port number
};

// Reads the capture at `path` with libpcap and imports it (see above).
// Errors name the file and, for a bad packet, its number (1-based, as
// Wireshark counts) and byte offset in the file. On an error the
// connections seen so far are still finished and handed to the sink: what
// could be recovered is kept. A capture with no SMTP connection at all is
// an error too (it names the ports looked for).
absl::Status ImportPcapFile(const std::string& path, const PcapImportOptions& options,
                            const SessionSink& sink, PcapImportStats* stats = nullptr);

}  // namespace smtp::harness::pcap

#endif  // SMTP_HARNESS_RECORD_PCAP_IMPORT_H_
