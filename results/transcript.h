// Transcript: the one record of an SMTP conversation. An ordered list of
// timestamped entries, each either the exact bytes one side sent or an event
// (connect, TLS established, close, timeout, error, note). Scenario results,
// fuzz findings, recordings, pcap imports and replays all produce and consume
// this type.
//
// Bounded: at most `Options::max_stored_bytes` data bytes and
// `Options::max_data_entries` data entries are stored. Beyond either cap the
// bytes are still counted (per direction) but not stored, and a single
// `kTruncated` marker entry records where storage stopped. Events are capped
// separately by `Options::max_events`.
//
// JSON form (appears in results.json; version 1):
//   {
//     "version": 1,
//     "truncated": false,            // a cap was hit; see "omitted_*"
//     "bytes": {"c2s": 12, "s2c": 20},  // totals seen, stored or not
//     "omitted_bytes": 0,            // data bytes counted but not stored
//     "omitted_events": 0,           // events dropped past max_events
//     "meta": {"source": "recorded", // optional; see TranscriptMeta
//              "client": "127.0.0.1:40000", "server": "127.0.0.1:25",
//              "started_at": "2026-12-03T22:40:00.123456Z"},
//     "entries": [
//       {"t_us": 0,   "kind": "connect", "text": "127.0.0.1:25"},
//       {"t_us": 812, "kind": "s2c", "data": "220 mx ESMTP\r\n"},
//       {"t_us": 901, "kind": "c2s", "data": "EHLO a\\xff\r\n", "size": 9},
//       {"t_us": 950, "kind": "tls", "protocol": "TLSv1.3",
//        "cipher": "TLS_AES_256_GCM_SHA384", "peer_subject": "CN=mx"},
//       ...
//     ]
//   }
// "kind" is one of: c2s, s2c, connect, tls, tls_opaque, peer_close,
// local_close, timeout, error, note, truncated. "t_us" is microseconds since the session started
// (steady clock). "size" is present on a data entry only when some of its
// bytes were not stored (size > decoded length of "data").
//
// Byte encoding ("data" and every text field): the JSON string holds ASCII
// only, except a note's "text" (our own text: EscapeText keeps its
// printable UTF-8 characters). Octets 0x20..0x7E other than '\' stand for themselves; '\' is "\\",
// CR is "\r", LF is "\n", HT is "\t", and every other octet is "\xHH" (two
// lowercase hex digits). So the JSON text of "EHLO a<0xFF>\r\n" is
// "EHLO a\\xff\\r\\n" — binary-safe and still readable. See EscapeBytes().
// Decoding is lenient for hand-written transcripts: an unescaped octet other
// than '\' stands for itself (so a JSON "\r" or "é" decodes to CR or to the
// UTF-8 octets C3 A9); the encoder always produces the canonical form.
#ifndef SMTP_RESULTS_TRANSCRIPT_H_
#define SMTP_RESULTS_TRANSCRIPT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"

namespace smtp::harness {

enum class EntryKind : std::uint8_t {
  kClientToServer,  // data: bytes we (the client) sent
  kServerToClient,  // data: bytes the server sent
  kConnect,         // text: peer address, e.g. "127.0.0.1:25" or "exec:cmd"
  kTlsEstablished,  // tls: protocol, cipher, peer certificate subject
  kPeerClosed,      // the peer closed (EOF); text: detail, e.g. "reset"
  kLocalClosed,     // we closed; text: detail
  kTimeout,         // a deadline fired; text: the operation, e.g. "read_reply"
  kError,           // text: error description
  kNote,            // text: free-form annotation (scenario step, oracle, ...)
  kTruncated,       // storage cap hit here; text: which cap
  // The connection switched to TLS here and what followed was not seen (a
  // recording proxy that does not intercept STARTTLS, a capture of an
  // encrypted session); text: detail. Nothing after it can be replayed.
  kTlsOpaque,
};

// Stable JSON name of a kind ("c2s", "tls", ...) and its inverse.
std::string_view EntryKindName(EntryKind kind);
bool ParseEntryKind(std::string_view name, EntryKind* kind);

// The data direction of a chunk. Same values as the matching EntryKind.
enum class Direction : std::uint8_t {
  kClientToServer = static_cast<std::uint8_t>(EntryKind::kClientToServer),
  kServerToClient = static_cast<std::uint8_t>(EntryKind::kServerToClient),
};

// Details of a completed TLS handshake.
struct TlsInfo {
  std::string protocol;      // e.g. "TLSv1.3"
  std::string cipher;        // e.g. "TLS_AES_256_GCM_SHA384"
  std::string peer_subject;  // RFC 2253 subject of the peer cert; "" if none

  friend bool operator==(const TlsInfo&, const TlsInfo&) = default;
};

struct Entry {
  std::int64_t t_us = 0;  // microseconds since session start, steady clock
  EntryKind kind = EntryKind::kNote;
  std::string data;      // data entries: the stored bytes (a prefix when truncated)
  std::size_t size = 0;  // data entries: bytes seen (>= data.size())
  std::string text;      // events: address, error text, note, ...
  TlsInfo tls;           // kTlsEstablished only

  bool is_data() const {
    return kind == EntryKind::kClientToServer || kind == EntryKind::kServerToClient;
  }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Where a transcript came from and between whom. Every field is optional
// ("" = unknown). Sources: "run" (a conformance scenario), "recorded" (the
// recording proxy), "pcap" (import-pcap), "fuzz" (a network fuzzer finding),
// "replay" (a replayed session).
struct TranscriptMeta {
  std::string source;
  std::string client;      // the client's address, "127.0.0.1:40000" / "[::1]:40000"
  std::string server;      // the server's address, "127.0.0.1:25"
  std::string started_at;  // wall-clock time of t_us == 0, ISO 8601 UTC
  std::string ended_at;    // wall-clock time the session ended, ISO 8601 UTC

  bool empty() const {
    return source.empty() && client.empty() && server.empty() && started_at.empty() &&
           ended_at.empty();
  }
  friend bool operator==(const TranscriptMeta&, const TranscriptMeta&) = default;
};

// Storage caps of a Transcript (see the file comment).
struct TranscriptOptions {
  std::size_t max_stored_bytes = 4 * 1024 * 1024;  // data bytes stored
  std::size_t max_data_entries = 64 * 1024;        // data entries stored
  std::size_t max_events = 4096;                   // event entries stored
};

class Transcript {
 public:
  using Clock = std::chrono::steady_clock;

  using Options = TranscriptOptions;

  // The clock origin (t_us == 0) is the moment of construction; Restart()
  // moves it.
  Transcript();
  explicit Transcript(Options options);

  // Sets the clock origin to now. Does not touch stored entries.
  void Restart();
  // Microseconds from the origin to now.
  std::int64_t NowUs() const;

  // Appends data seen now / at `t_us`. Empty chunks are ignored. Consecutive
  // entries are never merged: chunk boundaries are part of the record.
  void AddData(Direction dir, std::string_view bytes);
  void AddDataAt(std::int64_t t_us, Direction dir, std::string_view bytes);
  // Appends an event seen now / at `t_us`. `kind` must not be a data kind.
  void AddEvent(EntryKind kind, std::string_view text = {});
  void AddEventAt(std::int64_t t_us, EntryKind kind, std::string_view text = {});
  void AddTls(const TlsInfo& tls);
  void AddNote(std::string_view text) { AddEvent(EntryKind::kNote, text); }

  const TranscriptMeta& meta() const { return meta_; }
  TranscriptMeta& meta() { return meta_; }

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  const Options& options() const { return options_; }
  bool truncated() const { return truncated_; }
  // Data bytes seen in one direction, stored or not.
  std::size_t total_bytes(Direction dir) const;
  std::size_t stored_bytes() const { return stored_bytes_; }
  std::size_t omitted_bytes() const { return omitted_bytes_; }
  std::size_t omitted_events() const { return omitted_events_; }

  // The data entries of one side, in order (for replay: the client side is
  // what to send, the server side what to expect).
  // (A vector, not a std::views::filter: clang 14, which builds the fuzz
  // targets, cannot compile libstdc++ 12's <ranges>.)
  std::vector<std::reference_wrapper<const Entry>> Side(Direction dir) const;
  auto ClientSide() const { return Side(Direction::kClientToServer); }
  auto ServerSide() const { return Side(Direction::kServerToClient); }
  // The stored bytes of one side concatenated.
  std::string SideBytes(Direction dir) const;

  // Hides `secrets` (results/redact.h) in what is stored, treating the
  // stored data of each direction as one stream: a secret the peer wrote in
  // several chunks is found across entry boundaries, so no concatenation of
  // stored data still holds it. Each hidden range becomes "***" in the entry
  // where it starts; its bytes in later entries are removed (an entry may end
  // up empty). A secret cut off where the stream's stored bytes end (the end
  // of the conversation or the storage cap) is hidden down to
  // kMinRedactedFragment bytes. Event texts (notes, errors, TLS fields) are
  // redacted one by one, with the escaped forms of the secrets too (see
  // RedactText). Kinds, timestamps, entry count, the wire byte totals and
  // each entry's count of bytes not stored (size - data.size()) are kept.
  void RedactStreams(const std::vector<std::string>& secrets);

  // JSON round trip (format above). FromJson rejects malformed input with
  // InvalidArgument naming the offending entry; it applies `options` caps to
  // the loaded entries only as far as counters go (stored entries are kept).
  nlohmann::json ToJson() const;
  std::string ToJsonString(int indent = -1) const;
  // The same JSON written to `out` as it is produced, one entry per line,
  // without building the document first (session files of a big capture:
  // nlohmann's dump was a third of import-pcap's time).
  // nlohmann::json::parse of the output equals ToJson().
  void WriteJson(std::ostream& out) const;
  static absl::StatusOr<Transcript> FromJson(const nlohmann::json& j, Options options = {});
  static absl::StatusOr<Transcript> FromJsonString(std::string_view text, Options options = {});

  // Readable multi-line dump for logs and test failures:
  //   "+0.000812 S: 220 mx ESMTP\r\n".
  std::string DebugString() const;

  // Equal entries and counters (the clock origin, options and meta are
  // ignored: two views of one conversation compare equal).
  friend bool operator==(const Transcript& a, const Transcript& b);

 private:
  void MarkTruncated(std::int64_t t_us, std::string_view why);

  Options options_;
  TranscriptMeta meta_;
  Clock::time_point origin_;
  std::vector<Entry> entries_;
  std::size_t stored_bytes_ = 0;
  std::size_t data_entries_ = 0;
  std::size_t events_ = 0;
  std::size_t total_c2s_ = 0;
  std::size_t total_s2c_ = 0;
  std::size_t omitted_bytes_ = 0;
  std::size_t omitted_events_ = 0;
  bool truncated_ = false;
};

// The byte encoding used in the JSON form (see the file comment). Escape is
// total and canonical; Unescape returns false on a malformed escape sequence
// and accepts unescaped octets as themselves.
std::string EscapeBytes(std::string_view bytes);
bool UnescapeBytes(std::string_view escaped, std::string* out);
// EscapeBytes for text of our own (note entries): the same, except that a
// well-formed UTF-8 character that shows as itself (not a C1 control, bidi
// control, zero-width mark or noncharacter) is kept as its octets, so
// "RFC 5321 \xc2\xa74.2" reads "RFC 5321 §4.2". UnescapeBytes inverts it.
std::string EscapeText(std::string_view text);

}  // namespace smtp::harness

#endif  // SMTP_RESULTS_TRANSCRIPT_H_
