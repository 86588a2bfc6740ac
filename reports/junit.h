// JUnit XML for CI viewers (Jenkins, GitLab, GitHub test reporters).
//
// Layout (the de-facto schema those viewers read):
//   <testsuites name="smtp-harness" tests= failures= errors= skipped= time=>
//     <testsuite name=GROUP ...>          one per ScenarioResult::group
//       <properties> target, name, banner, tool_version, started_at,
//                    command_line, fail_on </properties>
//       <testcase classname="smtp-harness.GROUP'" name="ID — TITLE" time= file=>
//         <failure message= type=LEVEL>expected / actual / step</failure>
//             a fail at a level that decides the exit status (RunResult::Decides)
//         <skipped message="LEVEL finding (not in fail-on ...): ...">details</skipped>
//             a fail at any other level (SHOULD, MAY, policy by default)
//         <error message= type="error">...</error>        (error)
//         <skipped message=REASON/>                        (skip)
//         <system-out>the transcript, one entry a line</system-out>
//             failures, findings and errors only, unless passing_transcripts
// GROUP' is the group with '.' replaced by '_': Jenkins takes the text after
// the last dot of a classname as the class and the rest as the package, so
// "RFC 5321 §4.1" must not reach it with its dots (docs/reports.md).
// A run that exits 0 therefore has no <failure> and no <error>.
// Suites appear in order of their group's first scenario. Every string goes
// through XmlEscape, so the document is well-formed XML 1.0 whatever bytes a
// server sent.
#ifndef SMTP_REPORTS_JUNIT_H_
#define SMTP_REPORTS_JUNIT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "results/results.h"

namespace smtp::reports {

struct JunitOptions {
  // Also write the transcripts of passing and skipped scenarios (a suite's
  // passing transcripts can be most of the file; results.json and
  // index.html always have them).
  bool passing_transcripts = false;
  // Transcript text kept per test case; a longer one is cut at a line end
  // with a note saying how much is left out. 0: no limit.
  std::size_t max_transcript_bytes = 64 * 1024;
};

std::string RenderJunit(const harness::RunResult& run, const JunitOptions& options = {});

// The classname of a scenario of `group`: "smtp-harness." + the group with
// '.' replaced by '_' ("(ungrouped)" for an empty group).
std::string JunitClassName(std::string_view group);

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_JUNIT_H_
