// smtp-harness parse: the parser on the command line.
//
//   parse [--mode command|reply|data] [--lenient] [--line TEXT]
//         [--crlf auto|exact] [--data_end MODE]
//
// command mode reads one command per input line; reply and data modes read a
// byte stream. One JSON object per input goes to stdout (docs/parse-json.md).
// Exit status: 0 when every input was accepted, 1 when any was rejected,
// 2 on a usage error.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "app/subcommand.h"
#include "app/wire_json.h"
#include "parser/command.h"
#include "parser/data_reader.h"
#include "parser/extensions.h"
#include "parser/reply.h"

ABSL_FLAG(std::string, mode, "command", "parse mode: command, reply or data");
ABSL_FLAG(bool, lenient, false,
          "enable every leniency (deviations are still listed on each result)");
ABSL_FLAG(std::string, line, "",
          "parse this text instead of standard input (command mode: CRLF appended)");
ABSL_FLAG(std::string, crlf, "auto",
          "command mode: 'auto' frames input lines at LF and hands the parser CRLF; "
          "'exact' hands it the bytes as they are (LF-only lines are then bare_lf errors)");
ABSL_FLAG(std::string, data_end, "",
          "data mode: end-of-data mode (strict, lf_lines_strict_end, bare_lf, "
          "bare_lf_strip_cr, any_line_end); default strict, or bare_lf with --lenient");

namespace smtp::app {
namespace {

std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Print(const nlohmann::json& j) { std::cout << DumpLine(j) << '\n'; }

// One command per line; returns the number of rejected lines.
int ParseCommands(std::string_view input, bool exact, Leniencies len) {
  CommandOptions opts;
  opts.leniencies = len;
  int rejected = 0;
  std::size_t pos = 0, line_no = 0;
  while (pos < input.size()) {
    std::size_t lf = input.find('\n', pos);
    std::size_t end = lf == std::string_view::npos ? input.size() : lf + 1;
    std::string_view raw = input.substr(pos, end - pos);
    ++line_no;
    std::string framed;
    std::string_view line = raw;
    if (!exact) {
      std::string_view body = raw;
      if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
      if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
      framed.assign(body);
      framed += "\r\n";
      line = framed;
    }
    nlohmann::json j = {{"line", line_no}, {"offset", pos}, {"input", std::string(line)}};
    auto r = ParseCommand(line, opts);
    if (r.ok()) {
      j["ok"] = true;
      j["command"] = CommandJson(*r);
      j["canonical"] = SerializeCommand(*r);
      // A later RCPT may carry UTF-8 when this transaction uses SMTPUTF8.
      if (r->verb == Verb::kMail) opts.utf8 = r->params.smtputf8;
      if (r->verb == Verb::kRset || r->verb == Verb::kEhlo || r->verb == Verb::kHelo) {
        opts.utf8 = false;
      }
    } else {
      j["ok"] = false;
      j["error"] = ErrorJson(r.error());
      ++rejected;
    }
    Print(j);
    pos = end;
  }
  return rejected;
}

nlohmann::json ReplyJson(const Reply& r) {
  nlohmann::json j = {{"code", r.code}, {"lines", r.lines}, {"multiline", r.multiline()}};
  if (r.enhanced) j["enhanced"] = r.enhanced->ToString();
  j["deviations"] = DeviationsJson(r.deviations);
  return j;
}

nlohmann::json ExtensionsJson(const ExtensionSet& e) {
  nlohmann::json j = {{"domain", e.domain}, {"keywords", e.keywords}};
  if (e.size) j["size"] = *e.size;
  if (!e.auth.empty()) j["auth"] = e.auth;
  nlohmann::json others = nlohmann::json::array();
  for (const auto& o : e.others) {
    nlohmann::json x = {{"keyword", o.keyword}, {"params", o.params}};
    if (o.malformed) x["malformed"] = true;
    if (o.bad_params) x["bad_params"] = true;
    others.push_back(std::move(x));
  }
  j["others"] = std::move(others);
  if (!e.duplicates.empty()) j["duplicates"] = e.duplicates;
  return j;
}

// A byte stream of replies; stops at the first malformed one.
int ParseReplies(std::string_view input, Leniencies len) {
  ReplyOptions opts;
  opts.leniencies = len;
  ReplyReader reader(opts);
  std::size_t pos = 0;
  while (true) {
    std::size_t start = reader.offset();
    pos += reader.Feed(input.substr(pos));
    if (pos == input.size() && reader.need_more()) reader.FeedEof();
    if (reader.has_reply()) {
      Reply r = reader.TakeReply();
      nlohmann::json j = {{"offset", start}, {"ok", true}, {"reply", ReplyJson(r)}};
      // A multiline 250 whose lines look like ehlo-lines is decoded as EHLO.
      if (r.code == 250 && r.multiline()) j["ehlo"] = ExtensionsJson(DecodeEhlo(r));
      Print(j);
      if (pos == input.size()) return 0;
      continue;
    }
    if (reader.failed()) {
      Print({{"offset", start}, {"ok", false}, {"error", ErrorJson(reader.error())}});
      return 1;
    }
    return 0;  // nothing left
  }
}

bool DataModeFromName(std::string_view name, DataEndMode* out) {
  for (DataEndMode m : {DataEndMode::kStrict, DataEndMode::kLfLinesStrictEnd, DataEndMode::kBareLf,
                        DataEndMode::kBareLfStripCr, DataEndMode::kAnyLineEnd}) {
    if (DataEndModeName(m) == name) {
      *out = m;
      return true;
    }
  }
  return false;
}

// A DATA body; what follows the end of data is parsed as commands, since a
// server in this mode would take it as such (the smuggling view).
int ParseData(std::string_view input, DataEndMode mode, Leniencies len) {
  DataReaderOptions opts;
  opts.mode = mode;
  DataReader reader(opts);
  std::string body;
  std::size_t n = reader.Feed(input, &body);
  nlohmann::json j = {{"mode", std::string(DataEndModeName(mode))},
                      {"ended", reader.done()},
                      {"consumed", n},
                      {"body", body}};
  if (reader.done()) {
    const DataEnd& e = reader.end();
    j["end"] = {{"before", std::string(WireEndName(e.before))},
                {"after", std::string(WireEndName(e.after))},
                {"dot_offset", e.dot_offset},
                {"standard", e.standard()}};
  }
  nlohmann::json events = nlohmann::json::array();
  for (const DataEvent& ev : reader.events()) {
    events.push_back({{"kind", std::string(DataEventKindName(ev.kind))}, {"offset", ev.offset}});
  }
  j["events"] = std::move(events);
  if (reader.dropped_events()) j["dropped_events"] = reader.dropped_events();
  int rejected = 0;
  if (auto le = reader.line_error()) j["line_error"] = ErrorJson(*le);
  if (!reader.done()) {
    j["ok"] = false;
    j["error"] = ErrorJson(
        {Errc::kNeedMore, input.size(), "RFC 5321 §4.1.1.4: input ended before <CRLF>.<CRLF>"});
    rejected = 1;
  } else {
    j["ok"] = true;
    std::string_view rest = input.substr(n);
    if (!rest.empty()) j["after_end"] = std::string(rest);
  }
  Print(j);
  if (reader.done() && n < input.size()) {
    std::cout.flush();
    rejected += ParseCommands(input.substr(n), /*exact=*/true, len) ? 1 : 0;
  }
  return rejected;
}

}  // namespace

int RunParse(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "parse: unexpected argument '%s' (input is read from stdin or --line)\n",
                 args[0].c_str());
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string crlf = absl::GetFlag(FLAGS_crlf);
  if (crlf != "auto" && crlf != "exact") {
    std::fprintf(stderr, "parse: --crlf must be auto or exact\n");
    return 2;
  }
  const Leniencies len = absl::GetFlag(FLAGS_lenient) ? kAllLeniencies : kStrict;
  std::string input = absl::GetFlag(FLAGS_line);
  const bool from_line = !input.empty();
  if (!from_line) input = ReadAll(std::cin);

  int rejected = 0;
  if (mode == "command") {
    rejected = ParseCommands(input, crlf == "exact" && !from_line, len);
  } else if (mode == "reply") {
    rejected = ParseReplies(input, len);
  } else if (mode == "data") {
    DataEndMode dm = len ? DataEndMode::kBareLf : DataEndMode::kStrict;
    std::string name = absl::GetFlag(FLAGS_data_end);
    if (!name.empty() && !DataModeFromName(name, &dm)) {
      std::fprintf(stderr, "parse: unknown --data_end '%s'\n", name.c_str());
      return 2;
    }
    rejected = ParseData(input, dm, len);
  } else {
    std::fprintf(stderr, "parse: --mode must be command, reply or data\n");
    return 2;
  }
  return rejected ? 1 : 0;
}

}  // namespace smtp::app
