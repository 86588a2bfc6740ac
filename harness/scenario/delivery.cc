#include "harness/scenario/delivery.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "parser/ascii.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

bool Allows(const Expectation& e, int code) {
  return std::any_of(e.codes.begin(), e.codes.end(),
                     [code](const CodePattern& p) { return p.Matches(code); });
}

// The client's bytes of one scenario, read as a lenient server reads them
// (see delivery.h): counts messages and collects their recipients.
class ClientStream {
 public:
  explicit ClientStream(DeliveryEstimate* out) : out_(out) {}

  // A new connection: whatever was in progress is discarded.
  void Connect() {
    mode_ = Mode::kCommand;
    line_.clear();
    rcpts_.clear();
    skip_ = 0;
  }

  void Feed(std::string_view bytes) {
    for (const char c : bytes) {
      if (skip_ > 0) {  // a BDAT chunk's octets
        --skip_;
        continue;
      }
      if (mode_ == Mode::kData) {
        DataByte(c);
      } else {
        CommandByte(c);
      }
    }
  }

  // A `data_raw` step whose DATA was accepted: its bytes are the message.
  void StartData() {
    mode_ = Mode::kData;
    data_ = DataState::kLineStart;
  }
  // A message ended by a step (`data`, `bdat ... LAST`).
  void Message(bool by_data_step) {
    if (!by_data_step) out_->only_data_steps = false;
    ++out_->messages;
    for (std::string& r : rcpts_) {
      if (std::find(out_->recipients.begin(), out_->recipients.end(), r) ==
          out_->recipients.end()) {
        out_->recipients.push_back(std::move(r));
      }
    }
    rcpts_.clear();
    mode_ = Mode::kCommand;
  }
  void ClearTransaction() { rcpts_.clear(); }

 private:
  enum class Mode : std::uint8_t { kCommand, kData };
  // Where a data byte stands: a '.' alone between line ends (CR or LF, NULs
  // around the dot allowed) ends the message.
  enum class DataState : std::uint8_t { kLineStart, kNulBeforeDot, kDot, kText };

  void DataByte(char c) {
    const bool eol = c == '\r' || c == '\n';
    switch (data_) {
      case DataState::kLineStart:
      case DataState::kNulBeforeDot:
        data_ = eol         ? DataState::kLineStart
                : c == '\0' ? DataState::kNulBeforeDot
                : c == '.'  ? DataState::kDot
                            : DataState::kText;
        break;
      case DataState::kDot:
        if (eol) {
          Message(/*by_data_step=*/false);
          line_.clear();
          return;
        }
        if (c != '\0') data_ = DataState::kText;
        break;
      case DataState::kText:
        if (eol) data_ = DataState::kLineStart;
        break;
    }
  }

  void CommandByte(char c) {
    if (c != '\r' && c != '\n') {
      if (line_.size() < kMaxLine) line_ += c;
      return;
    }
    const std::string line = std::move(line_);
    line_.clear();
    Command(absl::StripAsciiWhitespace(line));
  }

  void Command(absl::string_view line) {
    const std::string_view l(line.data(), line.size());
    if (l.empty()) return;
    if (StartsWithIgnoreCase(l, "MAIL") || StartsWithIgnoreCase(l, "RSET") ||
        StartsWithIgnoreCase(l, "EHLO") || StartsWithIgnoreCase(l, "HELO") ||
        StartsWithIgnoreCase(l, "LHLO")) {
      rcpts_.clear();
    } else if (StartsWithIgnoreCase(l, "RCPT TO:")) {
      std::string_view path = l.substr(8);
      const std::size_t open = path.find('<');
      const std::size_t close = path.find('>', open == std::string_view::npos ? 0 : open);
      if (open != std::string_view::npos && close != std::string_view::npos) {
        path = path.substr(open + 1, close - open - 1);
      }
      rcpts_.emplace_back(path);
    } else if (EqualsIgnoreCase(l, "DATA")) {
      if (!rcpts_.empty()) StartData();
    } else if (StartsWithIgnoreCase(l, "BDAT ")) {
      std::string_view rest = l.substr(5);
      const std::size_t sp = rest.find(' ');
      std::uint64_t size = 0;
      const std::string_view number = rest.substr(0, sp);
      std::from_chars(number.data(), number.data() + number.size(), size);
      skip_ = size;
      const bool last =
          sp != std::string_view::npos && EqualsIgnoreCase(rest.substr(sp + 1), "LAST");
      if (last && !rcpts_.empty()) Message(/*by_data_step=*/false);
    }
  }

  static constexpr std::size_t kMaxLine = 4096;  // longer lines: the start is enough
  DeliveryEstimate* out_;
  Mode mode_ = Mode::kCommand;
  DataState data_ = DataState::kLineStart;
  std::string line_;
  std::vector<std::string> rcpts_;
  std::uint64_t skip_ = 0;
};

std::string Text(const Template& t, const Variables& vars) {
  absl::StatusOr<std::string> s = t.Expand(vars);
  return s.ok() ? *std::move(s) : t.source();
}

void Walk(const std::vector<Step>& steps, const Variables& vars, ClientStream& stream) {
  for (const Step& step : steps) {
    std::visit(
        [&](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ConnectStep>) {
            stream.Connect();
          } else if constexpr (std::is_same_v<T, SendStep>) {
            stream.Feed(Text(a.line, vars) + "\r\n");
          } else if constexpr (std::is_same_v<T, SendRawStep>) {
            stream.Feed(Text(a.bytes, vars));
          } else if constexpr (std::is_same_v<T, PipelineStep>) {
            for (const Template& line : a.send) stream.Feed(Text(line, vars) + "\r\n");
          } else if constexpr (std::is_same_v<T, StartTlsStep>) {
            stream.Feed("STARTTLS\r\n" + Text(a.inject, vars));
            stream.ClearTransaction();  // RFC 3207 §4.2: the state is reset
          } else if constexpr (std::is_same_v<T, DataStep>) {
            if (DataStepMayDeliver(a)) stream.Message(/*by_data_step=*/true);
          } else if constexpr (std::is_same_v<T, DataRawStep>) {
            if (Allows(a.accept, 354)) {
              stream.StartData();
              stream.Feed(Text(a.bytes, vars));
            }
          } else if constexpr (std::is_same_v<T, BdatStep>) {
            if (BdatStepMayDeliver(a)) stream.Message(/*by_data_step=*/true);
          } else if constexpr (std::is_same_v<T, RepeatStep>) {
            // The loader bounds the expanded step count (kMaxExpandedSteps).
            for (int i = 0; i < a.times; ++i) Walk(a.steps, vars, stream);
          }
        },
        step.action);
  }
}

}  // namespace

bool DataStepMayDeliver(const DataStep& step) { return Allows(step.accept, 354); }

bool BdatStepMayDeliver(const BdatStep& step) { return step.last && Allows(step.expect, 250); }

DeliveryEstimate EstimateDeliveries(const Scenario& scenario, const Variables& vars) {
  DeliveryEstimate out;
  ClientStream stream(&out);
  Walk(scenario.steps, vars, stream);
  return out;
}

NoDeliveryPlan PlanWithoutDelivery(const Scenario& scenario, const DeliveryEstimate& estimate) {
  if (estimate.messages == 0) return NoDeliveryPlan::kUnchanged;
  if (scenario.delivery_incidental && estimate.only_data_steps) return NoDeliveryPlan::kRset;
  return NoDeliveryPlan::kSkip;
}

std::string NoDeliverySkipReason(const Scenario& scenario, const DeliveryEstimate& estimate) {
  // Short, the essential first: reports show the first 300 characters on
  // the scenario's row.
  const bool smuggling =
      std::find(scenario.tags.begin(), scenario.tags.end(), "smuggling") != scenario.tags.end();
  std::string what =
      absl::StrCat("up to ", estimate.messages, estimate.messages == 1 ? " message" : " messages");
  if (smuggling && estimate.messages > 1) absl::StrAppend(&what, ", the smuggled one included,");
  if (!estimate.recipients.empty()) {
    absl::StrAppend(&what, " to ", absl::StrJoin(estimate.recipients, ", "));
  }
  if (smuggling) {
    return absl::StrCat(AV(kNeedsDeliveryPrefix),
                        ": a smuggling probe must send an end of data, and a server that ends the "
                        "message there delivers it (",
                        what, "); its verdict is unknown: run it against a test server");
  }
  return absl::StrCat(AV(kNeedsDeliveryPrefix),
                      ": it checks the end of a message or what follows, and the server may "
                      "deliver that message (",
                      what, "); run it against a test server");
}

}  // namespace smtp::scenario
