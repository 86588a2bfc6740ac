// TlsWatch: follows one SMTP session in capture order just far enough to
// see where it stops being readable: a STARTTLS that the server accepts
// (RFC 3207 §4: "220" and then the TLS handshake), or a connection that
// starts with a TLS ClientHello instead of waiting for the greeting
// (implicit TLS, RFC 8314 §3.3, port 465).
//
// Replies are matched to commands by count (RFC 5321 §4.5.2 pipelining:
// the server answers commands in order; the greeting is reply 0, command k
// gets reply k). DATA bodies (after a 354) and BDAT chunks (RFC 3030) are
// not commands. When the capture started mid-session the count is unknown,
// and the first complete reply after STARTTLS is taken as its answer.
// Lines longer than kMaxLine are followed but not examined.
#ifndef SMTP_HARNESS_RECORD_TLS_WATCH_H_
#define SMTP_HARNESS_RECORD_TLS_WATCH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtp::harness::pcap {

class TlsWatch {
 public:
  static constexpr std::size_t kMaxLine = 1024;

  // `midstream`: the capture did not see the start of the session.
  explicit TlsWatch(bool midstream = false) : aligned_(!midstream) {}

  // Bytes the client / the server sent, in capture order. Returns how many
  // leading bytes of `data` are still SMTP in the clear; when that is less
  // than data.size() (or 0 once opaque()), the session switched to TLS.
  std::size_t Client(std::string_view data);
  std::size_t Server(std::string_view data);
  // Bytes of one side were lost: the line in progress cannot be trusted, and
  // the command count is no longer known.
  void Gap();

  bool opaque() const { return opaque_; }
  // Why the session is opaque: "STARTTLS accepted: 220 ..." or "implicit TLS: ...".
  const std::string& why() const { return why_; }

 private:
  void ClientLine(std::string_view line);
  // Returns true when the session switched to TLS after this line.
  bool ServerLine(std::string_view line);

  bool aligned_;  // command k is answered by reply k
  bool opaque_ = false;
  bool seen_server_ = false;
  bool seen_client_ = false;
  std::string why_;
  std::string client_line_, server_line_;
  bool client_long_ = false, server_long_ = false;
  bool in_body_ = false;                         // after a 354, until the "." line
  std::uint64_t bdat_left_ = 0;                  // BDAT chunk bytes still to come
  std::uint64_t commands_ = 0;                   // client commands seen
  std::uint64_t replies_ = 0;                    // complete server replies seen
  std::optional<std::uint64_t> starttls_reply_;  // the reply that answers STARTTLS
};

}  // namespace smtp::harness::pcap

#endif  // SMTP_HARNESS_RECORD_TLS_WATCH_H_
