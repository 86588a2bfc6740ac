#include "parser/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parser/command_cases_test_util.h"
#include "parser/command_test_util.h"

namespace smtp {
namespace {

using testing::Describe;
using testing::ExpectFullyConsumed;
using testing::ExpectIntoAgrees;
using testing::ExpectRoundTrip;
using testing::LenientCase;
using testing::LenientCases;
using testing::Parse;

TEST(ParseCommand, LeniencyOffIsAnErrorOnIsADeviation) {
  for (const LenientCase& t : LenientCases()) {
    SCOPED_TRACE(t.line);
    Result<Command> strict = Parse(t.line);
    ASSERT_FALSE(strict.ok()) << Describe(*strict);
    EXPECT_EQ(ErrcName(strict.error().code), ErrcName(t.code));
    EXPECT_EQ(strict.error().offset, t.offset);
    Result<Command> r = Parse(t.line, t.leniencies);
    ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(Describe(*r), t.golden);
    EXPECT_EQ(r->deviations, t.deviations);
    ExpectFullyConsumed(t.line, *r);
    ExpectRoundTrip(*r, t.leniencies, false);
    // The same leniencies plus all others fire the same deviations.
    Result<Command> all = Parse(t.line, kAllLeniencies);
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(*all == *r);
    EXPECT_EQ(all->deviations, t.deviations);
  }
}

TEST(ParseCommandInto, AgreesOnLenientLines) {
  for (const LenientCase& t : LenientCases()) {
    SCOPED_TRACE(t.line);
    for (const Leniencies len : {Leniencies{kStrict}, t.leniencies, Leniencies{kAllLeniencies}}) {
      CommandOptions opts;
      opts.leniencies = len;
      ExpectIntoAgrees(t.line, opts);
    }
  }
}

}  // namespace
}  // namespace smtp
