// The scalar and SIMD byte scans side by side (byte_scan.h): ScanDiff runs
// the scan functions, the DATA reader, the line reader and the reply reader
// over one input under every ScanImpl this CPU has, each reader fed in one
// piece and in pieces, and describes the first disagreement ("" when all
// agree). Used by byte_scan_test.cc (random inputs) and the differential
// fuzz target fuzz/fuzz_scan_diff.cc. Header-only, parser only.
// The grammar's own SIMD fast paths (parser/internal/domain_fast.h), which
// SetScanImpl(kScalar) turns off, are compared the same way: GrammarDiff.
#ifndef SMTP_PARSER_SCAN_DIFF_TEST_UTIL_H_
#define SMTP_PARSER_SCAN_DIFF_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/byte_scan.h"
#include "parser/command.h"
#include "parser/data_reader.h"
#include "parser/line_reader.h"
#include "parser/path.h"
#include "parser/reply.h"

namespace smtp::testing {

// `s` with every octet outside printable ASCII as \xHH, for messages.
inline std::string PrintableForTest(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 32 && u < 127 && u != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// Every field of `c` as text, views by content (operator== is semantic).
inline std::string CommandFieldsText(const Command& c) {
  std::string s;
  const auto add = [&](std::string_view k, std::string_view v) {
    s.append(k).append("=").append(PrintableForTest(v)).append(" ");
  };
  const auto num = [&](std::string_view k, unsigned long long v) { add(k, std::to_string(v)); };
  num("verb", static_cast<unsigned>(c.verb));
  add("verb_text", c.verb_text);
  add("argument", c.argument);
  add("text", c.text);
  num("domain_kind", static_cast<unsigned>(c.domain_kind));
  num("smtputf8", c.smtputf8);
  const Path& p = c.path;
  add("path.raw", p.raw);
  num("path.null", p.is_null);
  num("path.postmaster", p.is_postmaster);
  add("path.route", p.source_route);
  add("path.local", p.local_part);
  num("path.quoted", p.quoted_local_part);
  add("path.domain", p.domain);
  num("path.kind", static_cast<unsigned>(p.domain_kind));
  num("path.utf8", p.has_utf8);
  num("path.dev", static_cast<unsigned long long>(p.deviations));
  const EsmtpParams& e = c.params;
  num("params", e.count);
  for (std::size_t i = 0; i < e.count && i < e.items.size(); ++i) {
    add("kw", e.items[i].keyword);
    add("val", e.items[i].value);
    num("has_val", e.items[i].has_value);
    num("kind", static_cast<unsigned>(e.items[i].kind));
  }
  num("size", e.size ? *e.size + 1 : 0);
  num("body", static_cast<unsigned>(e.body));
  num("p.smtputf8", e.smtputf8);
  num("ret", static_cast<unsigned>(e.ret));
  add("envid", e.envid);
  add("auth", e.auth);
  num("notify", e.notify);
  add("orcpt_type", e.orcpt_type);
  add("orcpt_addr", e.orcpt_addr);
  num("unknown", e.has_unknown);
  add("mech", c.auth_mechanism);
  add("ir", c.auth_initial_response);
  num("has_ir", c.has_initial_response);
  num("chunk", c.chunk_size);
  num("last", c.bdat_last);
  num("dev", static_cast<unsigned long long>(c.deviations));
  return s;
}

// Everything a reader reports, as text, so that two runs compare as strings.
inline std::string DataOutcome(std::string_view in, std::size_t piece, DataEndMode mode,
                               std::size_t max_line) {
  DataReaderOptions o;
  o.mode = mode;
  o.max_line = max_line;
  DataReader r(o);
  std::string body;
  std::size_t consumed = 0;
  while (consumed < in.size() && !r.done()) {
    const std::string_view chunk = in.substr(consumed, piece == 0 ? in.size() : piece);
    consumed += r.Feed(chunk, &body);
  }
  std::string out = "consumed=" + std::to_string(consumed) + " done=" + std::to_string(r.done());
  out += " body=" + body;
  for (const DataEvent& e : r.events()) {
    out += " ev" + std::to_string(static_cast<int>(e.kind)) + "@" + std::to_string(e.offset);
  }
  if (r.done()) {
    out += " end" + std::to_string(static_cast<int>(r.end().before)) +
           std::to_string(static_cast<int>(r.end().after)) + "@" +
           std::to_string(r.end().dot_offset);
  }
  return out;
}

inline std::string LineOutcome(std::string_view in, std::size_t piece, Leniencies leniencies,
                               std::size_t max_line) {
  LineReaderOptions o;
  o.leniencies = leniencies;
  o.max_line = max_line;
  LineReader r(o);
  std::string out;
  std::size_t at = 0;
  std::size_t guard = 0;
  while (at < in.size() && ++guard < 4 * in.size() + 8) {
    const std::string_view chunk = in.substr(at, piece == 0 ? in.size() : piece);
    at += r.Feed(chunk);
    if (!r.has_line()) continue;
    const LineObservations& ob = r.observations();
    out += "[" + std::string(r.line()) + "|" + std::to_string(static_cast<int>(r.terminator())) +
           "|e" + std::to_string(static_cast<int>(r.error().code)) + "@" +
           std::to_string(r.error().offset) + "|d" + std::to_string(r.deviations()) + "|" +
           std::to_string(ob.bare_cr) + "," + std::to_string(ob.first_bare_cr) + "," +
           std::to_string(ob.bare_lf) + "," + std::to_string(ob.first_bare_lf) + "," +
           std::to_string(ob.nul) + "," + std::to_string(ob.first_nul) + "," +
           std::to_string(ob.eight_bit) + "," + std::to_string(ob.first_eight_bit) + "]";
  }
  return out + " at=" + std::to_string(at);
}

inline std::string ReplyOutcome(std::string_view in, std::size_t piece, Leniencies leniencies) {
  ReplyOptions o;
  o.leniencies = leniencies;
  ReplyReader r(o);
  std::string out;
  std::size_t at = 0;
  std::size_t guard = 0;
  while (at < in.size() && ++guard < 4 * in.size() + 8) {
    const std::string_view chunk = in.substr(at, piece == 0 ? in.size() : piece);
    const std::size_t n = r.Feed(chunk);
    at += n;
    if (r.failed()) {
      out += " fail" + std::to_string(static_cast<int>(r.error().code)) + "@" +
             std::to_string(r.error().offset);
      break;
    }
    if (r.has_reply()) {
      const Reply reply = r.TakeReply();
      out += " reply" + std::to_string(reply.code) + "d" + std::to_string(reply.deviations);
      for (const std::string& line : reply.lines) out += "|" + line;
    } else if (n == 0) {
      break;
    }
  }
  return out + " at=" + std::to_string(at);
}

// All outcomes of `in` under the scan implementation in effect.
inline std::string AllOutcomes(std::string_view in) {
  std::string out;
  for (const std::size_t piece :
       {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{33}}) {
    for (const DataEndMode mode :
         {DataEndMode::kStrict, DataEndMode::kBareLf, DataEndMode::kAnyLineEnd}) {
      // 66: 64 content octets, the least SkipCrLfLines takes 64 at a time.
      for (const std::size_t max_line : {std::size_t{8}, std::size_t{66}, std::size_t{1000}}) {
        out += "D" + DataOutcome(in, piece, mode, max_line) + "\n";
      }
    }
    for (const Leniencies l : {Leniencies{kStrict}, Leniencies{kBareLfLineEnd | kLooseReplyText},
                               Leniencies{kBareLfLineEnd | kBareCrLineEnd}}) {
      for (const std::size_t max_line : {std::size_t{6}, std::size_t{512}}) {
        out += "L" + LineOutcome(in, piece, l, max_line) + "\n";
      }
      out += "R" + ReplyOutcome(in, piece, l) + "\n";
    }
  }
  return out;
}

// The scan functions at every start offset of `in` (SkipCrLfLines also with
// lines long enough for its 64-octet blocks).
inline std::string ScanOutcomes(std::string_view in) {
  std::string out;
  const char* end = in.data() + in.size();
  for (std::size_t i = 0; i <= in.size(); ++i) {
    const char* p = in.data() + i;
    out += std::to_string(FindCrLf(p, end) - p) + "," +
           std::to_string(FindLineSpecial(p, end) - p) + "," +
           std::to_string(FindNonText(p, end) - p) + "," +
           std::to_string(SkipCrLfLines(p, end, 10, 40) - p) + "," +
           std::to_string(SkipCrLfLines(p, end, 70, 64) - p) + "," +
           std::to_string(SkipCrLfLines(p, end, 200, 100) - p) + ";";
  }
  return out;
}

// A path parse's result as text: every field, or the error.
inline std::string PathOutcome(const Result<Path>& r) {
  if (!r) {
    return "E" + std::to_string(static_cast<int>(r.error().code)) + "@" +
           std::to_string(r.error().offset) + ":" + std::string(r.error().reason);
  }
  const Path& p = *r;
  return "raw=" + std::string(p.raw) + " n" + std::to_string(p.is_null) + " pm" +
         std::to_string(p.is_postmaster) + " sr=" + std::string(p.source_route) +
         " lp=" + std::string(p.local_part) + " q" + std::to_string(p.quoted_local_part) +
         " d=" + std::string(p.domain) + " k" + std::to_string(static_cast<int>(p.domain_kind)) +
         " u" + std::to_string(p.has_utf8) + " dev" + std::to_string(p.deviations);
}

// The Domain and path parsers at every start offset of `in`, each on at
// most 80 octets (past the 64 the fast path takes; the cost stays linear per
// offset): strict, with the leniencies that move the Domain scan off its
// fast path (and unbracketed paths, i.e. a bare Mailbox), and with UTF-8
// and a short Domain limit.
inline std::string GrammarOutcomes(std::string_view in) {
  std::string out;
  PathOptions lenient;
  lenient.leniencies = kUnderscoreInDomain | kTrailingDotInDomain | kLongDomainLabel |
                       kMissingAngleBrackets | kUtf8WithoutSmtputf8;
  PathOptions utf8_short;
  utf8_short.utf8 = true;
  utf8_short.limits.domain = 12;
  for (std::size_t i = 0; i <= in.size(); ++i) {
    const std::string_view s = in.substr(i, 80);
    for (const PathOptions& o : {PathOptions{}, lenient, utf8_short}) {
      const Result<DomainScan> d = ScanDomain(s, o, i);
      out += d ? "D" + std::to_string(d->size) + "u" + std::to_string(d->has_utf8) + "dev" +
                     std::to_string(d->deviations)
               : "DE" + std::to_string(static_cast<int>(d.error().code)) + "@" +
                     std::to_string(d.error().offset) + ":" + std::string(d.error().reason);
      out += ";F" + PathOutcome(ParseForwardPath(s, o, i));
      out += ";R" + PathOutcome(ParseReversePath(s, o, i)) + "\n";
    }
  }
  return out;
}

// MAIL and RCPT lines with the path at each "<" of `in` (and at its start):
// "MAIL FROM:" / "RCPT TO:", at most 100 octets of `in`, CRLF, parsed by
// ParseCommandInto strictly, with the leniencies around paths and
// parameters, with UTF-8 and short local-part, domain and path limits (each
// the first to be exceeded by some path), and with a path limit under
// "<Postmaster>":
// the error, or every field. The bracketed path's fast path
// (parser/internal/path_fast.h) is taken only in a command line.
inline std::string MailRcptOutcomes(std::string_view in) {
  std::string out;
  CommandOptions lenient;
  lenient.leniencies = kExtraWhitespace | kTrailingWhitespace | kMissingAngleBrackets |
                       kUtf8WithoutSmtputf8 | kUnderscoreInDomain | kTrailingDotInDomain |
                       kLooseDotString | kLongDomainLabel;
  CommandOptions short_limits;
  short_limits.utf8 = true;
  short_limits.limits.local_part = 5;
  short_limits.limits.domain = 12;
  short_limits.limits.path = 18;
  CommandOptions short_path;  // under "<Postmaster>"
  short_path.limits.path = 11;
  CommandOptions strict;
  Command c;
  std::string line;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i != 0 && in[i] != '<') continue;
    for (const std::string_view verb : {"MAIL FROM:", "RCPT TO:"}) {
      line.assign(verb).append(in.substr(i, 100)).append("\r\n");
      for (const CommandOptions* o : {&strict, &lenient, &short_limits, &short_path}) {
        const ParseError e = ParseCommandInto(line, *o, &c);
        out += e.code == Errc::kOk ? CommandFieldsText(c)
                                   : "E" + std::to_string(static_cast<int>(e.code)) + "@" +
                                         std::to_string(e.offset) + ":" + std::string(e.reason);
        out += "\n";
      }
    }
  }
  return out;
}

// "" when the grammar's fast paths give what the scalar parse gives; else
// what differs. Leaves the best implementation in effect.
inline std::string GrammarDiff(std::string_view in) {
  SetScanImpl(ScanImpl::kScalar);
  const std::string want = GrammarOutcomes(in);
  const std::string want_lines = MailRcptOutcomes(in);
  SetScanImpl(BestScanImpl());
  if (BestScanImpl() == ScanImpl::kScalar) return "";
  if (GrammarOutcomes(in) != want) return "the grammar's fast paths differ from the scalar parse";
  if (MailRcptOutcomes(in) != want_lines) {
    return "a MAIL / RCPT line's fast path differs from the scalar parse";
  }
  return "";
}

// "" when every ScanImpl gives what the scalar one gives; else which differs.
// Leaves the best implementation in effect.
inline std::string ScanDiff(std::string_view in) {
  SetScanImpl(ScanImpl::kScalar);
  const std::string want_scan = ScanOutcomes(in);
  const std::string want = AllOutcomes(in);
  std::string diff;
  for (const ScanImpl impl : {ScanImpl::kSse2, ScanImpl::kAvx2}) {
    if (SetScanImpl(impl) != impl) continue;  // not on this CPU
    if (ScanOutcomes(in) != want_scan) {
      diff = std::string(ScanImplName(impl)) + ": a scan function differs from scalar";
      break;
    }
    if (AllOutcomes(in) != want) {
      diff = std::string(ScanImplName(impl)) + ": a reader differs from scalar";
      break;
    }
  }
  SetScanImpl(BestScanImpl());
  if (diff.empty()) diff = GrammarDiff(in);
  return diff;
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_SCAN_DIFF_TEST_UTIL_H_
