// The subcommands of smtp-harness, each with the flags it takes (grouped as
// its --help shows them), examples and exit status. A flag defined in a
// subcommand's file but not listed here is refused on the command line;
// app_test checks that every flag is listed.
#include "app/subcommand.h"

namespace smtp::app {

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> table = {
      {"parse",
       "parse [--mode command|reply|data] [--lenient] [--line TEXT] [--crlf auto|exact] "
       "[--data_end MODE] [< input]",
       "parse SMTP commands, replies or a DATA body; print one JSON object per input",
       RunParse,
       {
           {"Input", {"mode", "line", "crlf", "data_end"}},
           {"Parser", {"lenient"}},
       },
       {
           "smtp-harness parse --line 'MAIL FROM:<a@example.org> SIZE=1000'",
           "printf 'MAIL FROM: <a@b>\\r\\n' | smtp-harness parse --lenient",
           "printf '250-a\\r\\n250 b\\r\\n' | smtp-harness parse --mode reply",
       },
       "0 every input was accepted, 1 one was rejected, 2 a usage or read error."},
      {"serve",
       "serve [--listen HOST:PORT] [--behavior strict|lenient|slow|faulty|planted] [--sink SPEC] "
       "[--lmtp] [--starttls] [flags]",
       "run the embedded reference SMTP/LMTP server until SIGINT/SIGTERM",
       RunServe,
       {
           {"Listening", {"listen", "hostname", "lmtp", "port_file", "verbose"}},
           {"Behaviour",
            {"behavior", "refuse_sessions", "trace_header", "pregreet_delay_ms", "early_data",
             "slow_delay_ms", "disable_extensions"}},
           {"Accepted mail", {"sink", "sink_body_limit", "local_domains", "open_relay"}},
           {"TLS and AUTH",
            {"starttls", "implicit_tls", "tls_cert_file", "tls_key_file", "users", "auth_advertise",
             "require_tls", "require_auth"}},
           {"Limits and deadlines",
            {"max_message_size", "max_recipients", "max_errors", "max_connections",
             "max_connections_per_ip", "idle_timeout_ms", "data_timeout_ms", "shutdown_grace_ms"}},
           {"Fault injection (--behavior faulty)",
            {"fault_seed", "fault_temp_rate", "fault_421_rate", "fault_disconnect_rate",
             "fault_points"}},
           {"Planted bugs (--behavior planted)", {"planted_abort"}},
       },
       {
           "smtp-harness serve --listen 127.0.0.1:2525",
           "smtp-harness serve --listen 127.0.0.1:2525 --behavior lenient",
           "smtp-harness serve --listen 127.0.0.1:2525 --sink jsonl:/tmp/mail.jsonl "
           "--sink_body_limit 1048576 --starttls --users alice:secret",
       },
       "0 after a clean stop (SIGINT/SIGTERM), 2 on a usage error or an address that cannot be "
       "bound (in use), 1 when the server fails after it started."},
      {"run",
       "run [--target HOST:PORT|tls:H:P|lmtp:H:P|exec:CMD] [--profile FILE] "
       "[--from ADDR] [--to ADDR] [--suite PATH,...] "
       "[--filter GLOB] [--tag TAG] [--level LEVEL] [--fail_on LEVELS] [--jobs N] [--out DIR] "
       "[SUITE_PATH...]",
       "run conformance scenarios against a server (without --target: the embedded one); "
       "write DIR/results.json, junit.xml and index.html",
       RunRun,
       {
           {"Target",
            {"target", "tls", "profile", "target_name", "deliveries", "no_preflight",
             "no_deliver"}},
           {"Client under test (the harness is the server)", {"client"}},
           {"Profile overrides (swaks-style)",
            {"from", "to", "rcpt", "helo", "auth_user", "auth_password", "auth_file", "var"}},
           {"Scenarios", {"suite", "fragments", "filter", "tag", "level", "repeat"}},
           {"Pace and deadlines",
            {"jobs", "rate", "timeout_ms", "scenario_timeout_ms", "run_timeout"}},
           {"Output and exit status", {"out", "fail_on", "progress_every"}},
       },
       {
           "smtp-harness run                      # the suite against the embedded server",
           "smtp-harness run --target mx.example.test:25 --profile my-profile.json --out out/mx",
           "smtp-harness run --target 127.0.0.1:2525 --tag smuggling --level security",
           "smtp-harness run --target mx.example.test:25 --no_deliver   # queues no message",
           "smtp-harness run --target 127.0.0.1:25 --from me@example.test --to "
           "postmaster@localhost",
           "smtp-harness run --target lmtp:127.0.0.1:24 --fail_on MUST,SHOULD,security",
           "smtp-harness run --client tests/clients/profiles/swaks.json --out out/swaks",
       },
       "0 no failure at a --fail_on level (default MUST, security), 1 one failed, 2 a usage "
       "error, a harness error, a target that cannot be tested or a run cut by --run_timeout; "
       "130 after SIGINT, 143 after SIGTERM."},
      {"report",
       "report RESULTS.json [--html FILE] [--junit FILE] | report --serve DIR [--port N]",
       "re-render a run's index.html/junit.xml, or serve a directory of runs (live) on "
       "127.0.0.1",
       RunReport,
       {
           {"Re-render", {"html", "junit", "junit_passing_transcripts"}},
           {"Serve", {"serve", "port", "max_connections_per_ip"}},
           {"Input", {"max_results_mb"}},
       },
       {
           "smtp-harness report out/mx/results.json",
           "smtp-harness report out/mx/results.json --html mx.html --junit mx.xml",
           "smtp-harness report --serve out --port 8080",
       },
       "0 on success, 2 on a usage error or an unreadable file."},
      {"compare",
       "compare A.json B.json ... [--html FILE]",
       "compare runs against several servers: scenarios x targets, disagreements highlighted",
       RunCompare,
       {
           {"Output", {"html"}},
           {"Input", {"max_results_mb"}},
       },
       {
           "smtp-harness compare out/postfix/results.json out/mx/results.json",
           "smtp-harness compare out/*/results.json --html diff.html",
       },
       "0 every target has the same verdict on every scenario, 1 they differ, 2 on a usage "
       "error or an unreadable file."},
      {"list",
       "list [--suite PATH,...] [--filter GLOB] [--tag TAG] [--level LEVEL] [--markdown] "
       "[--client PROFILE|all] [SUITE_PATH...]",
       "load a suite (validating every file) and list its scenarios, or print the catalogue; "
       "with --client, the client suite",
       RunList,
       {
           {"Scenarios", {"suite", "fragments", "filter", "tag", "level", "profile"}},
           {"Client suite (run --client's scenarios)", {"client"}},
           {"Output", {"markdown"}},
       },
       {
           "smtp-harness list",
           "smtp-harness list --tag smuggling --level security",
           "smtp-harness list --client all --tag dot-stuffing",
           "smtp-harness list --client my_client.json   # says which it would skip",
           "smtp-harness list --markdown > catalogue.md",
       },
       "0 the suite loads, 2 on a load or usage error."},
      {"replay",
       "replay SESSION... [--target HOST:PORT|tls:H:P|lmtp:H:P|exec:CMD] "
       "[--compare code|enhanced|text] [--timing fast|original] [--rules FILE] [--out DIR]",
       "send recorded sessions (record, import-pcap, results.json) to a server and diff the "
       "replies with the recorded ones (without --target: the embedded server)",
       RunReplay,
       {
           {"Target", {"target", "target_name"}},
           {"Substitutions", {"helo", "keep_ids", "auth_user", "auth_password", "auth_file"}},
           {"Comparison", {"compare", "rules"}},
           {"Pace and deadlines", {"timing", "jobs", "timeout_ms", "session_timeout_ms"}},
           {"Output", {"out", "progress_every"}},
       },
       {
           "smtp-harness replay recordings/ --target 127.0.0.1:2525 --out out/replay",
           "smtp-harness replay recordings/session-000001.json --target mx2:25 --compare text "
           "--rules rules.json",
           "smtp-harness replay out/latest/results.json --target 127.0.0.1:2526",
       },
       "0 no session differs at the --compare level, 1 one does, 2 on a usage error, an "
       "unreadable session or a harness error (target down, interrupted: 130/143 on "
       "SIGINT/SIGTERM)."},
      {"convert",
       "convert SESSION... --to scenario|corpus --out DIR",
       "turn recorded sessions (session files, directories, a run's results.json) into "
       "scenarios that expect the recorded replies, or into fuzz seeds",
       RunConvert,
       {
           {"Output", {"to", "out"}},
       },
       {
           "smtp-harness convert recorded/ --to scenario --out converted",
           "smtp-harness run --target 127.0.0.1:2525 --suite converted",
           "smtp-harness convert out/latest/results.json --to corpus --out seeds",
       },
       "0 every input was read (a session with nothing to convert is skipped with a note), 2 on "
       "a usage error, an unreadable or malformed session file, or an output that cannot be "
       "written."},
      {"import-pcap",
       "import-pcap FILE --out DIR [--port 25,465,587,2525] [--keep_secrets]",
       "turn the SMTP connections of a pcap/pcapng capture into session files, one per "
       "connection",
       RunImportPcap,
       {
           {"Input", {"port"}},
           {"Output", {"out", "keep_secrets"}},
       },
       {
           "tcpdump -i lo -U --immediate-mode -w smtp.pcap 'tcp port 2525'   # then:",
           "smtp-harness import-pcap smtp.pcap --out sessions --port 2525",
           "smtp-harness import-pcap mx.pcapng --out sessions",
       },
       "0 the capture was read to its end and held an SMTP connection, 2 on a usage error or "
       "a capture that is unreadable, malformed or truncated (the sessions before the bad "
       "packet are written) or holds no SMTP connection."},
      {"record",
       "record --listen HOST:PORT --upstream HOST:PORT|tls:HOST:PORT --out DIR "
       "[--intercept_tls] [--keep_secrets] [flags]",
       "relay SMTP sessions to a server and record each one as DIR/session-NNNNNN.json, until "
       "SIGINT/SIGTERM",
       RunRecord,
       {
           {"Relay", {"listen", "upstream", "port_file"}},
           {"Recording", {"out", "keep_secrets", "max_session_bytes", "max_out_bytes"}},
           {"TLS", {"intercept_tls", "tls_cert_file", "tls_key_file"}},
           {"Limits and deadlines",
            {"max_sessions", "max_connections_per_ip", "connect_timeout_ms", "idle_timeout_ms",
             "session_timeout_ms", "shutdown_grace_ms"}},
       },
       {
           "smtp-harness record --listen 127.0.0.1:2500 --upstream 127.0.0.1:25 --out rec",
           "smtp-harness record --listen :2500 --upstream mx.example.org:25 --out rec "
           "--intercept_tls",
       },
       "0 after a clean stop (SIGINT/SIGTERM), 2 on a usage error or an address that cannot be "
       "bound, 1 when the proxy fails after it started."},
      {"fuzz",
       "fuzz [--target [lmtp:]embedded[:PROFILE]|HOST:PORT|tls:H:P|lmtp:H:P|exec:CMD] "
       "[--spawn CMD] [--out DIR] "
       "[--seeds DIR] [-LIBFUZZER_FLAG=VALUE...] [CORPUS_DIR...] | fuzz --client PROFILE "
       "[--mode MODE] [--out DIR] [--reproduce FINDING]",
       "stateful coverage-guided fuzzing of an SMTP server, one session per input, libFuzzer "
       "as the engine; with --client, of an SMTP client, the fuzzer being the server; findings "
       "are minimized and written as replayable sessions",
       RunFuzz,
       {
           {"Target",
            {"target", "allow_remote", "reply_timeout_ms", "greeting_timeout_ms",
             "patient_reply_timeout_ms", "fuzz_session_timeout_ms", "max_connections_per_s"}},
           {"Spawned and AFL++-instrumented servers",
            {"spawn", "spawn_standby", "spawn_standby_port", "spawn_timeout_ms", "crash_backtraces",
             "afl_map_size"}},
           {"Inputs and findings",
            {"seeds", "minimize_runs", "minimize_time_ms", "recover_wait_ms", "out",
             "corpus_on_tmpfs", "defences_are_findings", "libfuzzer_output"}},
           {"A client under test (the fuzzer is the server; docs/clientfuzz.md)",
            {"client", "mode", "reproduce"}},
       },
       {
           "smtp-harness fuzz --out out/fuzz -max_total_time=60",
           "smtp-harness fuzz --target embedded:planted --out out/planted -runs=200000",
           "smtp-harness fuzz --target 127.0.0.1:2525 --out out/postfix -max_total_time=600",
           "smtp-harness fuzz --spawn './my_smtpd_afl {port}' --target 127.0.0.1:2600 --out "
           "out/afl",
           "smtp-harness fuzz --target embedded --out out/all -fork=2 -max_total_time=600",
           "smtp-harness fuzz --client my_client.json --mode plain --out out/client "
           "-max_total_time=300",
           "smtp-harness fuzz --client my_client.json --reproduce out/client/findings/BUCKET",
       },
       "libFuzzer's: 0 when the budget (-max_total_time, default 60 s, or -runs) ran out; "
       "findings do not stop the run (DIR/fuzz.json, DIR/findings/). 130 / 143 after SIGINT / "
       "SIGTERM (fuzz.json complete, with the reason). 1 when fuzz.json or the "
       "report could not be written (a full disk: the findings are on stderr). 2 on a usage or "
       "setup error.",
       /*libfuzzer_flags=*/true},
  };
  return table;
}

}  // namespace smtp::app
