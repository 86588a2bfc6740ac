// Choosing client scenarios (`run --client`, `list --client`) with run's
// --filter, --tag and --level (scenario::SuiteFilter: each list "any of",
// '!' excludes, the three ANDed), and what a user should hear about filter
// entries that match nothing, with the closest name ("did you mean").
#ifndef SMTP_HARNESS_CLIENT_CLIENT_SELECT_H_
#define SMTP_HARNESS_CLIENT_CLIENT_SELECT_H_

#include <string>
#include <vector>

#include "harness/client/client_scenario.h"
#include "harness/scenario/suite.h"

namespace smtp::client {

struct ClientSelection {
  std::vector<ClientScenario> scenarios;  // kept, in load order
  std::size_t filtered_out = 0;
  // One line per filter entry no loaded scenario matches:
  //   "--tag 'dot-stufing' matches no scenario (did you mean 'dot-stuffing'?)"
  std::vector<std::string> notes;
};

// Whether `filter` keeps `s`.
bool ClientFilterMatches(const scenario::SuiteFilter& filter, const ClientScenario& s);

// Applies `filter` to `all` (a loaded client suite).
ClientSelection SelectClientScenarios(std::vector<ClientScenario> all,
                                      const scenario::SuiteFilter& filter);

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_CLIENT_SELECT_H_
