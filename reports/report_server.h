// The report server: `smtp-harness report --serve DIR`. HTTP/1.1 (Boost.Beast)
// on 127.0.0.1 only, serving ReportSite (reports/report_site.h).
//
// Bounded everywhere: each request read has a deadline and a header size
// limit (no request bodies), each response write a deadline, connections
// are capped in all and per client address (net/connection_limiter.h, as
// `serve`'s: one address cannot hold every slot; over a limit a connection
// is closed at once), requests per connection are capped, and results.json
// reads are size bounded.
//
// Memory does not grow with the connections: a response body is rendered
// once and shared, read-only, by every connection sending the same bytes
// (a run's page requested by 6 clients that never read it is held once, not
// 6 times), and is streamed from that copy in 64 KiB pieces. What is held is
// bounded by the distinct pages being sent, not by the clients. Requests whose Host is not
// 127.0.0.1/localhost are refused (a DNS-rebinding page cannot read the reports). Responses carry a
// CSP, nosniff, no-store and frame-ancestors 'none'.
#ifndef SMTP_REPORTS_REPORT_SERVER_H_
#define SMTP_REPORTS_REPORT_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reports/report_site.h"

namespace boost::asio {
class io_context;
}

namespace smtp::reports {

struct ReportServerOptions {
  std::string dir;                                  // holds one subdirectory per run
  std::uint16_t port = 8080;                        // 0: any free port (see ReportServer::port)
  std::chrono::milliseconds read_timeout{10'000};   // one request's headers
  std::chrono::milliseconds write_timeout{60'000};  // one response
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_connections = 64;
  std::size_t max_connections_per_ip = 50;  // 0: no limit
  std::size_t max_requests_per_connection = 1000;
  SiteLimits site;
};

class ReportServer {
 public:
  // Binds 127.0.0.1:port and starts accepting on `ioc` (which the caller
  // runs). The directory must exist.
  static absl::StatusOr<std::unique_ptr<ReportServer>> Start(boost::asio::io_context& ioc,
                                                             ReportServerOptions options);
  ~ReportServer();

  std::uint16_t port() const;
  // Response bodies held now (distinct copies) and their bytes. Call on the
  // io_context's thread (tests: through a post).
  std::size_t bodies_held() const;
  std::size_t body_bytes_held() const;
  // Stops accepting; open connections end at their next deadline or request.
  void Stop();

  struct Impl;

 private:
  explicit ReportServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Runs a ReportServer until SIGINT or SIGTERM. `on_listening` is called once
// with the bound port before serving.
absl::Status ServeReports(ReportServerOptions options,
                          const std::function<void(std::uint16_t port)>& on_listening);

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_REPORT_SERVER_H_
