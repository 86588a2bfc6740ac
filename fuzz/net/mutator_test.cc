#include "fuzz/net/mutator.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/mutator_grammar.h"
#include "gtest/gtest.h"
#include "parser/command.h"

namespace smtp::fuzz {
namespace {

constexpr std::size_t kMaxLen = 4096;  // libFuzzer's default -max_len

// MutateSession on a copy of `in` in a buffer of max_size octets.
std::string MutateBytes(std::string_view in, std::size_t max_size, unsigned seed,
                        const MutatorOptions& options = {}, ByteMutator bm = nullptr) {
  std::string buf(std::max(max_size, in.size()), '\0');
  std::copy(in.begin(), in.end(), buf.begin());
  const std::size_t n = MutateSession(reinterpret_cast<std::uint8_t*>(buf.data()),
                                      std::min(in.size(), max_size), max_size, seed, options, bm);
  EXPECT_LE(n, max_size);
  buf.resize(n);
  return buf;
}

std::string CrossBytes(std::string_view a, std::string_view b, std::size_t max_out, unsigned seed) {
  std::string out(max_out, '\0');
  const std::size_t n =
      CrossOverSessions(reinterpret_cast<const std::uint8_t*>(a.data()), a.size(),
                        reinterpret_cast<const std::uint8_t*>(b.data()), b.size(),
                        reinterpret_cast<std::uint8_t*>(out.data()), max_out, seed);
  EXPECT_LE(n, max_out);
  out.resize(n);
  return out;
}

bool IsCanonical(std::string_view bytes) {
  return SerializeSessionInput(ParseSessionInput(bytes)) == bytes;
}

std::string Typical(unsigned seed) { return SerializeSessionInput(MakeTypicalSession(seed)); }

TEST(MutatorTest, TypicalSessionsAreDeepAndStrictlyValid) {
  for (unsigned seed = 0; seed < 1000; ++seed) {
    const SessionInput in = MakeTypicalSession(seed);
    ASSERT_TRUE(FindTransaction(in, /*strict=*/true)) << DebugString(in);
    EXPECT_EQ(FindTransaction(in, true)->hello, 0u);
    EXPECT_EQ(MakeTypicalSession(seed), in);
  }
}

TEST(MutatorTest, FindTransaction) {
  const auto cmd = [](std::string s) { return SessionStep{StepKind::kCommand, std::move(s)}; };
  SessionInput in{
      {cmd("ehlo a"), cmd("NOOP"), cmd("mail FROM:<a@b>"), cmd("RCPT TO:<c@d>"), cmd("DATA")}};
  ASSERT_TRUE(FindTransaction(in, true));
  EXPECT_EQ(FindTransaction(in, true)->mail, 2u);
  EXPECT_EQ(FindTransaction(in, true)->data, 4u);
  in.steps[3].bytes = "RCPT TO:<c@d";  // shape holds, syntax does not
  EXPECT_TRUE(FindTransaction(in, false));
  EXPECT_FALSE(FindTransaction(in, true));
  std::swap(in.steps[2], in.steps[3]);  // RCPT before MAIL
  EXPECT_FALSE(FindTransaction(in, false));
  const SessionInput raw{{cmd("EHLO a"),
                          {StepKind::kRaw, "MAIL FROM:<a@b>\r\n"},
                          cmd("RCPT TO:<c@d>"),
                          {StepKind::kBdat, "x", false, true}}};
  EXPECT_FALSE(FindTransaction(raw, false));  // a raw step is not a MAIL
  const SessionInput bdat{{cmd("HELO a"),
                           cmd("MAIL FROM:<>"),
                           cmd("RCPT TO:<c@d>"),
                           cmd("BDAT 1 LAST"),
                           {StepKind::kRaw, "x"}}};
  EXPECT_TRUE(FindTransaction(bdat, true));
}

TEST(MutatorTest, DeterministicPerSeed) {
  int differ = 0;
  for (unsigned seed = 0; seed < 300; ++seed) {
    const std::string in = Typical(seed % 7);
    const std::string a = MutateBytes(in, kMaxLen, seed);
    EXPECT_EQ(a, MutateBytes(in, kMaxLen, seed)) << seed;
    if (a != MutateBytes(in, kMaxLen, seed + 1000)) ++differ;
    EXPECT_EQ(CrossBytes(in, Typical(seed), kMaxLen, seed),
              CrossBytes(in, Typical(seed), kMaxLen, seed));
  }
  EXPECT_GT(differ, 250);  // and the seed matters
}

TEST(MutatorTest, OutputFitsAndIsCanonical) {
  const std::size_t sizes[] = {0, 1, 2, 3, 5, 8, 16, 32, 64, 100, 200, 512, 1024, kMaxLen};
  for (const std::size_t max_size : sizes) {
    std::string walk = Typical(1);
    for (unsigned seed = 0; seed < 300; ++seed) {
      const std::string out = MutateBytes(Typical(seed), max_size, seed);
      ASSERT_LE(out.size(), max_size);
      ASSERT_TRUE(IsCanonical(out)) << max_size << " " << seed;
      walk = MutateBytes(walk, max_size, seed);  // a chain of mutations
      ASSERT_LE(walk.size(), max_size);
      ASSERT_TRUE(IsCanonical(walk)) << max_size << " " << seed;
      const std::string x = CrossBytes(Typical(seed), walk, max_size, seed);
      ASSERT_LE(x.size(), max_size);
      ASSERT_TRUE(IsCanonical(x));
    }
  }
  // Non-canonical input (unknown kinds, non-minimal lengths) comes out canonical.
  const std::string odd = "\x00\x02zz\x01\x81\x80\x00Q\xc1\x04NOOP" + std::string(1, '\x07');
  for (unsigned seed = 0; seed < 100; ++seed) {
    EXPECT_TRUE(IsCanonical(MutateBytes(odd, 256, seed)));
  }
}

// Whatever bytes come in (libFuzzer hands over inputs its own mutations
// made), the output fits and is canonical; crossover too.
TEST(MutatorTest, ArbitraryBytesIn) {
  Rng rng(99);
  for (unsigned seed = 0; seed < 3000; ++seed) {
    std::string bytes(rng.Below(300), '\0');
    for (char& c : bytes) c = static_cast<char>(rng.OneIn(3) ? rng.Next() : rng.Below(8));
    const std::size_t max_size = bytes.size() + rng.Below(600);
    const std::string out = MutateBytes(bytes, max_size, seed);
    ASSERT_LE(out.size(), max_size);
    ASSERT_TRUE(IsCanonical(out)) << seed;
    const std::string x = CrossBytes(bytes, out, max_size, seed);
    ASSERT_LE(x.size(), max_size);
    ASSERT_TRUE(IsCanonical(x)) << seed;
  }
}

TEST(MutatorTest, FitToSizeSparesTheTransaction) {
  SessionInput in = MakeTypicalSession(2);
  const std::size_t deep_size = SerializeSessionInput(in).size();
  for (int i = 0; i < 50; ++i) in.steps.push_back({StepKind::kCommand, "NOOP padding"});
  FitToSize(in, deep_size);
  EXPECT_LE(SerializeSessionInput(in).size(), deep_size);
  EXPECT_TRUE(FindTransaction(in, true)) << DebugString(in);
  FitToSize(in, 0);
  EXPECT_TRUE(in.steps.empty());
}

TEST(MutatorTest, EmptyInputBecomesASession) {
  for (unsigned seed = 0; seed < 200; ++seed) {
    const std::string out = MutateBytes("", kMaxLen, seed);
    const SessionInput in = ParseSessionInput(out);
    EXPECT_GE(in.steps.size(), 3u) << seed;
    EXPECT_EQ(SerializeSessionInput(in), out);
  }
}

// Every operator fires when chosen by weight, and each leaves the mark of
// what it does at least once over a few hundred seeds.
TEST(MutatorTest, EveryOperatorFires) {
  std::array<int, kMutationOps> fired{};
  for (unsigned seed = 0; seed < 20000; ++seed) {
    SessionInput in = MakeTypicalSession(seed);
    const SessionInput other = MakeTypicalSession(seed + 77);
    Rng rng(seed);
    ++fired[static_cast<std::size_t>(Mutate(in, rng, {nullptr, nullptr, &other, kMaxLen}))];
  }
  for (std::size_t i = 0; i < kMutationOps; ++i) {
    const auto op = static_cast<MutationOp>(i);
    std::printf("%-15s %5d\n", std::string(MutationOpName(op)).c_str(), fired[i]);
    EXPECT_GT(fired[i], 0) << MutationOpName(op);
  }
}

bool AnyStep(const SessionInput& in, const std::function<bool(const SessionStep&)>& f) {
  return std::any_of(in.steps.begin(), in.steps.end(), f);
}
bool Contains(const SessionInput& in, std::string_view s) {
  return AnyStep(in, [&](const SessionStep& x) { return x.bytes.find(s) != std::string::npos; });
}

TEST(MutatorTest, OperatorsDoWhatTheySay) {
  const auto mail = [](const SessionInput& in) {
    for (const SessionStep& s : in.steps) {
      if (grammar::IsVerb(s, "MAIL")) return s.bytes;
    }
    return std::string();
  };
  const struct {
    MutationOp op;
    std::function<bool(const SessionInput& before, const SessionInput& after)> mark;
  } rows[] = {
      {MutationOp::kInsertStep, [](auto& b, auto& a) { return a.steps.size() > b.steps.size(); }},
      {MutationOp::kDeleteStep, [](auto& b, auto& a) { return a.steps.size() < b.steps.size(); }},
      {MutationOp::kDuplicateStep,
       [](auto& b, auto& a) { return a.steps.size() == b.steps.size() + 1; }},
      {MutationOp::kSwapSteps,
       [](auto& b, auto& a) { return a.steps.size() == b.steps.size() && a != b; }},
      {MutationOp::kMoveStep,
       [](auto& b, auto& a) { return a.steps.size() == b.steps.size() && a != b; }},
      {MutationOp::kSplice, [](auto&, auto& a) { return Contains(a, "other.example"); }},
      {MutationOp::kVerb,
       [](auto&, auto& a) { return Contains(a, "VRFY") || Contains(a, "ETRN"); }},
      {MutationOp::kVerbCase,
       [](auto&, auto& a) { return Contains(a, "mail FROM") || Contains(a, "rcpt TO"); }},
      {MutationOp::kArgument, [](auto&, auto& a) { return Contains(a, "EHLO [IPv6:"); }},
      {MutationOp::kPath,
       [&](auto&, auto& a) { return mail(a).find("FROM:<>") != std::string::npos; }},
      {MutationOp::kMailParam,
       [&](auto&, auto& a) { return mail(a).find("RET=HDRS") != std::string::npos; }},
      {MutationOp::kRcptParam, [](auto&, auto& a) { return Contains(a, "ORCPT=rfc822;"); }},
      {MutationOp::kTransaction,
       [](auto& b, auto& a) {  // still a valid transaction, and changed
         return a != b && FindTransaction(a, /*strict=*/true).has_value();
       }},
      {MutationOp::kNumber, [](auto&, auto& a) { return Contains(a, "4294967295"); }},
      {MutationOp::kDictionary, [](auto&, auto& a) { return Contains(a, "XTOKEN"); }},
      {MutationOp::kSmuggle,
       [](auto&, auto& a) { return Contains(a, "\n.\n") && Contains(a, "smuggled@"); }},
      {MutationOp::kLongLine,
       [](auto&, auto& a) {
         return AnyStep(a, [](const SessionStep& s) {
           return s.kind == StepKind::kCommand && s.bytes.size() == 511;  // 513 with CRLF
         });
       }},
      {MutationOp::kPipeline,
       [](auto&, auto& a) {
         return grammar::IsVerb(a.steps[1], "MAIL") && a.steps[1].pipelined && a.steps[2].pipelined;
       }},
      {MutationOp::kStartTls,
       [](auto&, auto& a) {
         return a.steps[1].kind == StepKind::kStartTls && grammar::IsVerb(a.steps[2], "EHLO");
       }},
      {MutationOp::kAuth,
       [](auto&, auto& a) { return a.steps[1].bytes == "AUTH LOGIN" && a.steps.size() > 3; }},
      {MutationOp::kBdat,
       [](auto&, auto& a) {
         return AnyStep(a, [](const SessionStep& s) { return s.kind == StepKind::kBdat; });
       }},
      {MutationOp::kDataBody, [](auto&, auto& a) { return Contains(a, "\r\n..\r\n"); }},
      {MutationOp::kRawLineEnd,
       [](auto&, auto& a) {
         return AnyStep(a, [](const SessionStep& s) {
           return s.kind == StepKind::kRaw && s.bytes.ends_with("\n") && !s.bytes.ends_with("\r\n");
         });
       }},
      {MutationOp::kBytes, [](auto& b, auto& a) { return a != b; }},
  };
  ASSERT_EQ(std::size(rows), kMutationOps);
  MutatorOptions options;
  options.dictionary = {"XTOKEN"};
  SessionInput other{{{StepKind::kCommand, "HELO other.example"}}};
  for (const auto& row : rows) {
    int marked = 0;
    for (unsigned seed = 0; seed < 500; ++seed) {
      // A plain session: no pipelining, DATA (not BDAT), no QUIT.
      const SessionInput before = MakeTypicalSession(0);
      SessionInput after = before;
      Rng rng(seed);
      if (!ApplyMutation(row.op, after, rng, {&options, nullptr, &other, kMaxLen})) continue;
      if (row.mark(before, after)) ++marked;
    }
    EXPECT_GT(marked, 0) << MutationOpName(row.op);
  }
}

std::size_t g_byte_mutator_calls = 0;
std::size_t MarkBytes(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  ++g_byte_mutator_calls;
  if (size < max_size) data[size++] = '~';
  return size;
}

TEST(MutatorTest, UsesTheByteMutator) {
  int marked = 0;
  for (unsigned seed = 0; seed < 200; ++seed) {
    SessionInput in = MakeTypicalSession(seed);
    Rng rng(seed);
    ASSERT_TRUE(ApplyMutation(MutationOp::kBytes, in, rng, {nullptr, MarkBytes, nullptr, kMaxLen}));
    marked += Contains(in, "~");
  }
  EXPECT_EQ(g_byte_mutator_calls, 200u);
  EXPECT_EQ(marked, 200);
  // Through the byte-level entry point too.
  g_byte_mutator_calls = 0;
  for (unsigned seed = 0; seed < 2000; ++seed)
    MutateBytes(Typical(seed), kMaxLen, seed, {}, MarkBytes);
  EXPECT_GT(g_byte_mutator_calls, 0u);
}

TEST(MutatorTest, CrossOverTakesStepsFromBothParents) {
  // Parents whose every payload says which parent it comes from.
  const auto tagged = [](unsigned seed, char tag) {
    SessionInput in = MakeTypicalSession(seed);
    for (SessionStep& s : in.steps) s.bytes += std::string(" #") + tag;
    return in;
  };
  int deep = 0;
  for (unsigned seed = 0; seed < 1000; ++seed) {
    const SessionInput a = tagged(seed, 'a'), b = tagged(seed + 1, 'b');
    const SessionInput x = ParseSessionInput(
        CrossBytes(SerializeSessionInput(a), SerializeSessionInput(b), kMaxLen, seed));
    EXPECT_TRUE(Contains(x, "#a")) << seed;
    EXPECT_TRUE(Contains(x, "#b")) << seed;
    EXPECT_TRUE(x.steps[0].bytes.ends_with("#a"));  // a's greeting comes first
    deep += FindTransaction(x, false).has_value();
  }
  EXPECT_GT(deep, 500);
}

// The deep fraction (docs/fuzzing.md, "Mutator"). "Shape": the session
// still has EHLO, MAIL, RCPT and DATA/BDAT in that order (FindTransaction);
// "strict": those commands also parse strictly, so a conforming server
// accepts them and the session gets past MAIL and RCPT. Measured over
// 10,000 single MutateSession calls on typical sessions (how libFuzzer uses
// the mutator on seeds and corpus entries), and along one chain of 10,000
// mutations, each of the one before (nothing selects for depth there, unlike
// a corpus: the worst case).
//
// The seeds are fixed, so the figures are exact and the test cannot flake.
// The bounds sit 5-15 points under what was measured (one: 0.944 / 0.817,
// chain: 0.942 / 0.634 at the time of writing): a change of operators or
// weights that makes depth markedly worse fails here, a small one does not.
// Why not higher: 7 of the 23 operators may break the shape (delete, swap,
// move, verb, dictionary, raw-line-end, bytes), though all but dictionary
// spare the transaction 7 times in 8; the MAIL/RCPT operators (path,
// parameters, numbers, long lines) break syntax on purpose about a third of
// the time.
TEST(MutatorTest, MostMutatedSessionsStayDeep) {
  constexpr int kRuns = 10000;
  int shape = 0, strict = 0, chain_shape = 0, chain_strict = 0;
  std::size_t chain_steps = 0;
  std::string walk = Typical(0);
  for (unsigned seed = 0; seed < kRuns; ++seed) {
    const SessionInput one = ParseSessionInput(MutateBytes(Typical(seed), kMaxLen, seed));
    shape += FindTransaction(one, false).has_value();
    strict += FindTransaction(one, true).has_value();
    walk = MutateBytes(walk, kMaxLen, seed + kRuns);
    const SessionInput w = ParseSessionInput(walk);
    chain_shape += FindTransaction(w, false).has_value();
    chain_strict += FindTransaction(w, true).has_value();
    chain_steps += w.steps.size();
  }
  std::printf("deep after one mutation: shape %.3f, strict %.3f\n", 1.0 * shape / kRuns,
              1.0 * strict / kRuns);
  std::printf("deep along a chain of %d: shape %.3f, strict %.3f, %.1f steps on average\n", kRuns,
              1.0 * chain_shape / kRuns, 1.0 * chain_strict / kRuns, 1.0 * chain_steps / kRuns);
  EXPECT_GE(shape, kRuns * 85 / 100);
  EXPECT_GE(strict, kRuns * 70 / 100);
  EXPECT_GE(chain_shape, kRuns * 80 / 100);
  EXPECT_GE(chain_strict, kRuns * 50 / 100);
}

TEST(MutatorGrammarTest, Base64) {
  EXPECT_EQ(grammar::Base64(""), "");
  EXPECT_EQ(grammar::Base64("f"), "Zg==");
  EXPECT_EQ(grammar::Base64("fo"), "Zm8=");
  EXPECT_EQ(grammar::Base64("foo"), "Zm9v");
  EXPECT_EQ(grammar::Base64(std::string_view("\0user\0pass", 10)), "AHVzZXIAcGFzcw==");
}

TEST(MutatorGrammarTest, VerbsComeFromTheParser) {
  const auto& verbs = grammar::KnownVerbs();
  ASSERT_FALSE(verbs.empty());
  EXPECT_EQ(verbs.front(), "EHLO");
  EXPECT_EQ(verbs.back(), VerbName(Verb::kEtrn));
  EXPECT_EQ(verbs.size(), static_cast<std::size_t>(Verb::kEtrn));
}

TEST(MutatorGrammarTest, ValidFormsParse) {
  // Most generated MAIL and RCPT commands are accepted by the strict parser,
  // and some are not: the grammar probes both sides.
  int mail_ok = 0, rcpt_ok = 0;
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    mail_ok += ParseCommand(grammar::CommandFor("MAIL", rng) + "\r\n").ok();
    rcpt_ok += ParseCommand(grammar::CommandFor("RCPT", rng) + "\r\n").ok();
  }
  std::printf("strictly valid: MAIL %d/1000, RCPT %d/1000\n", mail_ok, rcpt_ok);
  EXPECT_GT(mail_ok, 400);
  EXPECT_LT(mail_ok, 1000);
  EXPECT_GT(rcpt_ok, 400);
  EXPECT_LT(rcpt_ok, 1000);
}

TEST(MutatorGrammarTest, ValidParamsAreValid) {
  // The transaction operator's parameters parse, each on its own command.
  Rng rng(7);
  for (int i = 0; i < 500; ++i) {
    const std::string mail = "MAIL FROM:<a@example.org> " + grammar::ValidMailParam(rng);
    const std::string rcpt = "RCPT TO:<b@example.org> " + grammar::ValidRcptParam(rng);
    CommandOptions opts;
    opts.utf8 = true;  // SMTPUTF8 is a MAIL parameter the server advertises
    EXPECT_TRUE(ParseCommand(mail + "\r\n", opts).ok()) << mail;
    EXPECT_TRUE(ParseCommand(rcpt + "\r\n", opts).ok()) << rcpt;
  }
}

TEST(MutatorTest, TransactionOperatorKeepsTheTransactionValid) {
  // From typical sessions: each of its changes happens, and the transaction
  // still parses strictly afterwards.
  int more_rcpts = 0, empty_last = 0, data_to_bdat = 0, params = 0, tightened = 0, applied = 0;
  const auto count = [](const SessionInput& in, auto pred) {
    return std::count_if(in.steps.begin(), in.steps.end(), pred);
  };
  const auto rcpt = [](const SessionStep& s) { return grammar::IsVerb(s, "RCPT"); };
  for (unsigned seed = 0; seed < 2000; ++seed) {
    SessionInput before = MakeTypicalSession(seed);
    // Something between the RCPTs and the body for the operator to drop.
    before.steps.insert(before.steps.end() - 1, {StepKind::kCommand, "NOOP"});
    SessionInput after = before;
    Rng rng(seed);
    if (!ApplyMutation(MutationOp::kTransaction, after, rng, {nullptr, nullptr, nullptr, kMaxLen}))
      continue;
    ++applied;
    EXPECT_TRUE(FindTransaction(after, /*strict=*/true).has_value())
        << SerializeSessionInput(after);
    more_rcpts += count(after, rcpt) == count(before, rcpt) + 1;
    empty_last += AnyStep(after, [](const SessionStep& s) {
      return s.kind == StepKind::kBdat && s.last && s.bytes.empty();
    });
    data_to_bdat +=
        AnyStep(before, [](const SessionStep& s) { return s.kind == StepKind::kData; }) &&
        !AnyStep(after, [](const SessionStep& s) { return s.kind == StepKind::kData; });
    params += Contains(after, "NOTIFY=NEVER") && !Contains(before, "NOTIFY=NEVER");
    tightened += after.steps.size() < before.steps.size();
  }
  std::printf(
      "applied %d: +RCPT %d, empty BDAT LAST %d, DATA->BDAT %d, NOTIFY=NEVER %d, "
      "tightened %d\n",
      applied, more_rcpts, empty_last, data_to_bdat, params, tightened);
  EXPECT_GT(applied, 1600);  // "drop what came between" has nothing to drop when the NOOP went last
  EXPECT_GT(more_rcpts, 100);
  EXPECT_GT(empty_last, 50);
  EXPECT_GT(data_to_bdat, 100);
  EXPECT_GT(params, 10);
  EXPECT_GT(tightened, 100);
}

}  // namespace
}  // namespace smtp::fuzz
