#!/usr/bin/env bash
# Starts and stops real SMTP servers on loopback for the integration tests,
# CI and benchmarks of smtp-harness. See docs/real-servers-setup.md.
#
#   scripts/real-servers.sh start [postfix|aiosmtpd|opensmtpd|smtp-sink|exim|sendmail|chasquid|courier|nodejs|dovecot|all]
#       Idempotent. Installs what is missing, waits (bounded) until each server
#       answers 220, prints NAME=HOST:PORT lines on stdout.
#   scripts/real-servers.sh stop [NAME|all]     no process of ours is left
#   scripts/real-servers.sh restart [NAME|all]
#   scripts/real-servers.sh status [NAME|all]   exit 0 when all are running
#   scripts/real-servers.sh env                 shell exports of running ones
#   scripts/real-servers.sh install [NAME|all]  packages, OpenSMTPD unpack
#
# Environment: SMTP_SERVERS_DIR (state: configs, logs, pids, spools,
# maildirs; default /tmp/smtp-harness-servers), SMTP_POSTFIX_PORT (2525),
# SMTP_AIOSMTPD_PORT (2526), SMTP_OPENSMTPD_PORT (2527), SMTP_SINK_PORT
# (2528), SMTP_EXIM_PORT (2529), SMTP_SENDMAIL_PORT (2530), SMTP_CHASQUID_PORT (2531; its submission
# listeners take 2541 and 2542), SMTP_COURIER_PORT (2532), SMTP_NODEJS_PORT (2533), SMTP_DOVECOT_PORT
# (2534, LMTP), SMTP_SERVERS_WAIT (seconds to wait for 220, default 20),
# SMTP_OPENSMTPD_TLS=1 (advertise OpenSMTPD's STARTTLS, whose handshake fails),
# OPENSMTPD_ROOT (unpacked OpenSMTPD, default /opt/smtp-harness/opensmtpd),
# COURIER_ROOT (unpacked Courier, default /opt/smtp-harness/courier).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TPL=$HERE/real-servers
STATE=${SMTP_SERVERS_DIR:-/tmp/smtp-harness-servers}
HOST=127.0.0.1
WAIT=${SMTP_SERVERS_WAIT:-20}
STOP_WAIT=10
ALL=(postfix aiosmtpd opensmtpd smtp-sink exim sendmail chasquid courier nodejs dovecot)
PY=/usr/bin/python3 # Debian's: the one that sees python3-aiosmtpd

log() { echo "real-servers: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

port_of() {
  case $1 in
    postfix) echo "${SMTP_POSTFIX_PORT:-2525}" ;;
    aiosmtpd) echo "${SMTP_AIOSMTPD_PORT:-2526}" ;;
    opensmtpd) echo "${SMTP_OPENSMTPD_PORT:-2527}" ;;
    smtp-sink) echo "${SMTP_SINK_PORT:-2528}" ;;
    exim) echo "${SMTP_EXIM_PORT:-2529}" ;;
    sendmail) echo "${SMTP_SENDMAIL_PORT:-2530}" ;;
    chasquid) echo "${SMTP_CHASQUID_PORT:-2531}" ;;
    courier) echo "${SMTP_COURIER_PORT:-2532}" ;;
    nodejs) echo "${SMTP_NODEJS_PORT:-2533}" ;;
    dovecot) echo "${SMTP_DOVECOT_PORT:-2534}" ;;
  esac
}

var_of() {
  case $1 in
    postfix) echo SMTP_POSTFIX ;;
    aiosmtpd) echo SMTP_AIOSMTPD ;;
    opensmtpd) echo SMTP_OPENSMTPD ;;
    smtp-sink) echo SMTP_SINK ;;
    exim) echo SMTP_EXIM ;;
    sendmail) echo SMTP_SENDMAIL ;;
    chasquid) echo SMTP_CHASQUID ;;
    courier) echo SMTP_COURIER ;;
    nodejs) echo SMTP_NODEJS ;;
    dovecot) echo SMTP_DOVECOT_LMTP ;;
  esac
}

# names ARG: expands "all" (or nothing) to every server; rejects unknown names.
names() {
  local a=${1:-all}
  if [[ $a == all ]]; then
    echo "${ALL[@]}"
    return
  fi
  case $a in
    postfix | aiosmtpd | opensmtpd | smtp-sink | exim | sendmail | chasquid | courier | nodejs | dovecot) echo "$a" ;;
    *) die "unknown server '$a' (postfix|aiosmtpd|opensmtpd|smtp-sink|exim|sendmail|chasquid|courier|nodejs|dovecot|all)" ;;
  esac
}

# greeting PORT: prints the server's first greeting line; status 0 if it is
# a 220. Sends QUIT. Bounded to 3 s.
greeting() {
  local line
  # shellcheck disable=SC2016 # expanded by the inner bash
  line=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    printf "QUIT\r\n" >&3
    printf "%s\n" "${line%$'"'"'\r'"'"'}"' "$HOST" "$1" 2>/dev/null) || return 1
  echo "$line"
  [[ $line == 220* ]]
}

# greets_within PORT SECONDS: a 220 on PORT within SECONDS (tries again
# every 0.2 s).
greets_within() {
  local deadline=$((SECONDS + $2))
  while true; do
    greeting "$1" >/dev/null && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# port_open PORT: something accepts TCP connections on HOST:PORT.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

pidfile_of() {
  if [[ $1 == postfix ]]; then
    echo "$STATE/postfix/spool/pid/master.pid"
  else
    echo "$STATE/$1/$1.pid"
  fi
}

# cmd_pattern NAME: what /proc/PID/cmdline of our process contains, so a
# stale pid file never makes us signal an unrelated process.
cmd_pattern() {
  case $1 in
    postfix) echo "master" ;;
    aiosmtpd) echo "aiosmtpd_server.py" ;;
    opensmtpd) echo "$STATE/opensmtpd/smtpd.conf" ;;
    smtp-sink) echo "smtp-sink" ;;
    exim) echo "$STATE/exim/exim.conf" ;;
    sendmail) echo "$STATE/sendmail/sendmail.cf" ;;
    chasquid) echo "-config_dir=$STATE/chasquid/etc" ;;
    courier) echo "courier-run.sh run" ;;
    nodejs) echo "node_smtp_server.js" ;;
    dovecot) echo "$STATE/dovecot/dovecot.conf" ;;
  esac
}

# pid_of NAME: prints the live pid of our server NAME; status 1 if none.
pid_of() {
  local f pid cmd
  f=$(pidfile_of "$1")
  [[ -r $f ]] || return 1
  pid=$(head -n 1 "$f" | tr -dc '0-9')
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  # Sendmail renames its process once it listens.
  [[ $cmd == *"$(cmd_pattern "$1")"* || ($1 == sendmail && $cmd == "sendmail: "*) ]] ||
    return 1
  echo "$pid"
}

log_of() {
  case $1 in
    postfix) echo "$STATE/postfix/maillog" ;;
    *) echo "$STATE/$1/$1.log" ;;
  esac
}

maildir_of() {
  case $1 in
    smtp-sink) echo "" ;; # smtp-sink stores nothing
    dovecot) echo "$STATE/dovecot/mail" ;; # one Maildir per user: DOMAIN/USER/Maildir
    sendmail) echo "" ;;                   # queue-only: accepted mail stays in its queue
    *) echo "$STATE/$1/Maildir" ;;
  esac
}

# render SERVER TEMPLATE OUT: fills the @VARS@ of a template under
# scripts/real-servers; @PORT@ is SERVER's port.
render() {
  local name=$2
  sed -e "s|@STATE@|$STATE|g" \
    -e "s|@HOST@|$HOST|g" \
    -e "s|@PORT@|$(port_of "$1")|g" \
    -e "s|@TLS_DIR@|$STATE/tls|g" \
    -e "s|@CONF_DIR@|$STATE/postfix/etc|g" \
    -e "s|@POSTFIX_DIR@|$STATE/postfix|g" \
    -e "s|@OPENSMTPD_DIR@|$STATE/opensmtpd|g" \
    -e "s|@EXIM_DIR@|$STATE/exim|g" \
    -e "s|@EXIM_BIN@|${EXIM_BIN:-}|g" \
    -e "s|@CHASQUID_DIR@|$STATE/chasquid|g" \
    -e "s|@CHASQUID_SUBMISSION@|$(($(port_of chasquid) + 10))|g" \
    -e "s|@CHASQUID_SUBMISSION_TLS@|$(($(port_of chasquid) + 11))|g" \
    -e "s|@DOVECOT_DIR@|$STATE/dovecot|g" \
    -e "s|@SENDMAIL_DIR@|$STATE/sendmail|g" \
    -e "s|@COURIER_ROOT@|${COURIER_ROOT:-/opt/smtp-harness/courier}|g" \
    -e "s|@OPENSMTPD_TLS@|$([[ ${SMTP_OPENSMTPD_TLS:-0} == 1 ]] && echo "tls pki mx.test")|g" \
    "$TPL/$name.in" >"$3"
}

# make_maildir DIR: an empty Maildir owned by nobody (the delivering user).
make_maildir() {
  mkdir -p "$1/tmp" "$1/new" "$1/cur"
  chown -R nobody:nogroup "$1"
  setpriv --reuid=nobody --regid=nogroup --clear-groups test -w "$1/new" ||
    log "warning: user nobody cannot write $1/new (is a parent of $STATE not world-searchable?): deliveries will fail"
}

# ensure_tls: a self-signed certificate for mx.test, shared by the servers.
ensure_tls() {
  local d=$STATE/tls
  [[ -s $d/cert.pem && -s $d/key.pem ]] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -subj "/CN=mx.test" \
    -addext "subjectAltName=DNS:mx.test,DNS:localhost,IP:127.0.0.1" \
    -keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1 ||
    die "openssl could not make a certificate: $(tail -5 "$d/openssl.log")"
  chmod 600 "$d/key.pem"
  chmod 644 "$d/cert.pem"
}

# launch NAME CMD...: runs CMD in its own session (pid = process group id),
# output appended to the server's log, pid written to its pid file. Fd 9 (our
# lock) is closed so the server does not hold it.
launch() {
  local name=$1
  shift
  setsid "$@" >>"$(log_of "$name")" 2>&1 </dev/null 9>&- &
  echo $! >"$(pidfile_of "$name")"
}

# postfix_die WHAT: Postfix writes its errors to a terminal or maillog only.
postfix_die() {
  local d=$STATE/postfix
  log "error: $1 failed; last lines of $d/maillog and $d/postfix.out:"
  tail -n 15 "$d/maillog" "$d/postfix.out" 2>/dev/null | sed 's/^/    /' >&2
  exit 1
}

prepare_postfix() {
  local d=$STATE/postfix
  mkdir -p "$d/etc" "$d/spool" "$d/data"
  chown root:root "$d/spool"
  chown postfix:postfix "$d/data"
  render postfix postfix-main.cf "$d/etc/main.cf"
  render postfix postfix-master.cf "$d/etc/master.cf"
  render postfix postfix-aliases.regexp "$d/etc/aliases.regexp"
  make_maildir "$d/Maildir"
  touch "$d/maillog"
  # Creates the queue directories with Postfix's own owners and modes.
  postfix -c "$d/etc" check >>"$d/postfix.out" 2>&1 </dev/null 9>&- ||
    postfix_die "postfix check"
}

start_postfix() {
  local d=$STATE/postfix
  prepare_postfix
  postfix -c "$d/etc" start >>"$d/postfix.out" 2>&1 </dev/null 9>&- ||
    postfix_die "postfix start"
}

start_aiosmtpd() {
  local d=$STATE/aiosmtpd
  mkdir -p "$d"
  make_maildir "$d/Maildir"
  [[ -x $PY ]] || die "$PY not found"
  $PY -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (python3-aiosmtpd)"
  launch aiosmtpd "$PY" "$TPL/aiosmtpd_server.py" --listen "$HOST:$(port_of aiosmtpd)" \
    --maildir "$d/Maildir" --cert "$STATE/tls/cert.pem" --key "$STATE/tls/key.pem"
}

# exe_pids PATH...: processes running one of these executables.
exe_pids() {
  local e
  for e in /proc/[0-9]*/exe; do
    [[ " $* " == *" $(readlink "$e" 2>/dev/null) "* ]] && echo "${e//[^0-9]/}"
  done
  return 0
}

start_opensmtpd() {
  local d=$STATE/opensmtpd smtpd
  mkdir -p "$d"
  smtpd=$(bash "$TPL/install.sh" opensmtpd | sed -n 's/^smtpd=//p')
  [[ -x $smtpd ]] || die "OpenSMTPD binary not found ($smtpd)"
  render opensmtpd opensmtpd.conf "$d/smtpd.conf"
  chmod 644 "$d/smtpd.conf"
  make_maildir "$d/Maildir"
  # The control socket and queue paths are compiled in: one instance per host.
  local other
  other=$(exe_pids "$smtpd" /usr/sbin/smtpd | head -1)
  if [[ -n $other ]]; then
    die "another OpenSMTPD (pid $other) runs; it owns /var/run/smtpd.sock and /var/spool/smtpd"
  fi
  "$smtpd" -n -f "$d/smtpd.conf" >"$d/configtest.out" 2>&1 ||
    die "smtpd.conf rejected: $(cat "$d/configtest.out")"
  # smtpd looks up the client's reverse DNS before it sends the greeting,
  # with its bundled resolver (libasr, default "lookup bind file": DNS
  # first). Where the nameserver of /etc/resolv.conf is slow or unreachable
  # that stalls the 220 by 5-10 s per connection, at random. smtpd therefore
  # runs in its own mount namespace whose /etc/resolv.conf says "lookup
  # file": /etc/hosts only, no DNS packet leaves the machine.
  printf '# OpenSMTPD resolver (scripts/real-servers.sh): /etc/hosts only.\nlookup file\n' \
    >"$d/resolv.conf"
  if unshare -m --propagation private \
    mount --bind "$d/resolv.conf" /etc/resolv.conf 2>/dev/null; then
    # shellcheck disable=SC2016 # expanded by the inner sh
    launch opensmtpd unshare -m --propagation private sh -c \
      'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$d/resolv.conf" \
      "$smtpd" -d -f "$d/smtpd.conf"
  else
    log "warning: opensmtpd: no private mount namespace (unshare -m); its reverse DNS lookups use the system resolver and may delay greetings"
    launch opensmtpd "$smtpd" -d -f "$d/smtpd.conf"
  fi
}

start_smtp-sink() {
  mkdir -p "$STATE/smtp-sink"
  launch smtp-sink /usr/sbin/smtp-sink -u nobody -h mx.test "$HOST:$(port_of smtp-sink)" 1000
}

# A private resolver for the servers that look names up: in a private mount
# namespace, /etc/resolv.conf names 127.0.0.1 (where no resolver listens), so
# DNS lookups (reverse DNS, SPF, MX, the server's own name) fail at once and
# no query leaves the machine; /etc/hosts names localhost and "127.0.0.1
# mx.test HOSTNAME" only, so the server's own name is qualified (Sendmail
# sleeps 60 s and retries when it is not). Without unshare -m: a warning, and
# the system's files.
#   no_dns NAME CMD...         runs CMD so, and waits for it
#   launch_no_dns NAME CMD...  launches CMD so (launch, above; same pid)
NO_DNS_SH='mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@"'
no_dns_files() {
  local conf=$STATE/$1/resolv.conf hosts=$STATE/$1/hosts
  printf '# %s (scripts/real-servers.sh): no DNS, /etc/hosts only.\nnameserver 127.0.0.1\n' \
    "$1" >"$conf"
  printf '127.0.0.1\tlocalhost\n127.0.0.1\tmx.test %s\n::1\tlocalhost ip6-localhost\n' \
    "$(hostname)" >"$hosts"
  chmod 644 "$conf" "$hosts"
  if unshare -m --propagation private mount --bind "$conf" /etc/resolv.conf 2>/dev/null; then
    echo "$conf $hosts"
  else
    log "warning: $1: no private mount namespace (unshare -m); it uses the system resolver"
  fi
}

no_dns() {
  local name=$1 files
  shift
  files=$(no_dns_files "$name")
  if [[ -n $files ]]; then
    # shellcheck disable=SC2086 # two paths without spaces
    unshare -m --propagation private sh -c "$NO_DNS_SH" $files "$@"
  else
    "$@"
  fi
}

launch_no_dns() {
  local name=$1 files
  shift
  files=$(no_dns_files "$name")
  if [[ -n $files ]]; then
    # shellcheck disable=SC2086 # two paths without spaces
    launch "$name" unshare -m --propagation private sh -c "$NO_DNS_SH" $files "$@"
  else
    launch "$name" "$@"
  fi
}

start_exim() {
  local d=$STATE/exim
  mkdir -p "$d/spool" "$d/log"
  EXIM_BIN=$(bash "$TPL/install.sh" exim | sed -n 's/^exim=//p')
  [[ -x $EXIM_BIN ]] || die "Exim binary not found ($EXIM_BIN)"
  render exim exim.conf "$d/exim.conf"
  chmod 644 "$d/exim.conf"
  # -C drops root: Exim runs as Debian-exim and delivers as that user.
  chown Debian-exim:Debian-exim "$d/spool" "$d/log"
  chmod 750 "$d/spool"
  # Its own copy of the key: the shared one is root's alone (0600).
  mkdir -p "$d/tls"
  cp "$STATE/tls/cert.pem" "$STATE/tls/key.pem" "$d/tls/"
  chown -R Debian-exim:Debian-exim "$d/tls"
  chmod 600 "$d/tls/key.pem"
  make_maildir "$d/Maildir"
  chown -R Debian-exim:Debian-exim "$d/Maildir"
  "$EXIM_BIN" -C "$d/exim.conf" -bV >"$d/configtest.out" 2>&1 ||
    die "exim.conf rejected: $(tail -5 "$d/configtest.out")"
  launch_no_dns exim "$EXIM_BIN" -C "$d/exim.conf" -bdf -oX "$(port_of exim)"
}

start_sendmail() {
  local d=$STATE/sendmail out bin cf
  out=$(bash "$TPL/install.sh" sendmail)
  bin=$(sed -n 's/^sendmail=//p' <<<"$out")
  cf=$(sed -n 's/^sendmail_cf=//p' <<<"$out")
  [[ -x $bin && -d $cf ]] || die "Sendmail not found ($bin, $cf)"
  mkdir -p "$d/mqueue"
  chmod 700 "$d/mqueue"
  render sendmail sendmail.mc "$d/sendmail.mc"
  m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.err" ||
    die "m4 could not make sendmail.cf: $(tail -5 "$d/m4.err")"
  printf 'hosts files\naliases files\n' >"$d/service.switch"
  printf 'example.test\nlocalhost\nmx.test\n' >"$d/local-host-names"
  printf 'catchall: /dev/null\npostmaster: catchall\nMAILER-DAEMON: catchall\n' >"$d/aliases"
  printf '@example.test\tcatchall\n@localhost\tcatchall\n@mx.test\tcatchall\n' >"$d/virtusertable"
  no_dns sendmail "$(dirname "$bin")/makemap" -C "$d/sendmail.cf" hash "$d/virtusertable" \
    <"$d/virtusertable" 2>"$d/makemap.out" || die "makemap virtusertable failed: $(cat "$d/makemap.out")"
  no_dns sendmail "$bin" -C "$d/sendmail.cf" -bi >"$d/newaliases.out" 2>&1 ||
    die "newaliases failed: $(tail -5 "$d/newaliases.out")"
  launch_no_dns sendmail "$bin" -C "$d/sendmail.cf" -bD
}

start_chasquid() {
  local d=$STATE/chasquid dom
  command -v chasquid >/dev/null || die "chasquid not installed"
  mkdir -p "$d/etc/certs/mx.test" "$d/data"
  render chasquid chasquid.conf "$d/etc/chasquid.conf"
  cp "$STATE/tls/cert.pem" "$d/etc/certs/mx.test/fullchain.pem"
  cp "$STATE/tls/key.pem" "$d/etc/certs/mx.test/privkey.pem"
  render chasquid chasquid-mda.sh "$d/etc/mda.sh"
  chmod 755 "$d/etc/mda.sh"
  # Every local part of the local domains exists: a catch-all alias to the
  # MDA pipe (a catch-all to a user would alias that user to itself).
  for dom in example.test localhost mx.test; do
    mkdir -p "$d/etc/domains/$dom"
    printf '*: | %s\n' "$d/etc/mda.sh" >"$d/etc/domains/$dom/aliases"
  done
  make_maildir "$d/Maildir"
  chown -R chasquid:chasquid "$d/etc" "$d/data" "$d/Maildir"
  touch "$(log_of chasquid)" "$d/mail.log"
  chown chasquid:chasquid "$(log_of chasquid)" "$d/mail.log"
  launch_no_dns chasquid setpriv --reuid=chasquid --regid=chasquid --init-groups \
    chasquid -config_dir="$d/etc" -logfile="$(log_of chasquid)"
}

# Courier: unpacked (install.sh), run by courier-run.sh in a private mount
# namespace that shows $STATE/courier's etc/, var/ and run/ at the paths its
# programs have compiled in. Local domains mx.test and localhost; every
# address of example.test goes to the userdb account "catchall" (alias
# "@example.test: catchall"), whose .courier-default delivers into
# $STATE/courier/Maildir. Without a mount namespace Courier cannot run here:
# then this says so and fails.
start_courier() {
  local d=$STATE/courier root files
  root=$(bash "$TPL/install.sh" courier | sed -n 's/^courier_root=//p')
  [[ -x $root/usr/sbin/couriertcpd ]] || die "Courier not found ($root)"
  unshare -m --propagation private mount --bind "$root/usr/lib/courier" /usr/lib/courier 2>"$d.unshare.err" ||
    die "Courier's paths are compiled in (/etc/courier, /var/lib/courier, ...) and need a private mount namespace, which this machine refuses: unshare -m: $(cat "$d.unshare.err")"
  rm -f "$d.unshare.err"
  rm -rf "${d:?}/etc" "${d:?}/run"
  mkdir -p "$d/etc" "$d/var" "$d/run" "$d/home"
  cp -a "$root/etc/courier/." "$d/etc/"
  rm -f "$d/etc/module.fax" "$d/etc/module.uucp" # no fax, no UUCP: fewer processes
  COURIER_ROOT=$root render courier courier-esmtpd "$d/etc/esmtpd"
  printf 'mx.test\n' >"$d/etc/me"
  printf 'mx.test\n' >"$d/etc/defaultdomain"
  printf 'mx.test\nlocalhost\n' >"$d/etc/locals"
  printf 'example.test\n' >"$d/etc/esmtpacceptmailfor.dir/zoo"
  printf 'postmaster: catchall\n@example.test: catchall\n' >"$d/etc/aliases/system"
  printf 'authmodulelist="authuserdb"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n' \
    >"$d/etc/authdaemonrc"
  printf 'catchall\tuid=%s|gid=%s|home=%s|mail=%s\n' "$(id -u nobody)" "$(id -g nobody)" \
    "$d/home" "$d/Maildir" >"$d/etc/userdb"
  chmod 600 "$d/etc/userdb"
  cat "$STATE/tls/cert.pem" "$STATE/tls/key.pem" >"$d/etc/esmtpd.pem"
  chown root:courier "$d/etc/esmtpd.pem"
  chmod 640 "$d/etc/esmtpd.pem"
  chown -R root:courier "$d/etc"
  chmod 755 "$d/etc"
  mkdir -p "$d/var/msgq" "$d/var/msgs" "$d/var/tmp" "$d/var/track" "$d/var/filters" \
    "$d/var/allfilters" "$d/var/sts"
  chown -R courier:courier "$d/var" "$d/run"
  chmod 750 "$d/var" "$d/var/msgq" "$d/var/msgs" "$d/var/track" "$d/var/filters" "$d/var/allfilters"
  chmod 770 "$d/var/tmp"
  make_maildir "$d/Maildir"
  printf '%s/\n' "$d/Maildir" >"$d/home/.courier-default"
  chmod 644 "$d/home/.courier-default"
  chown -R nobody:nogroup "$d/home"
  files=$(no_dns_files courier)
  # shellcheck disable=SC2086 # two paths without spaces
  unshare -m --propagation private sh "$TPL/courier-run.sh" setup "$root" "$d" "$(port_of courier)" \
    $files >"$d/setup.out" 2>&1 || die "Courier's setup (makealiases, makeuserdb, makeacceptmailfor) failed: $(tail -5 "$d/setup.out")"
  # shellcheck disable=SC2086
  launch courier unshare -m --propagation private sh "$TPL/courier-run.sh" run "$root" "$d" \
    "$(port_of courier)" $files
}

start_nodejs() {
  local d=$STATE/nodejs node
  mkdir -p "$d"
  node=$(bash "$TPL/install.sh" nodejs | sed -n 's/^node=//p')
  [[ -x $node ]] || die "node not found"
  make_maildir "$d/Maildir"
  launch nodejs "$node" "$TPL/node_smtp_server.js" --root "${NODE_SMTP_ROOT:-/opt/smtp-harness/nodejs}" \
    --listen "$HOST:$(port_of nodejs)" --maildir "$d/Maildir" \
    --cert "$STATE/tls/cert.pem" --key "$STATE/tls/key.pem"
}

start_dovecot() {
  local d=$STATE/dovecot
  command -v dovecot >/dev/null || die "dovecot not installed (dovecot-core, dovecot-lmtpd)"
  [[ -x /usr/lib/dovecot/lmtp ]] || die "Dovecot's LMTP server is missing (dovecot-lmtpd)"
  mkdir -p "$d/run" "$d/mail"
  chown nobody:nogroup "$d/mail"
  render dovecot dovecot.conf "$d/dovecot.conf"
  dovecot -c "$d/dovecot.conf" -n >"$d/configtest.out" 2>&1 ||
    die "dovecot.conf rejected: $(tail -5 "$d/configtest.out")"
  launch dovecot dovecot -F -c "$d/dovecot.conf"
}

# launched_alive NAME: the pid in NAME's pid file is a live process
# (whatever it runs now).
launched_alive() {
  local f pid
  f=$(pidfile_of "$1")
  [[ -r $f ]] || return 1
  pid=$(head -n 1 "$f" | tr -dc '0-9')
  [[ -n $pid ]] && live "$pid"
}

# wait_ready NAME: waits up to $WAIT s for a 220 on the server's port.
wait_ready() {
  local name=$1 port deadline line
  port=$(port_of "$name")
  deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    if line=$(greeting "$port"); then
      return 0
    fi
    # Died? The pid we launched (or Postfix's master.pid: `postfix start`
    # returns once the master has written it) must be alive. Not pid_of: right
    # after launch the child may not have exec'd yet, and its /proc cmdline is
    # still this script's, which pid_of takes for a stale pid file; under load
    # that made a starting server (chasquid) look dead, and it was stopped.
    launched_alive "$name" || break
    sleep 0.2
  done
  log "error: $name did not answer 220 on $HOST:$port within ${WAIT}s${line:+ (got: $line)}"
  log "last lines of $(log_of "$name"):"
  tail -n 25 "$(log_of "$name")" 2>/dev/null | sed 's/^/    /' >&2 || true
  if [[ $name == postfix ]]; then
    tail -n 10 "$STATE/postfix/postfix.out" 2>/dev/null | sed 's/^/    /' >&2
  elif [[ $name == exim ]]; then
    tail -n 10 "$STATE/exim/log/mainlog" "$STATE/exim/log/paniclog" 2>/dev/null | sed 's/^/    /' >&2
  elif [[ $name == dovecot ]]; then
    tail -n 10 "$STATE/dovecot/dovecot.log" 2>/dev/null | sed 's/^/    /' >&2
  fi
  stop_one "$name"
  return 1
}

start_one() {
  local name=$1 port
  port=$(port_of "$name")
  if pid_of "$name" >/dev/null; then
    # Running: a busy server (under someone's suite run) may greet late; one
    # slow greeting is no reason to restart it under that run. Restarted only
    # when it does not greet within $WAIT s.
    if greets_within "$port" "$WAIT"; then
      echo "$name=$HOST:$port"
      return 0
    fi
    log "$name runs but did not answer 220 within ${WAIT}s: restarting it"
  fi
  stop_one "$name" # a half-dead earlier instance
  if port_open "$port"; then
    log "error: $name: $HOST:$port is taken by another program: $(ss -ltnpH "sport = :$port" 2>/dev/null | head -1)"
    return 1
  fi
  log "starting $name on $HOST:$port"
  ("start_$name") || return 1 # a subshell: its die() fails this server only
  wait_ready "$name" || return 1
  echo "$name=$HOST:$port"
}

# live PID: the process exists and is not a zombie (our servers are reparented
# to pid 1, which may reap them late).
live() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z ]]
}

# kill_wait PIDS...: TERM, bounded wait, then KILL for what is left.
kill_wait() {
  local pids=("$@") p deadline alive
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + STOP_WAIT))
  while ((SECONDS < deadline)); do
    alive=0
    for p in "${pids[@]}"; do live "$p" && alive=1; done
    ((alive)) || return 0
    sleep 0.2
  done
  log "still running after ${STOP_WAIT}s, sending KILL: ${pids[*]}"
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# group_pids PGID: the processes of that process group.
group_pids() {
  ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'
}

# marked_pids VAR=VALUE: every process whose environment holds that entry.
# Our Postfix master exports MAIL_CONFIG=<our config dir> to all its
# children; courier-run.sh exports SMTP_HARNESS_COURIER=<its state dir>.
marked_pids() {
  grep -lsxz "$1" /proc/[0-9]*/environ | cut -d/ -f3
  return 0
}

stop_one() {
  local name=$1 pid deadline
  if [[ $name == postfix ]]; then
    if pid_of postfix >/dev/null; then
      postfix -c "$STATE/postfix/etc" stop >>"$STATE/postfix/postfix.out" 2>&1 || true
      deadline=$((SECONDS + STOP_WAIT))
      while pid_of postfix >/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    fi
    # shellcheck disable=SC2046
    kill_wait $(marked_pids "MAIL_CONFIG=$STATE/postfix/etc")
    return 0
  fi
  if pid=$(pid_of "$name"); then
    # shellcheck disable=SC2046
    kill_wait $(group_pids "$pid")
  fi
  if [[ $name == courier ]]; then
    # couriertcpd runs in a session of its own, and a wrapper killed before
    # its trap ran leaves the daemons behind, holding the port and the
    # authdaemon socket, where no later start could work.
    # shellcheck disable=SC2046
    kill_wait $(marked_pids "SMTP_HARNESS_COURIER=$STATE/courier")
  fi
  rm -f "$(pidfile_of "$name")"
}

cmd_status() {
  local name pid port line rc=0
  for name in $(names "${1:-all}"); do
    port=$(port_of "$name")
    if pid=$(pid_of "$name"); then
      if line=$(greeting "$port"); then
        printf '%-10s running  %s:%-5s pid %-7s %s\n' "$name" "$HOST" "$port" "$pid" "$line"
      else
        printf '%-10s no-220   %s:%-5s pid %-7s log %s\n' "$name" "$HOST" "$port" "$pid" "$(log_of "$name")"
        rc=3
      fi
    else
      printf '%-10s stopped  %s:%s\n' "$name" "$HOST" "$port"
      rc=3
    fi
  done
  return $rc
}

cmd_env() {
  local name var md
  echo "export SMTP_SERVERS_DIR=$STATE"
  for name in "${ALL[@]}"; do
    var=$(var_of "$name")
    md=$(maildir_of "$name")
    if pid_of "$name" >/dev/null; then
      echo "export $var=$HOST:$(port_of "$name")"
      [[ -n $md ]] && echo "export ${var}_MAILDIR=$md"
    else
      echo "unset $var${md:+ ${var}_MAILDIR}  # $name not running"
    fi
  done
}

with_lock() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 120 9 || die "another real-servers.sh holds $STATE/.lock"
}

main() {
  local cmd=${1:-} arg=${2:-all} name rc=0
  case $cmd in
    start)
      [[ $(id -u) -eq 0 ]] || die "run as root (users, spools, privilege drop)"
      arg=$(names "$arg")
      with_lock
      for name in $arg; do bash "$TPL/install.sh" "$name" >/dev/null; done
      ensure_tls
      for name in $arg; do start_one "$name" || rc=1; done
      return $rc
      ;;
    stop)
      arg=$(names "$arg")
      with_lock
      for name in $arg; do stop_one "$name"; done
      ;;
    restart)
      "$0" stop "$arg"
      "$0" start "$arg"
      ;;
    status) cmd_status "$arg" ;;
    env) cmd_env ;;
    install) bash "$TPL/install.sh" "$arg" >/dev/null ;;
    *)
      awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
      return 2
      ;;
  esac
}

# Sourced (tests/realserver/real_servers_test.sh), only the functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
