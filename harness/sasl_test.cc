#include "harness/sasl.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace smtp::sasl {
namespace {

using std::string_literals::operator""s;

// Canonical encodings: Base64Encode produces them, both decoders accept them.
struct Base64Vector {
  std::string plain;
  std::string encoded;
};
const Base64Vector kBase64Vectors[] = {
    // RFC 4648 §10.
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    // Binary octets and the last two alphabet characters.
    {"\0user\0pass"s, "AHVzZXIAcGFzcw=="},
    {"\xff\xfe\xfd", "//79"},
    {"\xfb\xef", "++8="},
    // RFC 2195 §2: the example challenge as the server sends it.
    {"<1896.697170952@postoffice.reston.mci.net>",
     "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"},
};

TEST(SaslBase64, CanonicalVectorsEncodeAndDecodeBothWays) {
  for (const Base64Vector& v : kBase64Vectors) {
    EXPECT_EQ(Base64Encode(v.plain), v.encoded);
    EXPECT_EQ(Base64DecodeStrict(v.encoded), v.plain) << v.encoded;
    EXPECT_EQ(Base64DecodeLenient(v.encoded), v.plain) << v.encoded;
  }
}

// Where the two readings part, and what both reject. nullopt: rejected.
struct DecodeCase {
  std::string why;
  std::string text;
  std::optional<std::string> strict;
  std::optional<std::string> lenient;
};
const DecodeCase kDecodeCases[] = {
    // Lenient only.
    {"padding left off (2 data chars)", "Zg", std::nullopt, "f"},
    {"padding left off (3 data chars)", "Zm9", std::nullopt, "fo"},
    {"padding left off, longer", "Zm9vYg", std::nullopt, "foob"},
    {"pad bits set, ==", "Zh==", std::nullopt, "f"},
    {"pad bits set, =", "Zm9=", std::nullopt, "fo"},
    {"pad bits set, no padding", "YR", std::nullopt, "a"},
    {"SP inside", "Zm 9v", std::nullopt, "foo"},
    {"CRLF after", "Zm9v\r\n", std::nullopt, "foo"},
    {"SP before", " Zg==", std::nullopt, "f"},
    {"HT, VT, FF after", "Zm9v\t\v\f", std::nullopt, "foo"},
    {"SP between the pads", "Zg= =", std::nullopt, "f"},
    {"SP before the pads", "Zg ==", std::nullopt, "f"},
    // Both reject.
    {"part of the padding", "Zg=", std::nullopt, std::nullopt},
    {"part of the padding, SP after", "Zg= ", std::nullopt, std::nullopt},
    {"three pads", "Zg===", std::nullopt, std::nullopt},
    {"one data char and pads", "Z===", std::nullopt, std::nullopt},
    {"one char in the last quantum", "Z", std::nullopt, std::nullopt},
    {"one char in the last quantum, longer", "Zm9vY", std::nullopt, std::nullopt},
    {"data after padding", "Zm8=Zm8=", std::nullopt, std::nullopt},
    {"pad after a full quantum", "Zm9v=", std::nullopt, std::nullopt},
    {"pad first", "=Zm9", std::nullopt, std::nullopt},
    {"pad in the middle", "Zm=v", std::nullopt, std::nullopt},
    {"pads only", "====", std::nullopt, std::nullopt},
    {"not in the alphabet", "*", std::nullopt, std::nullopt},
    {"not in the alphabet, four", "!!!!", std::nullopt, std::nullopt},
    {"base64url alphabet (RFC 4648 §5)", "-_8=", std::nullopt, std::nullopt},
    {"NUL", "Zm9v\0"s, std::nullopt, std::nullopt},
};

TEST(SaslBase64, StrictAndLenientDecoding) {
  for (const DecodeCase& c : kDecodeCases) {
    EXPECT_EQ(Base64DecodeStrict(c.text), c.strict) << c.why;
    EXPECT_EQ(Base64DecodeLenient(c.text), c.lenient) << c.why;
    // Strict is a subset of lenient, with the same value.
    if (c.strict) {
      EXPECT_EQ(c.strict, c.lenient) << c.why;
    }
  }
}

struct HmacCase {
  std::string why;
  std::string key;
  std::string message;
  std::string hex;
};
const HmacCase kHmacCases[] = {
    {"RFC 2104 test 1", std::string(16, '\x0b'), "Hi There", "9294727a3638bb1c13f48ef8158bfc9d"},
    {"RFC 2104 test 2", "Jefe", "what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"},
    {"RFC 2104 test 3", std::string(16, '\xaa'), std::string(50, '\xdd'),
     "56be34521d144c88dbb8c733f0e8b3f6"},
    {"RFC 2195 §2", "tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>",
     "b913a602c7eda7a495b4e6e7334d3890"},
    {"empty key and message", "", "", "74e6f7298a9c2d168935f58c001bad88"},
};

TEST(SaslHmacMd5, Vectors) {
  for (const HmacCase& c : kHmacCases) {
    EXPECT_EQ(HmacMd5Hex(c.key, c.message), c.hex) << c.why;
  }
}

// RFC 2195 §2: the whole exchange of the example.
TEST(SaslCramMd5, Rfc2195Example) {
  const std::optional<std::string> challenge =
      Base64DecodeStrict("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
  ASSERT_TRUE(challenge.has_value());
  const std::string response = CramMd5Response("tim", "tanstaaftanstaaf", *challenge);
  EXPECT_EQ(response, "tim b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_EQ(Base64Encode(response), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
  EXPECT_EQ(ParseCramMd5Response(response),
            (CramMd5Fields{"tim", "b913a602c7eda7a495b4e6e7334d3890"}));
}

struct CramParseCase {
  std::string response;
  std::optional<CramMd5Fields> fields;
};
const CramParseCase kCramParseCases[] = {
    {"tim b913a602c7eda7a495b4e6e7334d3890",
     CramMd5Fields{"tim", "b913a602c7eda7a495b4e6e7334d3890"}},
    {"first last 0123", CramMd5Fields{"first last", "0123"}},  // the last SP splits
    {" 0123", CramMd5Fields{"", "0123"}},
    {"tim ", CramMd5Fields{"tim", ""}},
    {"tim", std::nullopt},
    {"", std::nullopt},
};

TEST(SaslCramMd5, ParseSplitsAtTheLastSpace) {
  for (const CramParseCase& c : kCramParseCases) {
    EXPECT_EQ(ParseCramMd5Response(c.response), c.fields) << c.response;
  }
}

struct PlainCase {
  std::string message;
  std::optional<PlainMessage> parsed;
};
const PlainCase kPlainCases[] = {
    // RFC 4616 §4 examples.
    {"\0tim\0tanstaaftanstaaf"s, PlainMessage{"", "tim", "tanstaaftanstaaf"}},
    {"Ursel\0Kurt\0xipj3plmq"s, PlainMessage{"Ursel", "Kurt", "xipj3plmq"}},
    {"admin\0user\0pw"s, PlainMessage{"admin", "user", "pw"}},
    {"\0a\0b"s, PlainMessage{"", "a", "b"}},
    // Rejected.
    {"user\0pw"s, std::nullopt},   // one NUL
    {"\0\0pw"s, std::nullopt},     // empty authcid
    {"\0user\0"s, std::nullopt},   // empty passwd
    {"\0a\0b\0c"s, std::nullopt},  // three NULs
    {"", std::nullopt},
};

TEST(SaslPlain, ParseAndSerializeRoundTrip) {
  for (const PlainCase& c : kPlainCases) {
    EXPECT_EQ(ParsePlainMessage(c.message), c.parsed) << Base64Encode(c.message);
    if (c.parsed) {
      EXPECT_EQ(SerializePlainMessage(*c.parsed), c.message);
    }
  }
}

// The AUTH PLAIN initial response the runner sends, byte for byte.
TEST(SaslPlain, WireForm) {
  EXPECT_EQ(Base64Encode(SerializePlainMessage({.authcid = "tim", .passwd = "tanstaaftanstaaf"})),
            "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

TEST(SaslXoauth2, GoogleExample) {
  const std::string message =
      Xoauth2Message("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
  EXPECT_EQ(message,
            "user=someuser@example.com\x01"
            "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
  EXPECT_EQ(Base64Encode(message),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbG"
            "NrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

}  // namespace
}  // namespace smtp::sasl
