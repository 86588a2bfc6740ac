#include "harness/record/pcap_import.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/record/follower.h"
#include "harness/record/pcapng_reader.h"
#include "results/absl_compat.h"
#include "results/session_file.h"

namespace smtp::harness::pcap {

// One TCP connection: its two reassembled streams and its transcript.
struct PcapImporter::Conn {
  // Routes one direction's reassembled bytes into the connection.
  struct Side final : StreamOutput {
    Conn* conn = nullptr;
    Direction dir = Direction::kClientToServer;
    void OnData(std::string_view data) override { conn->Data(dir, data); }
    void OnGap(std::uint64_t lost, std::string_view why) override { conn->Gap(dir, lost, why); }
    void OnConflict(std::uint64_t offset, std::uint64_t bytes) override {
      conn->Conflict(dir, offset, bytes);
    }
  };

  Conn(std::size_t index, const Endpoint& client, const Endpoint& server, std::int64_t ts,
       bool handshake, const PcapImportOptions& options, PcapImportStats* stats)
      : index(index),
        client(client),
        server(server),
        first_ts(ts),
        now_ts(ts),
        t(options.transcript),
        c2s(options.reassembly),
        s2c(options.reassembly),
        follower(FollowerFor(handshake)),
        stats(stats) {
    this->handshake = handshake;
    c2s_out.conn = s2c_out.conn = this;
    s2c_out.dir = Direction::kServerToClient;
    TranscriptMeta& m = t.meta();
    m.source = "pcap";
    m.client = EndpointText(client);
    m.server = EndpointText(server);
    m.started_at = Iso8601Micros(ts);
  }

  static record::FollowerOptions FollowerFor(bool handshake) {
    record::FollowerOptions o;
    o.midstream = !handshake;
    o.detect_implicit_tls = true;  // nothing is stored after the switch
    return o;
  }

  std::int64_t T() const { return now_ts - first_ts; }

  void Data(Direction dir, std::string_view data) {
    if (opaque) {
      opaque_bytes[dir == Direction::kServerToClient] += data.size();
      return;
    }
    // The clear prefix: all of `data` (npos) until the switch to TLS.
    const std::size_t plain =
        std::min(data.size(), dir == Direction::kClientToServer ? follower.FeedClient(data)
                                                                : follower.FeedServer(data));
    if (plain > 0) t.AddDataAt(T(), dir, data.substr(0, plain));
    if (dir == Direction::kServerToClient && server_head.size() < kHeadBytes) {
      server_head.append(data.substr(0, std::min(plain, kHeadBytes - server_head.size())));
    }
    if (follower.in_tls()) {
      opaque = true;
      t.AddEventAt(T(), EntryKind::kTlsOpaque, follower.why());
      opaque_bytes[dir == Direction::kServerToClient] += data.size() - plain;
    }
  }

  void Gap(Direction dir, std::uint64_t lost, std::string_view why) {
    stats->lost_bytes += lost;
    if (opaque) return;
    follower.Gap();
    t.AddEventAt(T(), EntryKind::kError,
                 absl::StrCat("capture gap: ", lost, " bytes from the ",
                              dir == Direction::kClientToServer ? "client" : "server", " lost (",
                              AV(why), ")"));
  }

  // A retransmission whose bytes differ from the first copy: noted where it
  // was seen (the first copy is what the transcript holds).
  void Conflict(Direction dir, std::uint64_t offset, std::uint64_t bytes) {
    ++stats->conflicting_retransmissions;
    t.AddEventAt(
        T(), EntryKind::kNote,
        absl::StrCat("retransmission with different bytes: ", bytes, " bytes at offset ", offset,
                     " of the ", dir == Direction::kClientToServer ? "client" : "server",
                     "'s stream differ from the first copy (the first copy is kept)"));
  }

  // Records a side's close once: "fin" when its FIN was reached in order.
  void Closed(bool from_client, std::string_view how) {
    bool& done = from_client ? client_closed : server_closed;
    if (done) return;
    done = true;
    t.AddEventAt(T(), from_client ? EntryKind::kLocalClosed : EntryKind::kPeerClosed, how);
  }

  // The server's first clear bytes (LooksLikeSmtp).
  static constexpr std::size_t kHeadBytes = 4;

  std::size_t index;
  Endpoint client, server;
  std::int64_t first_ts, now_ts;
  bool handshake = false;   // the SYN was captured
  std::string server_head;  // up to kHeadBytes
  Transcript t;
  TcpReassembler c2s, s2c;
  Side c2s_out, s2c_out;
  record::SessionFollower follower;
  PcapImportStats* stats;
  bool open = true;
  bool opaque = false;
  bool client_closed = false, server_closed = false;
  std::uint64_t opaque_bytes[2] = {0, 0};  // c2s, s2c
};

std::size_t PcapImporter::KeyHash::operator()(const Key& k) const {
  std::size_t h = 1469598103934665603ULL;
  auto mix = [&h](const Endpoint& e) {
    for (std::uint8_t b : e.addr) h = (h ^ b) * 1099511628211ULL;
    h = (h ^ e.port) * 1099511628211ULL;
  };
  mix(k.a);
  mix(k.b);
  return h;
}

PcapImporter::PcapImporter(PcapImportOptions options, SessionSink sink)
    : options_(std::move(options)), sink_(std::move(sink)), server_port_(65536, false) {
  for (std::uint16_t p : options_.ports) server_port_[p] = true;
}

PcapImporter::~PcapImporter() = default;

bool PcapImporter::IsServerPort(std::uint16_t port) const { return server_port_[port]; }

absl::Status PcapImporter::AddFrame(int link, std::int64_t ts_us, std::string_view frame,
                                    std::size_t wire_length) {
  const DecodeResult d = DecodeFrame(link, frame, wire_length);
  switch (d.status) {
    case DecodeStatus::kNotTcp:
      return absl::OkStatus();
    case DecodeStatus::kMalformed:
      return absl::DataLossError(
          absl::StrCat(AV(d.reason), " (at byte ", d.offset, " of the frame)"));
    case DecodeStatus::kTcp:
      break;
  }
  return AddSegment(ts_us, d.segment);
}

std::optional<PcapImporter::Pending> PcapImporter::Classify(std::int64_t ts_us,
                                                            const TcpSegment& s) {
  const bool syn = (s.flags & kTcpSyn) != 0, ack = (s.flags & kTcpAck) != 0;
  const Endpoint *client = nullptr, *server = nullptr;
  if (syn && !ack) {
    if (IsServerPort(s.dst.port)) client = &s.src, server = &s.dst;
  } else if (syn) {
    if (IsServerPort(s.src.port)) client = &s.dst, server = &s.src;
  } else if (IsServerPort(s.dst.port)) {
    client = &s.src, server = &s.dst;
  } else if (IsServerPort(s.src.port)) {
    client = &s.dst, server = &s.src;
  }
  if (client == nullptr) return std::nullopt;
  Pending p;
  p.index = next_index_++;
  p.client = *client;
  p.server = *server;
  p.first_ts = p.now_ts = ts_us;
  p.handshake = syn;
  return p;
}

PcapImporter::Conn* PcapImporter::Open(const Pending& p, const Key& key) {
  auto conn = std::make_unique<Conn>(p.index, p.client, p.server, p.first_ts, p.handshake, options_,
                                     &stats_);
  if (p.handshake) {
    conn->t.AddEventAt(0, EntryKind::kConnect, conn->t.meta().server);
  } else {
    ++stats_.midstream;
    conn->t.AddEventAt(0, EntryKind::kNote,
                       "capture started mid-stream: no SYN seen; each direction starts at the "
                       "first byte captured");
  }
  if (p.client_isn) conn->c2s.Syn(*p.client_isn);
  if (p.server_isn) conn->s2c.Syn(*p.server_isn);
  conn->now_ts = p.now_ts;
  Conn* c = conn.get();
  open_[c->index] = key;
  conns_[key] = std::move(conn);
  return c;
}

void PcapImporter::ForgetPending(std::unordered_map<Key, Pending, KeyHash>::iterator it) {
  ++stats_.empty_connections;
  pending_order_.erase(it->second.index);
  pending_.erase(it);
}

absl::Status PcapImporter::AddSegment(std::int64_t ts_us, const TcpSegment& s) {
  const Key key = s.src < s.dst ? Key{s.src, s.dst} : Key{s.dst, s.src};
  const bool syn = (s.flags & kTcpSyn) != 0, ack = (s.flags & kTcpAck) != 0,
             rst = (s.flags & kTcpRst) != 0, fin = (s.flags & kTcpFin) != 0;
  Conn* c = nullptr;
  if (auto it = conns_.find(key); it != conns_.end()) {
    c = it->second.get();
    if (!c->open) {
      if (!syn || ack) return absl::OkStatus();  // a late packet of a closed connection
      conns_.erase(it);                          // the tuple is reused
      c = nullptr;
    }
  }
  if (c == nullptr) {
    // Until it carries a byte, a connection is a small Pending record: bare
    // SYNs (a scan, a flood) cost little, never push out a connection that
    // carries data, and leave no file.
    auto pit = pending_.find(key);
    if (pit != pending_.end() && pit->second.closed && syn && !ack) {
      ForgetPending(pit);  // the tuple is reused
      pit = pending_.end();
    }
    if (pit == pending_.end()) {
      if (rst) return absl::OkStatus();
      std::optional<Pending> fresh = Classify(ts_us, s);
      if (!fresh) return absl::OkStatus();  // not on an SMTP port
      if (pending_.size() >= options_.max_pending_connections) {
        ForgetPending(pending_.find(pending_order_.begin()->second));
      }
      pending_order_[fresh->index] = key;
      pit = pending_.emplace(key, *fresh).first;
    }
    Pending& p = pit->second;
    ++stats_.tcp_segments;
    if (p.closed) return absl::OkStatus();  // a late packet of a connection without a byte
    p.now_ts = std::max(p.now_ts, ts_us);
    const bool from_client = s.src == p.client;
    if (syn) (from_client ? p.client_isn : p.server_isn) = s.seq;
    if (s.wire_payload == 0) {
      // Closed without a byte (both FINs, or a reset): kept, small, so that
      // its last ACKs start nothing; it leaves no file.
      (from_client ? p.client_fin : p.server_fin) |= fin;
      p.closed = rst || (p.client_fin && p.server_fin);
      return absl::OkStatus();
    }
    if (open_.size() >= options_.max_open_connections) {
      const std::string why = absl::StrCat("cut off: more than ", options_.max_open_connections,
                                           " connections open at once in the capture");
      if (auto st = Close(open_.begin()->second, why); !st.ok()) return st;
    }
    const Pending opened = p;
    pending_order_.erase(p.index);
    pending_.erase(pit);
    c = Open(opened, key);
  } else {
    ++stats_.tcp_segments;
  }
  c->now_ts = std::max(c->now_ts, ts_us);
  const bool from_client = s.src == c->client;
  TcpReassembler& r = from_client ? c->c2s : c->s2c;
  Conn::Side& out = from_client ? c->c2s_out : c->s2c_out;
  if (rst) {
    c->Closed(from_client, "reset");
    return Close(key);
  }
  if (syn) r.Syn(s.seq);
  if (!syn || !s.payload.empty() || fin) {
    r.Segment(syn ? s.seq + 1 : s.seq, s.payload, s.wire_payload, fin, out);
  }
  if (r.closed()) c->Closed(from_client, "fin");
  if (c->c2s.closed() && c->s2c.closed()) return Close(key);
  return absl::OkStatus();
}

absl::Status PcapImporter::Close(Key key, std::string_view why_if_open) {
  Conn& c = *conns_.at(key);
  c.c2s.Finish(c.c2s_out);
  c.s2c.Finish(c.s2c_out);
  if (c.c2s.closed()) c.Closed(true, "fin");  // a FIN reached only across a hole
  if (c.s2c.closed()) c.Closed(false, "fin");
  if (!why_if_open.empty() && (!c.client_closed || !c.server_closed)) {
    c.t.AddEventAt(c.T(), EntryKind::kNote, why_if_open);
  }
  if (c.opaque) {
    c.t.AddEventAt(
        c.T(), EntryKind::kNote,
        absl::StrCat("after the switch to TLS: ", c.opaque_bytes[0], " bytes from the client and ",
                     c.opaque_bytes[1], " from the server, not stored"));
  }
  c.t.meta().ended_at = Iso8601Micros(c.now_ts);
  // AUTH secrets (RFC 4954), as in `record`: redacted, or the session is not
  // handed on when one could not be captured to redact.
  const bool unsaved = !options_.keep_secrets && c.follower.secret_lost();
  const bool not_smtp = !LooksLikeSmtp(c);
  if (!options_.keep_secrets && !c.follower.secrets().empty()) {
    c.t.RedactStreams(c.follower.secrets());
    ++stats_.redacted;
  }
  c.open = false;
  open_.erase(c.index);
  closed_.push_back(key);
  while (closed_.size() > options_.max_closed_remembered) {
    if (auto it = conns_.find(closed_.front()); it != conns_.end() && !it->second->open) {
      conns_.erase(it);
    }
    closed_.pop_front();
  }
  Transcript t = std::move(c.t);
  c.t = Transcript();
  c.c2s = TcpReassembler();
  c.s2c = TcpReassembler();
  c.follower = record::SessionFollower();
  if (unsaved) {
    ++stats_.unsaved_secret;
    return absl::OkStatus();
  }
  if (not_smtp) {
    ++stats_.not_smtp;
    return absl::OkStatus();
  }
  ++stats_.sessions;
  return sink_(c.index, std::move(t));
}

// A connection whose start was captured and whose server spoke in the
// clear first says what it is: an SMTP server opens with a reply (RFC 5321
// §4.2: three digits, then SP, "-" or the line end). Anything else (HTTP on
// port 2525, say) is not a session. Mid-stream captures, TLS and silent
// servers are given the benefit of the doubt.
bool PcapImporter::LooksLikeSmtp(const Conn& c) {
  if (!c.handshake || c.server_head.empty()) return true;
  const std::string_view h = c.server_head;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i >= h.size()) return true;  // too short to tell
    if (h[i] < '0' || h[i] > '9') return false;
  }
  return h.size() == 3 || h[3] == ' ' || h[3] == '-' || h[3] == '\r' || h[3] == '\n';
}

absl::Status PcapImporter::Finish() {
  stats_.empty_connections += pending_.size();
  pending_.clear();
  pending_order_.clear();
  absl::Status first;
  while (!open_.empty()) {
    const Key key = open_.begin()->second;
    if (auto st = Close(key, "the capture ended before the connection closed");
        !st.ok() && first.ok()) {
      first = st;
    }
  }
  return first;
}

namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

std::string PortList(const std::vector<std::uint16_t>& ports) { return absl::StrJoin(ports, ","); }

}  // namespace

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string UnsupportedLink(int link) {
  const char* name = pcap_datalink_val_to_name(link);
  return absl::StrCat("link type ", name != nullptr ? name : "unknown", " (", link,
                      ") is not supported: import-pcap reads Ethernet, Linux cooked (SLL, SLL2), "
                      "BSD loopback and raw IP captures");
}

// A hint for a file that is a compressed capture: libpcap reads neither.
std::string CompressionHint(std::string_view head) {
  struct Magic {
    std::string_view bytes, name, tool;
  };
  static constexpr Magic kMagics[] = {
      {"\x1f\x8b", "gzip", "gunzip -k"},
      {"\x28\xb5\x2f\xfd", "zstd", "zstd -d"},
      {"\xfd\x37\x7a\x58\x5a\x00", "xz", "xz -dk"},
      {"BZh", "bzip2", "bunzip2 -k"},
  };
  for (const Magic& m : kMagics) {
    if (head.substr(0, m.bytes.size()) == m.bytes) {
      return absl::StrCat(" (the file is ", AV(m.name), "-compressed: decompress it first, e.g. ",
                          AV(m.tool), " FILE)");
    }
  }
  return {};
}

}  // namespace

absl::Status ImportPcapFile(const std::string& path, const PcapImportOptions& options,
                            const SessionSink& sink, PcapImportStats* stats) {
  std::unique_ptr<std::FILE, FileCloser> owned(std::fopen(path.c_str(), "rb"));
  char head[8] = {};
  const std::size_t head_size = owned ? std::fread(head, 1, sizeof head, owned.get()) : 0;
  const std::string_view head_view(head, head_size);
  const bool pcapng = PcapngReader::IsPcapng(head_view);
  char err[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> p;
  int link = -1;
  if (owned && pcapng) {
    std::rewind(owned.get());
  } else {
    // Classic pcap (or not a capture at all): libpcap, which says why not.
    owned.reset();
    p.reset(
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err));
    if (p == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": cannot read as a pcap or pcapng capture: ", err, CompressionHint(head_view)));
    }
    link = pcap_datalink(p.get());
    if (!SupportedLinkType(link)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", UnsupportedLink(link)));
    }
  }
  PcapImporter importer(options, sink);
  std::FILE* file = p ? pcap_file(p.get()) : owned.get();
  // pcapng: one reader per file, each packet with its interface's link type.
  PcapngReader ng(owned.get());
  std::uint64_t unsupported = 0;  // pcapng packets of interfaces we cannot decode
  absl::Status error;
  for (;;) {
    const long offset = file != nullptr ? std::ftell(file) : -1;
    const std::uint64_t number = importer.stats().packets + 1;
    auto where = [&](long at) {
      std::string s = absl::StrCat(path, ": packet ", number);
      if (at >= 0) absl::StrAppend(&s, " (byte offset ", at, ")");
      return s;
    };
    int frame_link = link;
    std::int64_t ts = 0;
    std::string_view frame;
    std::size_t wire_length = 0;
    if (p) {
      pcap_pkthdr* h = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(p.get(), &h, &data);
      if (rc == PCAP_ERROR_BREAK) break;  // the end of the file
      if (rc != 1) {
        error = absl::DataLossError(absl::StrCat(where(offset), ": ", pcap_geterr(p.get())));
        break;
      }
      ts = std::int64_t{h->ts.tv_sec} * 1'000'000 + static_cast<std::int64_t>(h->ts.tv_usec);
      frame = std::string_view(reinterpret_cast<const char*>(data), h->caplen);
      wire_length = h->len;
    } else {
      PcapngPacket packet;
      absl::StatusOr<bool> more = ng.Next(&packet);
      if (!more.ok()) {
        error = absl::DataLossError(
            absl::StrCat(where(ng.block_offset()), ": ", Message(more.status())));
        break;
      }
      if (!*more) break;
      if (!SupportedLinkType(packet.link)) {
        ++importer.stats().packets;
        ++unsupported;
        continue;
      }
      frame_link = packet.link;
      ts = packet.ts_us;
      frame = packet.data;
      wire_length = packet.wire_length;
    }
    ++importer.stats().packets;
    if (auto st = importer.AddFrame(frame_link, ts, frame, wire_length); !st.ok()) {
      error = st.code() == absl::StatusCode::kDataLoss
                  ? absl::DataLossError(
                        absl::StrCat(where(p ? offset : ng.block_offset()), ": ", Message(st)))
                  : st;
      break;
    }
  }
  if (!p && error.ok() && unsupported > 0 && unsupported == importer.stats().packets) {
    std::string links;
    for (int l : ng.links_seen()) absl::StrAppend(&links, links.empty() ? "" : ", ", l);
    return absl::InvalidArgumentError(absl::StrCat(path, ": ",
                                                   UnsupportedLink(ng.links_seen().front()),
                                                   " (the interfaces' link types: ", links, ")"));
  }
  if (file != nullptr) importer.stats().file_bytes = static_cast<std::uint64_t>(std::ftell(file));
  absl::Status finished = importer.Finish();
  if (stats != nullptr) *stats = importer.stats();
  if (!error.ok()) return error;
  if (!finished.ok()) return finished;
  const PcapImportStats& st = importer.stats();
  if (st.sessions == 0 && st.unsaved_secret == 0) {
    std::string seen;
    if (st.empty_connections > 0 || st.not_smtp > 0) {
      seen = absl::StrCat(" (", st.empty_connections, " connection(s) there carried no byte and ",
                          st.not_smtp, " carried something else than SMTP)");
    }
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no SMTP session on TCP port ", PortList(options.ports), seen, " in ", st.packets,
        " packets: not an SMTP capture, or the server listens elsewhere (--port)"));
  }
  return absl::OkStatus();
}

}  // namespace smtp::harness::pcap
