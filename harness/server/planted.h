// PLANTED BUGS: the two deliberate, deterministic bugs of Profile::kPlanted,
// the demonstration target of `smtp-harness fuzz`. Nothing else in the
// server is planted; the session consults this file only when
// config.profile == Profile::kPlanted. Both bugs are "crashes": the
// connection closes with no reply to the triggering command
// (Session::PlantedCrash, in planted.cc).
//
// 1. Shallow (one command): a HELP line that begins "HELP %x" (the verb in
//    any case, then one SP, '%' and 'x'), wherever HELP would be answered.
// 2. Deep (five commands), in one session and in this order:
//      EHLO <domain>                    the hello is EHLO (not HELO / LHLO)
//      MAIL FROM:<...> BODY=8BITMIME    accepted
//      RCPT TO:<...> NOTIFY=NEVER       accepted
//      RCPT TO:<...>                    accepted, any parameters
//      BDAT 0 LAST                      crash: no reply
//    Commands that change none of these facts may come in between; a new
//    hello, RSET, STARTTLS or the end of a message start over.
//
// Every condition is its own branch, taken at the command that satisfies
// it, so code coverage rewards each step towards the deep bug on its own.
#ifndef SMTP_HARNESS_SERVER_PLANTED_H_
#define SMTP_HARNESS_SERVER_PLANTED_H_

#include <cstdint>
#include <string_view>

#include "parser/command.h"

namespace smtp::server {

// The shallow bug: true when the HELP command line `line` (as received,
// line end included) triggers it.
bool PlantedHelpCrashes(std::string_view line);

// The deep bug's progress through one session. The session reports each
// fact as it happens; BdatCrashes says whether a BDAT command triggers it.
class PlantedDeepBug {
 public:
  // How far the sequence has come; each value needs the one before.
  enum class Stage : std::uint8_t {
    kNone,             // no EHLO yet (or HELO / LHLO, or TLS restarted)
    kEhlo,             // EHLO accepted, no transaction on the way
    kMail8BitMime,     // MAIL ... BODY=8BITMIME accepted
    kRcptNotifyNever,  // then RCPT ... NOTIFY=NEVER accepted
    kArmed,            // then one more RCPT accepted: BDAT 0 LAST crashes
  };

  // An accepted EHLO / HELO / LHLO (`verb`), or Verb::kUnknown when
  // STARTTLS completed (RFC 3207 §4.2: the session starts over).
  void OnHello(Verb verb);
  // The transaction ended or was reset (RSET, end of message, new hello).
  void OnTransactionReset();
  void OnMailAccepted(const EsmtpParams& params);
  void OnRcptAccepted(const EsmtpParams& params);
  // True when BDAT `c`, which passed its checks, triggers the bug.
  bool BdatCrashes(const Command& c) const;

  Stage stage() const { return stage_; }

 private:
  Stage stage_ = Stage::kNone;
};

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_PLANTED_H_
