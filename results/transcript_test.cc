#include "results/transcript.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace smtp::harness {
namespace {

std::string AllOctets() {
  std::string s;
  for (int c = 0; c < 256; ++c) s += static_cast<char>(c);
  return s;
}

struct EscapeCase {
  std::string raw;
  std::string escaped;
};

TEST(EscapeBytes, Table) {
  const EscapeCase cases[] = {
      {"", ""},
      {"EHLO a\r\n", "EHLO a\\r\\n"},
      {"tab\there", "tab\\there"},
      {"back\\slash", "back\\\\slash"},
      {std::string("nul\0x", 5), "nul\\x00x"},
      {"\x7f\x80\xff", "\\x7f\\x80\\xff"},
      {"caf\xc3\xa9", "caf\\xc3\\xa9"},  // UTF-8 is escaped too: JSON stays ASCII
      {"\"quoted\"", "\"quoted\""},      // JSON's own escaping handles quotes
      {"\\x41", "\\\\x41"},              // a literal backslash-x is not an escape
  };
  for (const EscapeCase& c : cases) {
    EXPECT_EQ(EscapeBytes(c.raw), c.escaped) << c.escaped;
    std::string back;
    ASSERT_TRUE(UnescapeBytes(c.escaped, &back)) << c.escaped;
    EXPECT_EQ(back, c.raw) << c.escaped;
  }
}

TEST(EscapeBytes, EveryOctetRoundTrips) {
  const std::string all = AllOctets();
  const std::string escaped = EscapeBytes(all);
  for (char c : escaped) {
    EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << static_cast<int>(c);
  }
  std::string back;
  ASSERT_TRUE(UnescapeBytes(escaped, &back));
  EXPECT_EQ(back, all);
}

// Our own text keeps its readable UTF-8; everything else is escaped as in
// EscapeBytes, and UnescapeBytes inverts both.
TEST(EscapeText, Table) {
  const EscapeCase cases[] = {
      {"RFC 5321 \xc2\xa7"
       "4.2",
       "RFC 5321 \xc2\xa7"
       "4.2"},  // U+00A7 kept
      {"caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xa7"},
      {"EHLO a\r\n\\", "EHLO a\\r\\n\\\\"},                     // ASCII as before
      {"\xff\xc3", "\\xff\\xc3"},                               // ill-formed, truncated
      {"\xc0\xaf \xed\xa0\x80", "\\xc0\\xaf \\xed\\xa0\\x80"},  // overlong, surrogate
      {"\xc2\x85", "\\xc2\\x85"},                               // C1 control NEL
      {"a\xe2\x80\xae"
       "b",
       "a\\xe2\\x80\\xaeb"},                                           // U+202E bidi override
      {"\xe2\x80\x8b\xef\xbb\xbf", "\\xe2\\x80\\x8b\\xef\\xbb\\xbf"},  // ZWSP, BOM
  };
  for (const EscapeCase& c : cases) {
    EXPECT_EQ(EscapeText(c.raw), c.escaped) << c.escaped;
    std::string back;
    ASSERT_TRUE(UnescapeBytes(c.escaped, &back)) << c.escaped;
    EXPECT_EQ(back, c.raw) << c.escaped;
  }
  std::string back;
  ASSERT_TRUE(UnescapeBytes(EscapeText(AllOctets()), &back));
  EXPECT_EQ(back, AllOctets());
}

// In the JSON form a note's UTF-8 reads as itself; wire data and other
// events stay escaped ASCII.
TEST(Transcript, NoteTextKeepsUtf8DataStaysEscaped) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "250 \xc2\xa7\r\n");
  t.AddNote(
      "step 3: fail: see RFC 5321 \xc2\xa7"
      "4.2");
  t.AddEvent(EntryKind::kError, "caf\xc3\xa9");
  const nlohmann::json j = t.ToJson();
  EXPECT_EQ(j["entries"][0]["data"], "250 \\xc2\\xa7\\r\\n");
  EXPECT_EQ(j["entries"][1]["text"],
            "step 3: fail: see RFC 5321 \xc2\xa7"
            "4.2");
  EXPECT_EQ(j["entries"][2]["text"], "caf\\xc3\\xa9");
  EXPECT_NE(t.DebugString().find("RFC 5321 \xc2\xa7"
                                 "4.2"),
            std::string::npos)
      << t.DebugString();
  auto back = Transcript::FromJsonString(t.ToJsonString());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(UnescapeBytes, RejectsMalformed) {
  const char* bad[] = {
      "\\",     // dangling backslash
      "\\q",    // unknown escape
      "\\x",    // no digits
      "\\x4",   // one digit
      "\\xg0",  // not hex
      "a\\x0",  // truncated at end
      "\\X41",  // the escape letter is lowercase
  };
  for (const char* s : bad) {
    std::string out;
    EXPECT_FALSE(UnescapeBytes(s, &out)) << EscapeBytes(s);
  }
  std::string out;
  EXPECT_TRUE(UnescapeBytes("\\x4A\\xfF", &out));  // hex digits in either case
  EXPECT_EQ(out, "J\xff");
  EXPECT_TRUE(UnescapeBytes("\r\n\xc3\xa9", &out));  // raw octets stand for themselves
  EXPECT_EQ(out, "\r\n\xc3\xa9");
}

TEST(EntryKind, NamesRoundTrip) {
  for (int k = 0; k <= static_cast<int>(EntryKind::kTlsOpaque); ++k) {
    const auto kind = static_cast<EntryKind>(k);
    EntryKind back{};
    ASSERT_TRUE(ParseEntryKind(EntryKindName(kind), &back)) << k;
    EXPECT_EQ(back, kind);
  }
  EntryKind unused{};
  EXPECT_FALSE(ParseEntryKind("C2S", &unused));
  EXPECT_FALSE(ParseEntryKind("", &unused));
}

Transcript Sample() {
  Transcript t;
  t.AddEventAt(0, EntryKind::kConnect, "127.0.0.1:25");
  t.AddDataAt(812, Direction::kServerToClient, "220 mx ESMTP\r\n");
  t.AddDataAt(901, Direction::kClientToServer, "EHLO a\xff\r\n");
  t.AddEventAt(1000, EntryKind::kNote, "step 2");
  return t;
}

TEST(Transcript, GoldenJson) {
  EXPECT_EQ(Sample().ToJsonString(),
            R"({"bytes":{"c2s":9,"s2c":14},"entries":[)"
            R"({"kind":"connect","t_us":0,"text":"127.0.0.1:25"},)"
            R"({"data":"220 mx ESMTP\\r\\n","kind":"s2c","t_us":812},)"
            R"({"data":"EHLO a\\xff\\r\\n","kind":"c2s","t_us":901},)"
            R"({"kind":"note","t_us":1000,"text":"step 2"}],)"
            R"("omitted_bytes":0,"omitted_events":0,"truncated":false,"version":1})");
}

TEST(Transcript, JsonRoundTripBinaryAndEvents) {
  Transcript t = Sample();
  t.AddData(Direction::kServerToClient, AllOctets());
  t.AddData(Direction::kClientToServer, std::string("\0\r\n.\r\n", 6));
  t.AddTls({"TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=mx.example,O=Caf\xc3\xa9"});
  t.AddEvent(EntryKind::kTimeout, "read_reply");
  t.AddEvent(EntryKind::kPeerClosed);
  t.AddEvent(EntryKind::kError, std::string("bad\0byte", 8));
  t.AddEvent(EntryKind::kLocalClosed);

  const std::string text = t.ToJsonString(2);
  // Never throws on dump: everything is ASCII.
  for (char c : text) ASSERT_TRUE(static_cast<unsigned char>(c) < 0x80);
  auto back = Transcript::FromJsonString(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->ToJsonString(2), text);
  EXPECT_EQ(back->SideBytes(Direction::kServerToClient), "220 mx ESMTP\r\n" + AllOctets());
}

TEST(Transcript, SidesForReplay) {
  Transcript t = Sample();
  t.AddData(Direction::kServerToClient, "250 ok\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  std::vector<std::string> client;
  for (const Entry& e : t.ClientSide()) client.push_back(e.data);
  EXPECT_EQ(client, (std::vector<std::string>{"EHLO a\xff\r\n", "QUIT\r\n"}));
  std::vector<std::string> server;
  for (const Entry& e : t.ServerSide()) server.push_back(e.data);
  EXPECT_EQ(server, (std::vector<std::string>{"220 mx ESMTP\r\n", "250 ok\r\n"}));
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "EHLO a\xff\r\nQUIT\r\n");
  EXPECT_EQ(t.total_bytes(Direction::kClientToServer), 15u);
}

TEST(Transcript, ByteCapTruncatesWithMarker) {
  Transcript t(TranscriptOptions{.max_stored_bytes = 10});
  t.AddData(Direction::kServerToClient, "0123456");    // 7 stored
  t.AddData(Direction::kServerToClient, "789abcdef");  // 3 stored, 6 omitted
  t.AddData(Direction::kClientToServer, "QUIT\r\n");   // 6 omitted
  t.AddEvent(EntryKind::kPeerClosed);                  // events still recorded
  ASSERT_EQ(t.entries().size(), 4u);
  EXPECT_EQ(t.entries()[1].data, "789");
  EXPECT_EQ(t.entries()[1].size, 9u);
  EXPECT_EQ(t.entries()[2].kind, EntryKind::kTruncated);
  EXPECT_EQ(t.entries()[2].text, "max_stored_bytes");
  EXPECT_EQ(t.entries()[3].kind, EntryKind::kPeerClosed);
  EXPECT_TRUE(t.truncated());
  EXPECT_EQ(t.stored_bytes(), 10u);
  EXPECT_EQ(t.omitted_bytes(), 12u);
  EXPECT_EQ(t.total_bytes(Direction::kServerToClient), 16u);
  EXPECT_EQ(t.total_bytes(Direction::kClientToServer), 6u);

  auto back = Transcript::FromJsonString(t.ToJsonString());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
  EXPECT_NE(t.ToJsonString().find(R"("size":9)"), std::string::npos);
}

TEST(Transcript, EntryAndEventCaps) {
  Transcript t(TranscriptOptions{.max_data_entries = 3, .max_events = 2});
  for (int i = 0; i < 1000; ++i) t.AddData(Direction::kServerToClient, "x");
  for (int i = 0; i < 1000; ++i) t.AddNote("n");
  // 3 data entries + 1 marker + 2 events.
  EXPECT_EQ(t.entries().size(), 6u);
  EXPECT_EQ(t.omitted_bytes(), 997u);
  EXPECT_EQ(t.omitted_events(), 998u);
  EXPECT_EQ(t.total_bytes(Direction::kServerToClient), 1000u);
  EXPECT_EQ(t.entries()[3].text, "max_data_entries");
}

TEST(Transcript, HugeFloodStaysBounded) {
  Transcript t(TranscriptOptions{.max_stored_bytes = 1 << 16});
  const std::string chunk(4096, 'A');
  for (int i = 0; i < 4096; ++i) t.AddData(Direction::kServerToClient, chunk);  // 16 MiB
  EXPECT_EQ(t.stored_bytes(), 1u << 16);
  EXPECT_EQ(t.entries().size(), 17u);  // 16 full chunks and the marker
  EXPECT_EQ(t.total_bytes(Direction::kServerToClient), 16u << 20);
}

TEST(Transcript, EmptyDataIgnoredAndClockMonotonic) {
  Transcript t;
  t.AddData(Direction::kClientToServer, "");
  EXPECT_TRUE(t.empty());
  t.AddNote("a");
  t.AddNote("b");
  EXPECT_LE(t.entries()[0].t_us, t.entries()[1].t_us);
  EXPECT_GE(t.entries()[0].t_us, 0);
}

TEST(Transcript, FromJsonMinimalDocument) {
  auto t = Transcript::FromJsonString(
      R"({"version":1,"entries":[{"t_us":5,"kind":"c2s","data":"HELO x\r\n"}]})");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->entries().size(), 1u);
  EXPECT_EQ(t->entries()[0].data, "HELO x\r\n");  // JSON "\r" is a real CR; also valid
  EXPECT_EQ(t->total_bytes(Direction::kClientToServer), 8u);
}

TEST(Transcript, FromJsonRejects) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"entries":[]})",                                                  // no version
      R"({"version":2,"entries":[]})",                                      // unknown version
      R"({"version":1})",                                                   // no entries
      R"({"version":1,"entries":[1]})",                                     // entry not an object
      R"({"version":1,"entries":[{"kind":"c2s","data":""}]})",              // no t_us
      R"({"version":1,"entries":[{"t_us":1,"kind":"x"}]})",                 // unknown kind
      R"({"version":1,"entries":[{"t_us":1,"kind":"c2s"}]})",               // data missing
      R"({"version":1,"entries":[{"t_us":1,"kind":"c2s","data":"\\q"}]})",  // bad escape
      R"({"version":1,"entries":[{"t_us":1,"kind":"s2c","data":"ab","size":1}]})",
      R"({"version":1,"entries":[{"t_us":1,"kind":"note","text":7}]})",
      R"({"version":1,"entries":[],"bytes":{"c2s":-1}})",
      R"({"version":1,"entries":[],"truncated":"yes"})",
  };
  for (const char* s : bad) {
    auto t = Transcript::FromJsonString(s);
    EXPECT_FALSE(t.ok()) << s;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << s;
    }
  }
}

TEST(Transcript, DebugString) {
  EXPECT_EQ(Sample().DebugString(),
            "+0.000000 [connect] 127.0.0.1:25\n"
            "+0.000812 S: 220 mx ESMTP\\r\\n\n"
            "+0.000901 C: EHLO a\\xff\\r\\n\n"
            "+0.001000 [note] step 2\n");
}

}  // namespace
}  // namespace smtp::harness

namespace smtp::harness {
namespace {

TEST(TranscriptWriteJson, ParsesToExactlyToJson) {
  Transcript t(
      TranscriptOptions{.max_stored_bytes = 64, .max_data_entries = 100, .max_events = 100});
  t.meta().source = "pcap";
  t.meta().client = "[::1]:40000";
  t.meta().started_at = "2026-12-03T00:00:00.000001Z";
  t.AddEventAt(0, EntryKind::kConnect, "127.0.0.1:25");
  t.AddDataAt(1, Direction::kServerToClient, std::string("220 \"q\" \\ \x00\xff\x7f\r\n", 14));
  t.AddDataAt(2, Direction::kClientToServer, "EHLO a\r\n");
  t.AddTls({"TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=\"mx\""});
  t.AddNote(
      "RFC 5321 \xc2\xa7"
      "4.2 \x01 ctl");
  t.AddEvent(EntryKind::kTlsOpaque, "not seen");
  t.AddData(Direction::kClientToServer, std::string(100, 'x'));  // past the cap
  Transcript empty;
  for (const Transcript* x : {&t, &empty}) {
    std::ostringstream out;
    x->WriteJson(out);
    const nlohmann::json parsed = nlohmann::json::parse(out.str());
    EXPECT_EQ(parsed, x->ToJson()) << out.str();
  }
  EXPECT_TRUE(t.truncated());
}

}  // namespace
}  // namespace smtp::harness
