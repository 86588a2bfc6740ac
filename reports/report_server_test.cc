#include "reports/report_server.h"

#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "reports/test_util.h"

namespace smtp::reports {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace smtp::reports::testing;

class ReportServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("smtp_report_server_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "run1");
    ASSERT_TRUE(harness::WriteRunResult(MakeRun({MakeScenario("a", Verdict::kFail)}),
                                        (dir_ / "run1" / "results.json").string())
                    .ok());
    ReportServerOptions opts;
    opts.dir = dir_.string();
    opts.port = 0;
    opts.read_timeout = std::chrono::milliseconds(300);
    opts.max_connections = 4;
    auto server = ReportServer::Start(ioc_, opts);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    asio::post(ioc_, [this] { server_->Stop(); });
    ioc_.stop();
    thread_.join();
    server_.reset();
    fs::remove_all(dir_);
  }

  tcp::socket Connect() {
    tcp::socket s(client_ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), server_->port()));
    return s;
  }

  http::response<http::string_body> Get(std::string target, std::string host = "",
                                        http::verb verb = http::verb::get) {
    tcp::socket s = Connect();
    http::request<http::empty_body> req(verb, target, 11);
    req.set(http::field::host,
            host.empty() ? "127.0.0.1:" + std::to_string(server_->port()) : host);
    http::write(s, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(verb == http::verb::head);
    http::read(s, buf, parser);
    return parser.release();
  }

  asio::io_context ioc_;
  asio::io_context client_ioc_;
  std::unique_ptr<ReportServer> server_;
  std::thread thread_;
  fs::path dir_;
};

TEST_F(ReportServerTest, ServesPagesWithSecurityHeaders) {
  auto res = Get("/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("/run/run1/"), std::string::npos);
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(res["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);

  res = Get("/run/run1/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res["Content-Security-Policy"].find("script-src 'nonce-"), std::string::npos);
  EXPECT_NE(res.body().find("id=\"report-data\""), std::string::npos);

  res = Get("/run/run1");
  EXPECT_EQ(res.result_int(), 301);
  EXPECT_EQ(res[http::field::location], "/run/run1/");

  EXPECT_EQ(Get("/run/../run1/results.json").result_int(), 404);
  EXPECT_EQ(Get("/", "", http::verb::post).result_int(), 405);
}

TEST_F(ReportServerTest, ListsAndServesFuzzRuns) {
  fs::copy(fs::path(SMTP_REPORTS_TESTDATA) / "fuzz", dir_ / "fuzz1", fs::copy_options::recursive);
  auto res = Get("/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("/run/run1/"), std::string::npos);
  EXPECT_NE(res.body().find("/run/fuzz1/"), std::string::npos);
  EXPECT_NE(res.body().find("<td class=\"kind\">fuzz</td>"), std::string::npos);
  res = Get("/run/fuzz1/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res["Content-Security-Policy"].find("script-src 'nonce-"), std::string::npos);
  EXPECT_NE(res.body().find("dropped-HELP-220"), std::string::npos);
}

TEST_F(ReportServerTest, HeadHasLengthButNoBody) {
  const auto get = Get("/run/run1/junit.xml");
  const auto head = Get("/run/run1/junit.xml", "", http::verb::head);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
  EXPECT_TRUE(head.body().empty());
}

TEST_F(ReportServerTest, RefusesForeignHostNames) {
  const std::string port = std::to_string(server_->port());
  struct Case {
    std::string host;
    int status;
  } cases[] = {
      {"127.0.0.1:" + port, 200},    {"localhost:" + port, 200},      {"localhost", 200},
      {"evil.example:" + port, 403}, {"127.0.0.1.evil.example", 403}, {"127.0.0.1:1", 403},
  };
  for (const auto& c : cases) EXPECT_EQ(Get("/", c.host).result_int(), c.status) << c.host;
}

TEST_F(ReportServerTest, KeepAliveServesSeveralRequests) {
  tcp::socket s = Connect();
  beast::flat_buffer buf;
  for (int i = 0; i < 3; ++i) {
    http::request<http::empty_body> req(http::verb::get, "/runs.json", 11);
    req.set(http::field::host, "localhost");
    http::write(s, req);
    http::response<http::string_body> res;
    http::read(s, buf, res);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find("\"run1\""), std::string::npos);
  }
}

// A silent client is dropped at the read deadline.
TEST_F(ReportServerTest, IdleConnectionTimesOut) {
  tcp::socket s = Connect();
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  asio::read(s, asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Oversized headers end the connection without a response body of ours.
TEST_F(ReportServerTest, HugeHeadersAreRefused) {
  tcp::socket s = Connect();
  const std::string req =
      "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  beast::error_code ec;
  asio::write(s, asio::buffer(req), ec);  // may fail part way: the server closed
  std::string got;
  char buf[4096];
  for (;;) {
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  EXPECT_EQ(got.find("200 OK"), std::string::npos);
}

// More clients than allowed: the extra ones are closed at once, the server
// stays up.
TEST_F(ReportServerTest, ConnectionCap) {
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(Connect());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  tcp::socket extra = Connect();
  char c;
  beast::error_code ec;
  asio::read(extra, asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec) << "extra connection should be closed";
  idle.clear();
  // Once the idle ones time out, service resumes.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Get("/").result_int(), 200);
}

// Runs `opts` on a thread of its own; Held() asks the server on its thread.
struct ServerOnThread {
  explicit ServerOnThread(ReportServerOptions opts) {
    auto s = ReportServer::Start(ioc, std::move(opts));
    EXPECT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
    thread = std::thread([this] { ioc.run(); });
  }
  ~ServerOnThread() {
    asio::post(ioc, [this] { server->Stop(); });
    ioc.stop();
    thread.join();
  }
  std::pair<std::size_t, std::size_t> Held() {
    std::promise<std::pair<std::size_t, std::size_t>> p;
    asio::post(ioc, [&] { p.set_value({server->bodies_held(), server->body_bytes_held()}); });
    return p.get_future().get();
  }
  asio::io_context ioc;
  std::unique_ptr<ReportServer> server;
  std::thread thread;
};

// Clients that ask for a large page and never read it share one copy of it
// (they held one each: 6 clients, 1.37 GB); each response still has its own
// CSP nonce, the same in the header and in the page.
TEST_F(ReportServerTest, ClientsThatDoNotReadShareOnePage) {
  std::vector<ScenarioResult> many;
  for (int i = 0; i < 40; ++i) {
    ScenarioResult sc = MakeScenario("s" + std::to_string(i), Verdict::kFail);
    sc.transcript.AddDataAt(1000, Direction::kServerToClient,
                            "250 " + std::string(100 * 1024, static_cast<char>('a' + i % 26)));
    many.push_back(std::move(sc));
  }
  fs::create_directories(dir_ / "big");
  ASSERT_TRUE(
      harness::WriteRunResult(MakeRun(std::move(many)), (dir_ / "big" / "results.json").string())
          .ok());
  ReportServerOptions opts;
  opts.dir = dir_.string();
  opts.port = 0;
  opts.write_timeout = std::chrono::milliseconds(30'000);
  ServerOnThread srv(opts);
  const std::uint16_t port = srv.server->port();
  const std::string request =
      "GET /run/big/ HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";

  // A reader: the page size and its nonces.
  auto read_page = [&] {
    tcp::socket s(client_ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio::write(s, asio::buffer(request));
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 << 20);
    http::read(s, buf, parser);
    return parser.release();
  };
  const auto first = read_page();
  const auto second = read_page();
  ASSERT_EQ(first.result_int(), 200);
  const std::size_t page_size = first.body().size();
  ASSERT_GT(page_size, 3u << 20);
  auto nonce_of = [](const http::response<http::string_body>& r) {
    const std::string csp(r["Content-Security-Policy"]);
    const std::size_t at = csp.find("'nonce-") + 7;
    return csp.substr(at, csp.find('\'', at) - at);
  };
  const std::string n1 = nonce_of(first), n2 = nonce_of(second);
  EXPECT_NE(n1, n2);
  EXPECT_EQ(Occurrences(first.body(), n1), Occurrences(second.body(), n2));
  EXPECT_GE(Occurrences(first.body(), n1), 2);  // the script and the style
  EXPECT_EQ(Occurrences(first.body(), n2), 0);
  std::string same = second.body();
  for (std::size_t at = same.find(n2); at != std::string::npos; at = same.find(n2, at)) {
    same.replace(at, n2.size(), n1);
  }
  EXPECT_EQ(same, first.body());

  // 6 clients that ask and never read.
  std::vector<tcp::socket> stalled;
  for (int i = 0; i < 6; ++i) {
    tcp::socket s(client_ioc_);
    s.open(tcp::v4());
    s.set_option(asio::socket_base::receive_buffer_size(4096));
    s.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio::write(s, asio::buffer(request));
    stalled.push_back(std::move(s));
  }
  std::pair<std::size_t, std::size_t> held{0, 0};
  for (int i = 0; i < 200 && held.first == 0; ++i) {  // until the responses are under way
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    held = srv.Held();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  held = srv.Held();
  EXPECT_EQ(held.first, 1u);
  EXPECT_LE(held.second, page_size);
}

// One address may hold max_connections_per_ip connections; another address
// is still served (and `serve` shares the same limiter: net/).
TEST(ReportServer, PerAddressLimitLeavesRoomForOtherClients) {
  const fs::path dir =
      fs::temp_directory_path() / ("smtp_report_server_ip_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ReportServerOptions opts;
  opts.dir = dir.string();
  opts.port = 0;
  opts.max_connections = 10;
  opts.max_connections_per_ip = 2;
  ServerOnThread srv(opts);
  asio::io_context io;
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), srv.server->port());
  std::vector<tcp::socket> held;
  for (int i = 0; i < 2; ++i) held.emplace_back(io).connect(ep);
  tcp::socket extra(io);
  extra.connect(ep);
  char c;
  beast::error_code ec;
  asio::read(extra, asio::buffer(&c, 1), ec);  // closed at once (no read timeout to wait out)
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();

  tcp::socket other(io);
  other.open(tcp::v4());
  other.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.2"), 0), ec);
  if (ec) GTEST_SKIP() << "127.0.0.2 is not a usable loopback address here: " << ec.message();
  other.connect(ep);
  http::request<http::empty_body> req(http::verb::get, "/", 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(other, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(other, buf, res);
  EXPECT_EQ(res.result_int(), 200);
  fs::remove_all(dir);
}

TEST(ReportServer, MissingDirectoryIsAnError) {
  asio::io_context ioc;
  ReportServerOptions opts;
  opts.dir = "/nonexistent/smtp-harness-reports";
  opts.port = 0;
  auto server = ReportServer::Start(ioc, opts);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace smtp::reports
