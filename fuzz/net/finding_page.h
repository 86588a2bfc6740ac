// What a finding's files and report page show besides the verdict: its
// steps as text, a reproduction without smtp-harness, and where in its
// transcript the reply that tripped the oracle is (the report highlights
// it). Pure functions over a session input and its transcript.
#ifndef SMTP_FUZZ_NET_FINDING_PAGE_H_
#define SMTP_FUZZ_NET_FINDING_PAGE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "results/session_input.h"
#include "results/transcript.h"

namespace smtp::fuzz {

// The steps of a session, one line each, with their bytes shown (escaped,
// at most 200 per step): "command EHLO x", "| command RCPT TO:<a@b>"
// (pipelined), "raw \"HELP %\\r\\n\"", "bdat last \"...\"", "data \"...\"",
// "starttls". A finding's steps say what was sent, not only how much.
std::string StepsText(const SessionInput& in);

// A few lines of Python that send the session's client bytes write by
// write over a plain socket and print what comes back: a reproduction a
// maintainer can paste. "" for a target that is not HOST:PORT, a session
// too long to paste, or a recording that sent nothing (the server took no
// session when it was made: a script that writes nothing reproduces
// nothing; the finding's steps still say what was sent).
std::string RawReproduction(const harness::Transcript& t, std::string_view target);

// The lines of the transcript that hold the server's reply number
// `reply_index` (0: the greeting), as (entry index, line index within that
// entry's bytes split after each LF) pairs, in order: what the report
// highlights as the reply that tripped the oracle. Replies are framed as
// the session read them (parser/reply.h; a malformed one runs to the end of
// its line, then reading resumes). Empty when there is no such reply.
std::vector<std::pair<std::size_t, std::size_t>> TripLines(const harness::Transcript& t,
                                                           std::size_t reply_index);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_FINDING_PAGE_H_
