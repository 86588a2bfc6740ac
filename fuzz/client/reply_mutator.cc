#include "fuzz/client/reply_mutator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "results/absl_compat.h"

namespace smtp::fuzz::client {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxReplyBytes = 64 * 1024;
constexpr std::size_t kMaxPieces = 24;

// The commands a reply can be scripted for, weighted by repetition: the
// transaction's commands come up most.
const char* const kKeys[] = {"greeting", "EHLO", "HELO", "MAIL",     "MAIL",     "RCPT",
                             "RCPT",     "RCPT", "DATA", "DATA",     "DATA_END", "DATA_END",
                             "QUIT",     "RSET", "NOOP", "STARTTLS", "AUTH",     "BDAT"};

// A command to script a reply for: mostly one the client sent in the
// parent's run (state feedback: its replies are the ones it reads), else
// any.
std::string PickKey(const std::vector<std::string>& sent, Rng& rng) {
  if (!sent.empty() && !rng.OneIn(4)) {
    std::string key = sent[rng.Below(sent.size())];
    if (key == "DATA" && rng.OneIn(2)) key = "DATA_END";
    for (const char* k : kKeys) {
      if (key == k) return key;
    }
  }
  return rng.Pick(kKeys);
}

// Codes that fit a command, then any code at all.
std::vector<int> Expected(std::string_view key) {
  if (key == "greeting") return {220, 220, 421, 554};
  if (key == "RCPT") return {250, 251, 252};
  if (key == "DATA") return {354};
  if (key == "STARTTLS") return {220, 454, 501};
  if (key == "QUIT") return {221};
  if (key == "AUTH") return {235, 334, 535};
  return {250};
}
const int kAnyCodes[] = {200, 211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421,
                         450, 451, 452, 454, 455, 500, 501, 502, 503, 504, 521, 530,
                         535, 550, 551, 552, 553, 554, 555, 299, 399, 499, 599};
// Codes outside RFC 5321's grammar (its first digit 2-5, then 0-5, 0-9).
const char* const kOddCodes[] = {"000", "199", "600", "2500", "25", "2x0", "", "-250", " 250"};

const char* const kTexts[] = {"OK",
                              "2.1.5 Recipient ok",
                              "user not local; will forward",
                              "Ok: queued as ABC123",
                              "End data with <CR><LF>.<CR><LF>",
                              "",
                              "%s%s%n",
                              "\xc3\xa9t\xc3\xa9 UTF-8",
                              "tab\there",
                              "<forward@path.test>"};

const char* const kExtensions[] = {"PIPELINING",
                                   "SIZE 10485760",
                                   "SIZE 10",
                                   "SIZE",
                                   "SIZE abc",
                                   "8BITMIME",
                                   "SMTPUTF8",
                                   "DSN",
                                   "CHUNKING",
                                   "BINARYMIME",
                                   "ENHANCEDSTATUSCODES",
                                   "STARTTLS",
                                   "AUTH PLAIN LOGIN",
                                   "AUTH CRAM-MD5",
                                   "AUTH=LOGIN",
                                   "DELIVERBY",
                                   "ETRN",
                                   "REQUIRETLS",
                                   "VRFY",
                                   "X-UNKNOWN-EXTENSION"};

std::string Line(int code_or_neg, std::string_view code_text, char sep, std::string_view text) {
  std::string out = code_or_neg >= 0 ? std::to_string(code_or_neg) : std::string(code_text);
  out += sep;
  out += text;
  return out;
}

// A piece size of at least `want` octets that cuts `size` octets into at
// most kMaxPieces pieces: each piece costs a pause, and an iteration must
// stay short.
std::size_t Pieces(std::size_t size, std::size_t want) {
  return std::max(want, (size + kMaxPieces - 1) / kMaxPieces);
}

}  // namespace

ReplySpec RandomReply(std::string_view key, Rng& rng) {
  ReplySpec r;
  const std::vector<int> expected = Expected(key);
  int code = rng.OneIn(2) ? expected[rng.Below(expected.size())] : rng.Pick(kAnyCodes);
  const char* odd = nullptr;
  if (rng.OneIn(12)) odd = rng.Pick(kOddCodes);
  std::string text = rng.Pick(kTexts);
  // Lines: mostly one, sometimes a few, rarely hundreds.
  std::size_t lines = 1;
  switch (rng.Below(8)) {
    case 0:
    case 1:
      lines = 2 + rng.Below(4);
      break;
    case 2:
      lines = 6 + rng.Below(10);
      break;
    case 3:
      if (rng.OneIn(3)) lines = 100 + rng.Below(400);
      break;
    default:
      break;
  }
  std::size_t length = 0;  // pad each line to this many octets
  if (rng.OneIn(6)) {
    const std::size_t lengths[] = {510, 513, 1001, 2048, 8000};
    length = rng.Pick(lengths);
  }
  const bool mixed_codes = lines > 1 && rng.OneIn(6);
  const bool never_ends = lines > 1 && rng.OneIn(10);  // "250-" to the end
  const bool bare_lf = rng.OneIn(12);                  // LF instead of CRLF
  const bool no_final_eol = rng.OneIn(14);             // the last line end missing
  const bool no_space = lines == 1 && rng.OneIn(10);   // "250" alone
  for (std::size_t i = 0; i < lines; ++i) {
    const bool last = i + 1 == lines;
    int c = code;
    if (mixed_codes && !last) c = rng.Pick(kAnyCodes);
    char sep = last && !never_ends ? ' ' : '-';
    std::string t = i == 0 ? text : absl::StrCat("line ", i + 1, " ", text);
    std::string l = odd != nullptr ? Line(-1, odd, sep, t) : Line(c, "", sep, t);
    if (no_space && last) l = odd != nullptr ? std::string(odd) : std::to_string(c);
    if (length > l.size() + 2) l.append(length - 2 - l.size(), 'x');
    r.bytes += l;
    if (!(last && no_final_eol)) r.bytes += bare_lf ? "\n" : "\r\n";
    if (r.bytes.size() > kMaxReplyBytes) break;
  }
  // Timing: a pause before, or the reply in small pieces.
  if (rng.OneIn(10)) r.delay = milliseconds(5 + rng.Below(100));
  if (rng.OneIn(8)) {
    r.chunk = Pieces(r.bytes.size(), 1 + rng.Below(8));
    r.chunk_delay = milliseconds(rng.Below(3));
  }
  // Faults.
  if (key == "STARTTLS" && code == 220) {
    if (rng.OneIn(3))
      r.inject = rng.OneIn(2) ? "250 injected\r\n" : "250-PIPELINING\r\n250 AUTH PLAIN\r\n";
    if (rng.OneIn(5)) r.tls_fail = true;
  }
  if (rng.OneIn(12)) r.close = true;
  if (r.bytes.empty() && !r.close) r.bytes = "250 OK\r\n";
  return r;
}

std::string MutateScript(ServerScript* s, ClientMode mode, Rng& rng,
                         const std::vector<std::string>& sent) {
  switch (rng.Below(20)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5: {  // a reply for one command
      const std::string key = PickKey(sent, rng);
      ReplySpec r = RandomReply(key, rng);
      if (key == "greeting") {
        s->greeting = r;
        return "greeting";
      }
      std::vector<ReplySpec>& list = s->replies[key];
      if (list.empty() || (list.size() < kMaxRepliesPerKey && rng.OneIn(4))) {
        list.push_back(r);
      } else {
        list[rng.Below(list.size())] = r;
      }
      return "reply";
    }
    case 6:
    case 7: {  // change one reply's code, keeping the rest
      if (s->replies.empty()) return MutateScript(s, mode, rng, sent);
      auto it = s->replies.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.Below(s->replies.size())));
      if (it->second.empty()) return "none";
      ReplySpec& r = it->second[rng.Below(it->second.size())];
      const std::vector<int> expected = Expected(it->first);
      const int code = rng.OneIn(2) ? expected[rng.Below(expected.size())] : rng.Pick(kAnyCodes);
      const std::string c = std::to_string(code);
      // Every line's code, so a multiline reply stays one reply.
      std::size_t at = 0;
      while (at + 3 <= r.bytes.size()) {
        r.bytes.replace(at, 3, c);
        const std::size_t nl = r.bytes.find('\n', at);
        if (nl == std::string::npos) break;
        at = nl + 1;
      }
      return "reply-code";
    }
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13: {  // the EHLO extension list
      // The list is what a default EHLO reply advertises: a scripted one
      // would hide the change, so it goes (mostly).
      if (s->replies.count("EHLO") != 0 && !rng.OneIn(4)) s->replies.erase("EHLO");
      std::vector<std::string>& e =
          s->extensions ? *s->extensions
                        : s->extensions.emplace(smtp::client::DefaultExtensions(mode, false));
      const std::size_t op = rng.Below(6);
      if (op <= 2 || e.empty()) {
        if (e.size() < 24)
          e.insert(e.begin() + static_cast<std::ptrdiff_t>(rng.Below(e.size() + 1)),
                   rng.Pick(kExtensions));
        return "extensions-add";
      }
      const std::size_t i = rng.Below(e.size());
      if (op == 3) {
        e.erase(e.begin() + static_cast<std::ptrdiff_t>(i));
        return "extensions-remove";
      }
      if (op == 4) {
        e[i] = absl::AsciiStrToLower(AV(e[i]));
        return "extensions-case";
      }
      e[i] += rng.OneIn(2) ? std::string(600, 'P') : std::string(" ") + rng.Pick(kTexts);
      return "extensions-parameter";
    }
    case 14:
    case 15: {  // the default replies' shape
      if (rng.OneIn(2)) {
        const int counts[] = {1, 2, 3, 5, 9, 20, 300};
        s->reply_lines = rng.Pick(counts);
      } else {
        const std::size_t lengths[] = {0, 0, 100, 513, 1001, 4000};
        s->reply_line_length = rng.Pick(lengths);
      }
      return "reply-shape";
    }
    case 16: {  // a pause or pieces on an existing reply (slow: rarer)
      if (s->replies.empty()) return MutateScript(s, mode, rng, sent);
      auto it = s->replies.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.Below(s->replies.size())));
      if (it->second.empty()) return "none";
      ReplySpec& r = it->second[rng.Below(it->second.size())];
      if (rng.OneIn(2)) {
        r.delay = milliseconds(rng.Below(200));
      } else {
        r.chunk = Pieces(r.bytes.size(), 1 + rng.Below(6));
        r.chunk_delay = milliseconds(rng.Below(3));
      }
      return "timing";
    }
    case 17: {  // an early close or a stall (slow: rarer)
      const std::string key = PickKey(sent, rng);
      if (key == "greeting") return MutateScript(s, mode, rng, sent);
      std::vector<ReplySpec>& list = s->replies[key];
      ReplySpec r = RandomReply(key, rng);
      if (rng.OneIn(8)) {
        r = ReplySpec{};
        r.stall = true;
      } else {
        r.close = true;
        if (rng.OneIn(3)) r.bytes.clear();
      }
      if (list.empty()) {
        list.push_back(r);
      } else {
        list[rng.Below(list.size())] = r;
      }
      return "close";
    }
    default: {  // undo: take one reply out
      if (s->replies.empty()) return MutateScript(s, mode, rng, sent);
      auto it = s->replies.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.Below(s->replies.size())));
      if (!it->second.empty())
        it->second.erase(it->second.begin() +
                         static_cast<std::ptrdiff_t>(rng.Below(it->second.size())));
      if (it->second.empty()) s->replies.erase(it);
      return "remove";
    }
  }
}

}  // namespace smtp::fuzz::client
