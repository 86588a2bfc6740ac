// Property test of redaction as `record` and `import-pcap` do it: the
// SessionFollower finds the AUTH secrets of a session, and
// Transcript::RedactStreams hides them in what is stored. For random
// sessions (PLAIN, LOGIN, CRAM-MD5, XOAUTH2; with and without an initial
// response; responses sent in turn or ahead of their challenges; refused,
// cancelled and accepted exchanges) cut into random chunks, no byte string of
// a secret survives in either stream, and the commands after the exchange
// are stored as sent.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "harness/record/follower.h"
#include "results/transcript.h"

namespace smtp::record {
namespace {

using harness::Direction;

std::string B64(std::string_view s) {
  std::string out;
  absl::Base64Escape(absl::string_view(s.data(), s.size()), &out);
  return out;
}

// One turn of the conversation: who speaks and the bytes, in causal order.
struct Turn {
  bool client;
  std::string bytes;
};

struct Session {
  std::vector<Turn> turns;
  std::vector<std::string> secrets;  // must not survive (wire and decoded forms)
  std::vector<std::string> kept;     // must survive as sent
};

// A random password of printable octets, long enough to be redacted decoded.
std::string Password(std::mt19937& rng) {
  static constexpr std::string_view kChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&+-_.";
  std::string p;
  const int n = 6 + static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) p += kChars[rng() % kChars.size()];
  return p;
}

// The client's responses of one mechanism, the challenges the server sends
// before each, and whether the first response may go as an initial response.
struct Exchange {
  std::string mech;
  std::vector<std::string> responses;   // base64
  std::vector<std::string> challenges;  // one per response not sent initially
  std::vector<std::string> decoded;     // secrets in decoded form
  bool can_pipeline = true;             // responses need no server data
};

Exchange MakeExchange(std::mt19937& rng, const std::string& password) {
  Exchange e;
  switch (rng() % 4) {
    case 0:
      e.mech = "PLAIN";
      e.responses = {B64(std::string("\0alice\0", 7) + password)};
      e.decoded = {password};
      break;
    case 1:
      e.mech = "LOGIN";
      e.responses = {B64("alice"), B64(password)};
      e.decoded = {password};
      break;
    case 2:
      e.mech = "CRAM-MD5";
      // The digest stands for HMAC-MD5(password, challenge); only its wire
      // form is the secret here.
      e.responses = {B64("alice " + std::string(32, "0123456789abcdef"[rng() % 16]) + password)};
      e.can_pipeline = false;
      break;
    default:
      e.mech = "XOAUTH2";
      e.responses = {B64("user=alice\x01" "auth=Bearer " + password + "\x01\x01")};
      e.decoded = {password};
      break;
  }
  return e;
}

Session MakeSession(std::mt19937& rng) {
  Session s;
  const std::string password = Password(rng);
  Exchange e = MakeExchange(rng, password);
  s.secrets = e.responses;
  for (const std::string& d : e.decoded) s.secrets.push_back(d);
  s.turns.push_back({false, "220 mx ESMTP\r\n"});
  s.turns.push_back({true, "EHLO client.example\r\n"});
  s.turns.push_back({false, "250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n"});

  const int outcome = static_cast<int>(rng() % 4);  // 0, 1: accepted; 2: refused (535); 3: cancelled
  const bool initial = e.mech != "CRAM-MD5" && rng() % 2 == 0;
  const bool ahead = e.can_pipeline && outcome != 3 && rng() % 2 == 0;
  const std::string after = rng() % 2 == 0 ? "MAIL FROM:<bob@example.org>\r\n" : "NOOP\r\n";
  s.kept.push_back(after);

  std::string auth = "AUTH " + e.mech;
  std::size_t next = 0;
  if (initial) auth += " " + e.responses[next++];
  auth += "\r\n";
  // A refusal that echoes the password it decoded (a server may).
  const std::string refusal = e.decoded.empty() ? "535 5.7.8 bad credentials\r\n"
                                                : "535 5.7.8 password " + password + " is wrong\r\n";
  const std::string final_reply =
      outcome == 2 ? refusal
                   : outcome == 3 ? "501 5.7.0 cancelled\r\n" : "235 2.7.0 ok\r\n";
  const std::string after_reply = after[0] == 'M' ? "250 2.1.0 ok\r\n" : "250 ok\r\n";
  if (ahead) {
    // Everything in one write (optionally the command after it too), then
    // the server's challenges and replies.
    std::string client = auth;
    while (next < e.responses.size()) client += e.responses[next++] + "\r\n";
    const bool with_after = rng() % 2 == 0;
    if (with_after) client += after;
    s.turns.push_back({true, client});
    std::string server;
    for (std::size_t i = initial ? 1 : 0; i < e.responses.size(); ++i) server += "334 \r\n";
    server += final_reply;
    if (with_after) server += after_reply;
    s.turns.push_back({false, server});
    if (!with_after) {
      s.turns.push_back({true, after});
      s.turns.push_back({false, after_reply});
    }
  } else {
    s.turns.push_back({true, auth});
    bool after_sent = false;  // the command after went with the last response
    while (next < e.responses.size()) {
      s.turns.push_back({false, "334 " + B64("<1.2@mx>") + "\r\n"});
      if (outcome == 3) {
        s.turns.push_back({true, "*\r\n"});
        break;
      }
      const bool last = next + 1 == e.responses.size();
      after_sent = last && rng() % 2 == 0;
      s.turns.push_back({true, e.responses[next++] + "\r\n" + (after_sent ? after : "")});
    }
    s.turns.push_back({false, final_reply + (after_sent ? after_reply : "")});
    if (!after_sent) {
      s.turns.push_back({true, after});
      s.turns.push_back({false, after_reply});
    }
  }
  s.turns.push_back({true, "QUIT\r\n"});
  s.turns.push_back({false, "221 2.0.0 bye\r\n"});
  s.kept.push_back("QUIT\r\n");
  s.kept.push_back("EHLO client.example\r\n");
  return s;
}

TEST(RedactionPropertyTest, NoSecretSurvivesAnySplit) {
  for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
    std::mt19937 rng(seed);
    const Session s = MakeSession(rng);
    SessionFollower follower;
    harness::Transcript t;
    for (const Turn& turn : s.turns) {
      // Random chunks, as a proxy relays them or a capture holds them.
      std::size_t off = 0;
      while (off < turn.bytes.size()) {
        const std::size_t n = 1 + rng() % (turn.bytes.size() - off);
        const std::string_view chunk = std::string_view(turn.bytes).substr(off, n);
        if (turn.client) {
          follower.FeedClient(chunk);
          t.AddData(Direction::kClientToServer, chunk);
        } else {
          follower.FeedServer(chunk);
          t.AddData(Direction::kServerToClient, chunk);
        }
        off += n;
      }
    }
    ASSERT_FALSE(follower.secret_lost()) << "seed " << seed;
    t.RedactStreams(follower.secrets());
    const std::string c2s = t.SideBytes(Direction::kClientToServer);
    const std::string s2c = t.SideBytes(Direction::kServerToClient);
    std::string session;
    for (const Turn& turn : s.turns) session += (turn.client ? "C: " : "S: ") + turn.bytes;
    for (const std::string& secret : s.secrets) {
      ASSERT_EQ(c2s.find(secret), std::string::npos)
          << "seed " << seed << ": secret '" << secret << "' survives in\n"
          << c2s << "\nsession:\n"
          << session;
      ASSERT_EQ(s2c.find(secret), std::string::npos) << "seed " << seed;
    }
    for (const std::string& kept : s.kept) {
      ASSERT_NE(c2s.find(kept), std::string::npos)
          << "seed " << seed << ": '" << kept << "' not stored as sent in\n"
          << c2s << "\nsession:\n"
          << session;
    }
  }
}

}  // namespace
}  // namespace smtp::record
