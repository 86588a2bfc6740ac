#include "results/transcript.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ostream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "parser/ascii.h"
#include "parser/utf8.h"
#include "results/redact.h"

namespace smtp::harness {
namespace {

constexpr int kJsonVersion = 1;

struct KindName {
  EntryKind kind;
  std::string_view name;
};
constexpr KindName kKindNames[] = {
    {EntryKind::kClientToServer, "c2s"},
    {EntryKind::kServerToClient, "s2c"},
    {EntryKind::kConnect, "connect"},
    {EntryKind::kTlsEstablished, "tls"},
    {EntryKind::kPeerClosed, "peer_close"},
    {EntryKind::kLocalClosed, "local_close"},
    {EntryKind::kTimeout, "timeout"},
    {EntryKind::kError, "error"},
    {EntryKind::kNote, "note"},
    {EntryKind::kTruncated, "truncated"},
    {EntryKind::kTlsOpaque, "tls_opaque"},
};

// The fields of TranscriptMeta with their JSON keys, for both directions
// (M is TranscriptMeta or const TranscriptMeta).
template <typename M>
auto MetaFields(M& m) {
  return std::array<std::pair<const char*, decltype(&m.source)>, 5>{{{"source", &m.source},
                                                                     {"client", &m.client},
                                                                     {"server", &m.server},
                                                                     {"started_at", &m.started_at},
                                                                     {"ended_at", &m.ended_at}}};
}

absl::Status Invalid(std::size_t index, std::string_view why) {
  return absl::InvalidArgumentError("transcript entry " + std::to_string(index) + ": " +
                                    std::string(why));
}

// Reads an escaped string field; absent means empty.
bool GetEscaped(const nlohmann::json& e, const char* key, std::string* out) {
  out->clear();
  auto it = e.find(key);
  if (it == e.end()) return true;
  if (!it->is_string()) return false;
  return UnescapeBytes(it->get_ref<const std::string&>(), out);
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

bool ParseEntryKind(std::string_view name, EntryKind* kind) {
  for (const KindName& k : kKindNames) {
    if (k.name == name) {
      *kind = k.kind;
      return true;
    }
  }
  return false;
}

namespace {

// The code point of the well-formed `len`-octet UTF-8 sequence `s`.
char32_t DecodeUtf8(std::string_view s, std::size_t len) {
  const auto b = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[k]));
  };
  if (len == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (len == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

// Characters a reader sees as what they are: not C1 controls, not the
// invisible format characters that reorder or hide text (bidi controls,
// zero-width marks, line/paragraph separators, BOM), not noncharacters.
bool ShowsAsItself(char32_t cp) {
  if (cp <= 0x9F) return false;  // C1 controls (ASCII never gets here)
  if (cp == 0x061C || cp == 0xFEFF) return false;
  if (cp >= 0x200B && cp <= 0x200F) return false;
  if (cp >= 0x2028 && cp <= 0x202E) return false;
  if (cp >= 0x2060 && cp <= 0x206F) return false;
  if (cp >= 0xFDD0 && cp <= 0xFDEF) return false;
  if ((cp & 0xFFFE) == 0xFFFE) return false;       // U+xxFFFE, U+xxFFFF
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return false;  // interlinear annotation
  return true;
}

std::string Escape(std::string_view bytes, bool keep_utf8) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    // A run of octets that stand for themselves is copied in one append
    // (import-pcap writes hundreds of MB through here).
    std::size_t run = i;
    while (run < bytes.size() && bytes[run] >= 0x20 && bytes[run] <= 0x7e && bytes[run] != '\\') {
      ++run;
    }
    if (run > i) {
      out.append(bytes.data() + i, run - i);
      i = run - 1;
      continue;
    }
    const char ch = bytes[i];
    const auto c = static_cast<unsigned char>(ch);
    if (keep_utf8 && c >= 0x80) {
      const std::size_t len = Utf8SequenceLength(bytes, i);
      if (len > 0 && ShowsAsItself(DecodeUtf8(bytes.substr(i, len), len))) {
        out.append(bytes.substr(i, len));
        i += len - 1;
        continue;
      }
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out += ch;
        } else {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        }
    }
  }
  return out;
}

}  // namespace

std::string EscapeBytes(std::string_view bytes) { return Escape(bytes, /*keep_utf8=*/false); }

namespace {

// A note is our own text (scenario notes, verdict lines; wire bytes in it are
// already escaped by whoever quoted them): its UTF-8 stays readable. Other
// event texts (addresses, system errors) keep the byte encoding.
std::string EscapeEventText(const Entry& e) {
  return e.kind == EntryKind::kNote ? EscapeText(e.text) : EscapeBytes(e.text);
}

}  // namespace

std::string EscapeText(std::string_view text) { return Escape(text, /*keep_utf8=*/true); }

bool UnescapeBytes(std::string_view escaped, std::string* out) {
  out->clear();
  out->reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {  // lenient: any other octet stands for itself
      *out += escaped[i];
      continue;
    }
    if (++i == escaped.size()) return false;
    switch (escaped[i]) {
      case '\\':
        *out += '\\';
        break;
      case 'r':
        *out += '\r';
        break;
      case 'n':
        *out += '\n';
        break;
      case 't':
        *out += '\t';
        break;
      case 'x': {
        if (i + 2 >= escaped.size()) return false;
        const int hi = HexDigitValue(escaped[i + 1]);
        const int lo = HexDigitValue(escaped[i + 2]);
        if (hi < 0 || lo < 0) return false;
        *out += static_cast<char>(hi << 4 | lo);
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

Transcript::Transcript() : Transcript(Options{}) {}

Transcript::Transcript(Options options) : options_(options), origin_(Clock::now()) {}

void Transcript::Restart() { origin_ = Clock::now(); }

std::int64_t Transcript::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin_).count();
}

void Transcript::AddData(Direction dir, std::string_view bytes) { AddDataAt(NowUs(), dir, bytes); }

void Transcript::AddDataAt(std::int64_t t_us, Direction dir, std::string_view bytes) {
  if (bytes.empty()) return;
  (dir == Direction::kClientToServer ? total_c2s_ : total_s2c_) += bytes.size();
  if (truncated_) {
    omitted_bytes_ += bytes.size();
    return;
  }
  if (data_entries_ >= options_.max_data_entries) {
    omitted_bytes_ += bytes.size();
    MarkTruncated(t_us, "max_data_entries");
    return;
  }
  const std::size_t room =
      stored_bytes_ < options_.max_stored_bytes ? options_.max_stored_bytes - stored_bytes_ : 0;
  const std::size_t keep = std::min(room, bytes.size());
  if (keep > 0) {
    Entry e;
    e.t_us = t_us;
    e.kind = static_cast<EntryKind>(dir);
    e.data.assign(bytes.substr(0, keep));
    e.size = bytes.size();
    entries_.push_back(std::move(e));
    stored_bytes_ += keep;
    ++data_entries_;
  }
  if (keep < bytes.size()) {
    omitted_bytes_ += bytes.size() - keep;
    MarkTruncated(t_us, "max_stored_bytes");
  }
}

void Transcript::AddEvent(EntryKind kind, std::string_view text) {
  AddEventAt(NowUs(), kind, text);
}

void Transcript::AddEventAt(std::int64_t t_us, EntryKind kind, std::string_view text) {
  if (events_ >= options_.max_events) {
    ++omitted_events_;
    return;
  }
  Entry e;
  e.t_us = t_us;
  e.kind = kind;
  e.text.assign(text);
  entries_.push_back(std::move(e));
  ++events_;
}

void Transcript::AddTls(const TlsInfo& tls) {
  if (events_ >= options_.max_events) {
    ++omitted_events_;
    return;
  }
  Entry e;
  e.t_us = NowUs();
  e.kind = EntryKind::kTlsEstablished;
  e.tls = tls;
  entries_.push_back(std::move(e));
  ++events_;
}

void Transcript::MarkTruncated(std::int64_t t_us, std::string_view why) {
  truncated_ = true;
  Entry e;  // the marker is exempt from max_events: it must always be visible
  e.t_us = t_us;
  e.kind = EntryKind::kTruncated;
  e.text.assign(why);
  entries_.push_back(std::move(e));
}

std::size_t Transcript::total_bytes(Direction dir) const {
  return dir == Direction::kClientToServer ? total_c2s_ : total_s2c_;
}

std::vector<std::reference_wrapper<const Entry>> Transcript::Side(Direction dir) const {
  std::vector<std::reference_wrapper<const Entry>> out;
  const auto kind = static_cast<EntryKind>(dir);
  for (const Entry& e : entries_) {
    if (e.kind == kind) out.push_back(std::cref(e));
  }
  return out;
}

std::string Transcript::SideBytes(Direction dir) const {
  std::string out;
  for (const Entry& e : Side(dir)) out += e.data;
  return out;
}

void Transcript::RedactStreams(const std::vector<std::string>& secrets) {
  if (std::none_of(secrets.begin(), secrets.end(),
                   [](const std::string& s) { return !s.empty(); })) {
    return;
  }
  for (const Direction dir : {Direction::kClientToServer, Direction::kServerToClient}) {
    const std::string stream = SideBytes(dir);
    std::vector<ByteRange> ranges = FindSecrets(stream, secrets);
    const std::size_t cut = SecretFragmentAtEnd(stream, secrets);
    AddRange({stream.size() - cut, stream.size()}, &ranges);
    if (ranges.empty()) continue;
    // Rewrite each entry of this side: `offset` is where its data starts in
    // `stream`, `next` the first range that does not end before it.
    std::size_t offset = 0;
    std::size_t next = 0;
    for (Entry& e : entries_) {
      if (e.kind != static_cast<EntryKind>(dir)) continue;
      const std::size_t begin = offset;
      const std::size_t end = offset + e.data.size();
      offset = end;
      while (next < ranges.size() && ranges[next].end <= begin) ++next;
      if (next == ranges.size() || ranges[next].begin >= end) continue;
      std::string kept;
      std::size_t at = begin;
      for (std::size_t r = next; r < ranges.size() && ranges[r].begin < end; ++r) {
        const ByteRange& range = ranges[r];
        if (range.begin >= at) {  // starts in this entry
          kept.append(stream, at, range.begin - at);
          kept.append(kRedactionMarker);
        }
        at = std::min(std::max(at, range.end), end);
      }
      kept.append(stream, at, end - at);
      const std::size_t not_stored = e.size - e.data.size();
      stored_bytes_ = stored_bytes_ - e.data.size() + kept.size();
      e.data = std::move(kept);
      e.size = e.data.size() + not_stored;
    }
  }
  const std::vector<std::string> text_secrets = WithEscapedForms(secrets);
  for (Entry& e : entries_) {
    if (e.is_data()) continue;
    e.text = RedactText(e.text, text_secrets);
    e.tls.protocol = RedactText(e.tls.protocol, text_secrets);
    e.tls.cipher = RedactText(e.tls.cipher, text_secrets);
    e.tls.peer_subject = RedactText(e.tls.peer_subject, text_secrets);
  }
}

nlohmann::json Transcript::ToJson() const {
  nlohmann::json entries = nlohmann::json::array();
  for (const Entry& e : entries_) {
    nlohmann::json j = {{"t_us", e.t_us}, {"kind", EntryKindName(e.kind)}};
    if (e.is_data()) {
      j["data"] = EscapeBytes(e.data);
      if (e.size != e.data.size()) j["size"] = e.size;
    } else if (e.kind == EntryKind::kTlsEstablished) {
      j["protocol"] = EscapeBytes(e.tls.protocol);
      j["cipher"] = EscapeBytes(e.tls.cipher);
      j["peer_subject"] = EscapeBytes(e.tls.peer_subject);
    }
    if (!e.text.empty()) j["text"] = EscapeEventText(e);
    entries.push_back(std::move(j));
  }
  nlohmann::json j = {
      {"version", kJsonVersion},
      {"truncated", truncated_},
      {"bytes", {{"c2s", total_c2s_}, {"s2c", total_s2c_}}},
      {"omitted_bytes", omitted_bytes_},
      {"omitted_events", omitted_events_},
  };
  if (!meta_.empty()) {
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& [key, value] : MetaFields(meta_)) {
      if (!value->empty()) meta[key] = EscapeBytes(*value);
    }
    j["meta"] = std::move(meta);
  }
  j["entries"] = std::move(entries);
  return j;
}

std::string Transcript::ToJsonString(int indent) const { return ToJson().dump(indent); }

namespace {

// `s` as a JSON string literal. Our strings are escaped already (ASCII, or
// the printable UTF-8 of a note), so only '"', '\' and, defensively,
// control octets need JSON escapes.
void WriteJsonString(std::ostream& out, std::string_view s) {
  out.put('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    out.write(s.data() + run, static_cast<std::streamsize>(i - run));
    run = i + 1;
    if (c == '"' || c == '\\') {
      out.put('\\').put(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out << buf;
    }
  }
  out.write(s.data() + run, static_cast<std::streamsize>(s.size() - run));
  out.put('"');
}

}  // namespace

void Transcript::WriteJson(std::ostream& out) const {
  out << "{\n \"version\": " << kJsonVersion
      << ",\n \"truncated\": " << (truncated_ ? "true" : "false")
      << ",\n \"bytes\": {\"c2s\": " << total_c2s_ << ", \"s2c\": " << total_s2c_
      << "},\n \"omitted_bytes\": " << omitted_bytes_
      << ",\n \"omitted_events\": " << omitted_events_ << ",\n";
  if (!meta_.empty()) {
    out << " \"meta\": {";
    const char* sep = "";
    for (const auto& [key, value] : MetaFields(meta_)) {
      if (value->empty()) continue;
      out << sep << '"' << key << "\": ";
      WriteJsonString(out, EscapeBytes(*value));
      sep = ", ";
    }
    out << "},\n";
  }
  out << " \"entries\": [";
  const char* sep = "\n  ";
  for (const Entry& e : entries_) {
    out << sep << "{\"t_us\": " << e.t_us << ", \"kind\": \"" << EntryKindName(e.kind) << '"';
    sep = ",\n  ";
    if (e.is_data()) {
      out << ", \"data\": ";
      WriteJsonString(out, EscapeBytes(e.data));
      if (e.size != e.data.size()) out << ", \"size\": " << e.size;
    } else if (e.kind == EntryKind::kTlsEstablished) {
      out << ", \"protocol\": ";
      WriteJsonString(out, EscapeBytes(e.tls.protocol));
      out << ", \"cipher\": ";
      WriteJsonString(out, EscapeBytes(e.tls.cipher));
      out << ", \"peer_subject\": ";
      WriteJsonString(out, EscapeBytes(e.tls.peer_subject));
    }
    if (!e.text.empty()) {
      out << ", \"text\": ";
      WriteJsonString(out, EscapeEventText(e));
    }
    out << '}';
  }
  out << (entries_.empty() ? "]\n}\n" : "\n ]\n}\n");
}

absl::StatusOr<Transcript> Transcript::FromJson(const nlohmann::json& j, Options options) {
  if (!j.is_object()) return absl::InvalidArgumentError("transcript: not a JSON object");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version != kJsonVersion) {
    return absl::InvalidArgumentError("transcript: missing or unsupported \"version\"");
  }
  auto entries = j.find("entries");
  if (entries == j.end() || !entries->is_array()) {
    return absl::InvalidArgumentError("transcript: \"entries\" must be an array");
  }
  Transcript t(options);
  t.entries_.reserve(entries->size());  // bounded by the parsed document
  std::size_t index = 0;
  for (const nlohmann::json& je : *entries) {
    if (!je.is_object()) return Invalid(index, "not an object");
    auto t_us = je.find("t_us");
    auto kind_name = je.find("kind");
    if (t_us == je.end() || !t_us->is_number_integer()) return Invalid(index, "bad \"t_us\"");
    if (kind_name == je.end() || !kind_name->is_string()) return Invalid(index, "bad \"kind\"");
    Entry e;
    e.t_us = t_us->get<std::int64_t>();
    if (!ParseEntryKind(kind_name->get_ref<const std::string&>(), &e.kind)) {
      return Invalid(index, "unknown \"kind\"");
    }
    if (!GetEscaped(je, "text", &e.text)) return Invalid(index, "bad \"text\"");
    if (e.is_data()) {
      if (!je.contains("data") || !GetEscaped(je, "data", &e.data)) {
        return Invalid(index, "bad \"data\"");
      }
      e.size = e.data.size();
      if (auto size = je.find("size"); size != je.end()) {
        if (!size->is_number_unsigned() || size->get<std::size_t>() < e.data.size()) {
          return Invalid(index, "bad \"size\"");
        }
        e.size = size->get<std::size_t>();
      }
      t.stored_bytes_ += e.data.size();
      ++t.data_entries_;
    } else if (e.kind == EntryKind::kTlsEstablished) {
      if (!GetEscaped(je, "protocol", &e.tls.protocol) ||
          !GetEscaped(je, "cipher", &e.tls.cipher) ||
          !GetEscaped(je, "peer_subject", &e.tls.peer_subject)) {
        return Invalid(index, "bad TLS fields");
      }
    }
    if (e.kind != EntryKind::kTruncated && !e.is_data()) ++t.events_;
    t.entries_.push_back(std::move(e));
    ++index;
  }
  // Counters: take them from the document, falling back to what the entries
  // imply, so that a hand-written transcript needs only "version" and "entries".
  auto get_size = [&](const nlohmann::json& obj, const char* key, std::size_t* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return true;
    if (!it->is_number_unsigned()) return false;
    *out = it->get<std::size_t>();
    return true;
  };
  for (const Entry& e : t.entries_) {
    if (e.kind == EntryKind::kClientToServer) t.total_c2s_ += e.size;
    if (e.kind == EntryKind::kServerToClient) t.total_s2c_ += e.size;
  }
  bool ok = get_size(j, "omitted_bytes", &t.omitted_bytes_) &&
            get_size(j, "omitted_events", &t.omitted_events_);
  if (auto bytes = j.find("bytes"); ok && bytes != j.end()) {
    ok = bytes->is_object() && get_size(*bytes, "c2s", &t.total_c2s_) &&
         get_size(*bytes, "s2c", &t.total_s2c_);
  }
  if (!ok) return absl::InvalidArgumentError("transcript: bad byte counters");
  if (auto meta = j.find("meta"); meta != j.end()) {
    if (!meta->is_object())
      return absl::InvalidArgumentError("transcript: \"meta\" must be an object");
    for (const auto& [key, value] : MetaFields(t.meta_)) {
      if (!GetEscaped(*meta, key, value)) {
        return absl::InvalidArgumentError(std::string("transcript: bad \"meta\".\"") + key + "\"");
      }
    }
  }
  if (auto tr = j.find("truncated"); tr != j.end()) {
    if (!tr->is_boolean()) return absl::InvalidArgumentError("transcript: bad \"truncated\"");
    t.truncated_ = tr->get<bool>();
  }
  return t;
}

absl::StatusOr<Transcript> Transcript::FromJsonString(std::string_view text, Options options) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("transcript: invalid JSON");
  return FromJson(j, options);
}

std::string Transcript::DebugString() const {
  std::string out;
  char stamp[32];
  for (const Entry& e : entries_) {
    std::snprintf(stamp, sizeof stamp, "+%lld.%06lld ", static_cast<long long>(e.t_us / 1000000),
                  static_cast<long long>(e.t_us % 1000000));
    out += stamp;
    switch (e.kind) {
      case EntryKind::kClientToServer:
        out += "C: ";
        break;
      case EntryKind::kServerToClient:
        out += "S: ";
        break;
      default:
        out += '[';
        out += EntryKindName(e.kind);
        out += "] ";
    }
    if (e.is_data()) {
      out += EscapeBytes(e.data);
      if (e.size != e.data.size()) {
        out += " (+" + std::to_string(e.size - e.data.size()) + " bytes not stored)";
      }
    } else if (e.kind == EntryKind::kTlsEstablished) {
      out += EscapeBytes(e.tls.protocol + " " + e.tls.cipher + " subject=" + e.tls.peer_subject);
    } else {
      out += EscapeEventText(e);
    }
    out += '\n';
  }
  return out;
}

bool operator==(const Transcript& a, const Transcript& b) {
  return a.entries_ == b.entries_ && a.truncated_ == b.truncated_ && a.total_c2s_ == b.total_c2s_ &&
         a.total_s2c_ == b.total_s2c_ && a.omitted_bytes_ == b.omitted_bytes_ &&
         a.omitted_events_ == b.omitted_events_;
}

}  // namespace smtp::harness
