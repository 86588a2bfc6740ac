#include "fuzz/net/finding_page.h"

#include <algorithm>
#include <cstdio>

#include "parser/reply.h"

namespace smtp::fuzz {

std::string StepsText(const SessionInput& in) {
  constexpr std::size_t kShown = 200;
  // The transcript's notation (EscapeBytes), with '"' escaped too: the
  // bytes stand between quotes.
  const auto escaped = [](std::string_view b) {
    std::string out;
    for (const char c : harness::EscapeBytes(b.substr(0, kShown))) {
      if (c == '"') out += '\\';
      out += c;
    }
    if (b.size() > kShown) out += "... (" + std::to_string(b.size()) + " bytes)";
    return out;
  };
  std::string out;
  for (const SessionStep& s : in.steps) {
    if (s.pipelined) out += "| ";
    switch (s.kind) {
      case StepKind::kCommand: {
        // A plain command reads as itself; one with odd octets, escaped.
        const bool plain = std::all_of(s.bytes.begin(), s.bytes.end(), [](char c) {
          return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
        });
        out += "command " + (plain && s.bytes.size() <= kShown ? s.bytes : escaped(s.bytes));
        break;
      }
      case StepKind::kRaw:
        out += "raw \"" + escaped(s.bytes) + "\"";
        break;
      case StepKind::kData:
        out += "data \"" + escaped(s.bytes) + "\"";
        break;
      case StepKind::kBdat:
        out += std::string(s.last ? "bdat last" : "bdat") + " \"" + escaped(s.bytes) + "\"";
        break;
      case StepKind::kStartTls:
        out += "starttls";
        break;
    }
    out += "\n";
  }
  return out;
}

std::string RawReproduction(const harness::Transcript& t, std::string_view target) {
  const std::size_t colon = target.rfind(':');
  if (colon == std::string::npos || target.find(':') != colon || target.rfind("exec", 0) == 0 ||
      target.rfind("embedded", 0) == 0) {
    return "";
  }
  const auto py_bytes = [](std::string_view b) {
    std::string out = "b'";
    for (const char c : b) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\\' || c == '\'') {
        out += '\\';
        out += c;
      } else if (u >= 0x20 && u < 0x7f) {
        out += c;
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        out += buf;
      }
    }
    return out + "'";
  };
  std::string writes;
  std::size_t total = 0;
  for (const harness::Entry& e : t.entries()) {
    if (e.kind != harness::EntryKind::kClientToServer) continue;
    total += e.data.size();
    if (total > 64 * 1024) return "";  // too long to paste
    writes += "    " + py_bytes(e.data) + ",\n";
  }
  if (total == 0) return "";
  return "python3 - <<'EOF'\nimport socket, time\ns = socket.create_connection(('" +
         std::string(target.substr(0, colon)) + "', " + std::string(target.substr(colon + 1)) +
         "))\ns.settimeout(5)\ndef show():\n    time.sleep(0.5)\n    try:\n        "
         "print(s.recv(65536))\n    except Exception as e:\n        print(e)\nshow()\nfor "
         "w in [\n" +
         writes + "]:\n    s.sendall(w)\n    show()\nEOF\n";
}

std::vector<std::pair<std::size_t, std::size_t>> TripLines(const harness::Transcript& t,
                                                           std::size_t reply_index) {
  // The server's bytes as one stream, and where each of its entries starts.
  std::string stream;
  std::vector<std::pair<std::size_t, std::size_t>> starts;  // (stream offset, entry)
  for (std::size_t i = 0; i < t.entries().size(); ++i) {
    const harness::Entry& e = t.entries()[i];
    if (e.kind != harness::EntryKind::kServerToClient) continue;
    starts.emplace_back(stream.size(), i);
    stream += e.data;
  }
  // Frame the replies as the session did: reply after reply; a malformed
  // one ends at the end of its line, and reading resumes after it.
  std::size_t begin = 0, end = 0, index = 0, pos = 0;
  bool found = false;
  ReplyReader reader;
  while (pos < stream.size() && !found) {
    pos += reader.Feed(std::string_view(stream).substr(pos));
    if (reader.has_reply()) {
      reader.TakeReply();
      if (index == reply_index) {
        end = pos;
        found = true;
      } else {
        ++index;
        begin = pos;
      }
    } else if (reader.failed()) {
      const std::size_t lf = stream.find('\n', pos);
      pos = lf == std::string::npos ? stream.size() : lf + 1;
      reader.Reset();
      if (index == reply_index) {  // a malformed reply is not counted
        end = pos;
        found = true;
      } else {
        begin = pos;
      }
    } else {
      break;  // the stream ends inside a reply
    }
  }
  std::vector<std::pair<std::size_t, std::size_t>> lines;
  if (!found || end <= begin) return lines;
  // The lines of [begin, end): entry by entry, each split after its LFs.
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto [at, entry] = starts[k];
    const std::string& data = t.entries()[entry].data;
    std::size_t line = 0;
    for (std::size_t off = 0; off < data.size();) {
      const std::size_t lf = data.find('\n', off);
      const std::size_t line_end = lf == std::string::npos ? data.size() : lf + 1;
      if (at + off < end && at + line_end > begin) lines.emplace_back(entry, line);
      off = line_end;
      ++line;
    }
  }
  return lines;
}

}  // namespace smtp::fuzz
