// JUnit XML for CI viewers (Jenkins, GitLab, GitHub test reporters).
//
// Layout (the de-facto schema those viewers read):
//   <testsuites name="smtp-harness" tests= failures= errors= skipped= time=>
//     <testsuite name=GROUP ...>          one per ScenarioResult::group
//       <properties> target, name, banner, tool_version, started_at </properties>
//       <testcase classname=GROUP name="ID: TITLE" time= file=>
//         <failure message= type=LEVEL>expected / actual / step</failure>  (fail)
//         <error message= type="error">...</error>                         (error)
//         <skipped message=REASON/>                                        (skip)
//         <system-out>the transcript, one entry a line</system-out>
// Suites appear in order of their group's first scenario. Every string goes
// through XmlEscape, so the document is well-formed XML 1.0 whatever bytes a
// server sent.
#ifndef SMTP_REPORTS_JUNIT_H_
#define SMTP_REPORTS_JUNIT_H_

#include <string>

#include "results/results.h"

namespace smtp::reports {

std::string RenderJunit(const harness::RunResult& run);

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_JUNIT_H_
