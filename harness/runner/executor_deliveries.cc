// The expect_delivery step: what the target delivered over this scenario's
// connections (deliveries.h) — RFC 5321 §4.4 trace fields, §4.5.2 dot
// unstuffing, §2.4 local-part case, RFC 6152 §3 8-bit transparency, RFC
// 2920 §3.2 (4) non-delivery.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "harness/runner/executor_internal.h"

namespace smtp::runner::internal {

namespace {

using std::chrono::milliseconds;

// Servers commit a message before they send its 250, so a delivery is
// normally visible at once; a count still short is re-read this often, up to
// kDeliveryWait (bounded by the step deadline).
constexpr milliseconds kDeliveryPoll{20};
constexpr milliseconds kDeliveryWait{1'000};

// Content lines: split at LF, a CR before it removed.
std::vector<std::string_view> Lines(std::string_view content) {
  std::vector<std::string_view> out;
  while (!content.empty()) {
    const std::size_t lf = content.find('\n');
    std::string_view line = content.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (lf == std::string_view::npos) break;
    content.remove_prefix(lf + 1);
  }
  return out;
}

std::string Slashed(const scenario::Regex& re) { return "/" + re.source() + "/"; }

}  // namespace

std::vector<Delivery> Executor::Deliveries() const {
  std::vector<Delivery> out;
  for (const Client& c : clients_) {
    std::vector<Delivery> mine = options_.deliveries->From({c.address});
    const std::size_t skip = std::min(c.deliveries_before, mine.size());
    out.insert(out.end(), std::make_move_iterator(mine.begin() + static_cast<std::ptrdiff_t>(skip)),
               std::make_move_iterator(mine.end()));
  }
  return out;
}

Outcome Executor::CheckDelivery(const scenario::ExpectDeliveryStep& a, const Delivery& got,
                                const std::string& contains, std::string_view what) const {
  const std::string at(what);
  const bool content_checked = a.first_line || a.line || a.not_line || a.contains;
  if (content_checked && got.truncated && got.content.empty()) {
    return Error(at +
                 "the target's sink kept no message content to check (serve: --sink_body_limit)");
  }
  const std::vector<std::string_view> lines = Lines(got.content);
  auto any = [&](const scenario::Regex& re) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](std::string_view l) { return re.Search(l); });
  };
  const std::string first = lines.empty() ? std::string() : std::string(lines[0]);
  if (a.first_line && !(!lines.empty() && a.first_line->Search(lines[0]))) {
    return Fail("first line matching " + Slashed(*a.first_line), Quote(first),
                at + "the first line of the delivered message is " + Quote(first));
  }
  if (a.line && !any(*a.line)) {
    return Fail("a line matching " + Slashed(*a.line), Quote(got.content),
                at + "no line of the delivered message matches " + Slashed(*a.line));
  }
  if (a.not_line) {
    for (std::string_view l : lines) {
      if (!a.not_line->Search(l)) continue;
      return Fail("no line matching " + Slashed(*a.not_line), Quote(l),
                  at + "the delivered message has the line " + Quote(l));
    }
  }
  if (a.contains && got.content.find(contains) == std::string::npos) {
    return Fail("content containing " + Quote(contains), Quote(got.content),
                at + "the delivered message does not contain " + Quote(contains) +
                    (got.truncated ? " (the sink kept only a prefix)" : ""));
  }
  if (a.mail_from && !a.mail_from->Search(got.mail_from)) {
    return Fail("reverse-path matching " + Slashed(*a.mail_from), "<" + got.mail_from + ">",
                at + "delivered with reverse-path <" + got.mail_from + ">");
  }
  std::string rcpts;
  for (const std::string& r : got.rcpt_to) rcpts += (rcpts.empty() ? "<" : ", <") + r + ">";
  if (a.rcpt && std::none_of(got.rcpt_to.begin(), got.rcpt_to.end(),
                             [&](const std::string& r) { return a.rcpt->Search(r); })) {
    return Fail("a recipient matching " + Slashed(*a.rcpt), rcpts,
                at + "no delivered recipient matches " + Slashed(*a.rcpt) + ": " + rcpts);
  }
  if (a.rcpt_count && static_cast<int>(got.rcpt_to.size()) != *a.rcpt_count) {
    return Fail(std::to_string(*a.rcpt_count) + " recipients",
                std::to_string(got.rcpt_to.size()) + " recipients",
                at + "delivered to " + std::to_string(got.rcpt_to.size()) + " recipients, not " +
                    std::to_string(*a.rcpt_count));
  }
  return Pass();
}

asio::awaitable<Outcome> Executor::Do(const scenario::ExpectDeliveryStep& a, Deadline d, Deadline) {
  if (options_.deliveries == nullptr) {
    co_return Error("expect_delivery: the target offers no deliveries to check");
  }
  if (clients_.empty()) {
    co_return Error("expect_delivery: no connection of this scenario has a client address");
  }
  std::string contains;
  if (a.contains) {
    Outcome e = Expand(*a.contains, &contains);
    if (!e.ok()) co_return e;
  }
  const Deadline wait_until = std::min(d, harness::In(kDeliveryWait));
  std::vector<Delivery> got = Deliveries();
  while (static_cast<int>(got.size()) < a.count && Clock::now() < wait_until) {
    co_await SleepUntil(std::min(wait_until, harness::In(kDeliveryPoll)));
    got = Deliveries();
  }
  session_.transcript().AddNote("expect_delivery: " + std::to_string(got.size()) +
                                " message(s) delivered from this scenario's connections");
  if (static_cast<int>(got.size()) != a.count) {
    co_return Fail(std::to_string(a.count) + " delivered message(s)",
                   std::to_string(got.size()) + " delivered",
                   "the target delivered " + std::to_string(got.size()) +
                       " message(s) from this scenario, expected " + std::to_string(a.count));
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::string what = got.size() == 1 ? std::string()
                                             : "delivery " + std::to_string(i + 1) + "/" +
                                                   std::to_string(got.size()) + ": ";
    Outcome o = CheckDelivery(a, got[i], contains, what);
    if (!o.ok()) co_return o;
  }
  co_return Pass();
}

}  // namespace smtp::runner::internal
