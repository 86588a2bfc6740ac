#!/usr/bin/env bash
# Installs what scripts/real-servers.sh needs to run one or all real SMTP
# servers on a Debian 12 machine, as root. Idempotent and quiet when all is
# present (no apt-get update then).
#   scripts/real-servers/install.sh [postfix|aiosmtpd|opensmtpd|smtp-sink|exim|sendmail|chasquid|courier|nodejs|dovecot|all]
# ("all" is the first four; the others are installed when started by name or
# by `real-servers.sh start all`, each on its own.)
#
# Debian packages: postfix (also smtp-sink), python3-aiosmtpd, openssl, swaks
# and libnet-ssleay-perl (swaks --tls needs it; only a Recommends of swaks).
# OpenSMTPD conflicts with postfix as a package, so unless the opensmtpd
# package itself is installed, its .deb is fetched with `apt-get download` and
# unpacked with `dpkg -x` into $OPENSMTPD_ROOT (default
# /opt/smtp-harness/opensmtpd); the runtime libraries it depends on are
# installed with apt-get; and what its binary hard-codes is created: users
# opensmtpd and opensmtpq, /var/lib/opensmtpd/empty (chroot), /var/spool/smtpd
# (0711) and its helpers in /usr/libexec/opensmtpd.
# Exim (exim4-daemon-light) conflicts with postfix too: unpacked the same way
# into $EXIM_ROOT (/opt/smtp-harness/exim), user Debian-exim created; so
# does Sendmail (sendmail-bin, -base, -cf into $SENDMAIL_ROOT).
# Courier (courier-mta, -base, -authlib, -authdaemon, -authlib-userdb) too,
# into $COURIER_ROOT (/opt/smtp-harness/courier; see install_courier).
# chasquid, dovecot-core and dovecot-lmtpd come from apt; nodemailer's
# smtp-server from npm into $NODE_SMTP_ROOT (/opt/smtp-harness/nodejs).
# apt_install refuses any install that would remove a package (Postfix), and
# no service starts during an install (policy-rc.d).
# Prints "smtpd=PATH" for OpenSMTPD, "exim=PATH" for Exim on stdout;
# everything else goes to stderr.
set -euo pipefail

OPENSMTPD_ROOT=${OPENSMTPD_ROOT:-/opt/smtp-harness/opensmtpd}
EXIM_ROOT=${EXIM_ROOT:-/opt/smtp-harness/exim}
NODE_SMTP_ROOT=${NODE_SMTP_ROOT:-/opt/smtp-harness/nodejs}
SENDMAIL_ROOT=${SENDMAIL_ROOT:-/opt/smtp-harness/sendmail}
COURIER_ROOT=${COURIER_ROOT:-/opt/smtp-harness/courier}
what=${1:-all}
apt_updated=0

log() { echo "real-servers install: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

apt_update_once() {
  if ((apt_updated == 0)); then
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# apt_install PKG... installs the packages that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix must not touch the machine's mail setup: "No configuration".
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt_update_once
  # Never let apt remove anything (Postfix above all) or swap the system MTA:
  # a package that would is unpacked privately instead (install_deb).
  local removes
  removes=$(apt-get install -s --no-install-recommends "${missing[@]}" </dev/null 2>&1 |
    sed -n 's/^Remv \([^ ]*\).*/\1/p' | tr '\n' ' ')
  [[ -z $removes ]] || die "apt-get install ${missing[*]} would remove: $removes; refused"
  # No service of a new package may start (Dovecot's IMAP, chasquid on :25):
  # a policy-rc.d that denies, only for this install when there is none.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# smtp-harness install.sh: no service starts during install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  local out rc=0
  out=$(mktemp)
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >"$out" 2>&1 || rc=$?
  ((made_policy)) && rm -f "$policy"
  if ((rc != 0)); then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "apt-get install ${missing[*]} failed"
  fi
  rm -f "$out"
}

# install_deb PKG ROOT: PKG's .deb (apt-get download) unpacked with dpkg -x
# into ROOT (no maintainer scripts run, nothing of the system's changes),
# plus the library packages of its Depends. For packages that conflict with
# Postfix as the system MTA. Prints nothing; ROOT/.unpacked-PKG holds the
# version (several packages may share ROOT).
install_deb() {
  local pkg=$1 root=$2 tmp deb libs
  [[ -s $root/.unpacked-$pkg ]] && return 0
  tmp=$(mktemp -d)
  chmod 755 "$tmp"
  apt-cache show "$pkg" >/dev/null 2>&1 || apt_update_once
  log "apt-get download $pkg"
  if ! (cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2); then
    apt_update_once
    (cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) ||
      die "apt-get download $pkg failed"
  fi
  deb=$(ls "$tmp"/"${pkg}"_*.deb)
  libs=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g' |
    grep -E '^lib' || true)
  # shellcheck disable=SC2086
  apt_install $libs
  mkdir -p "$root"
  dpkg -x "$deb" "$root"
  dpkg-deb -f "$deb" Version >"$root/.unpacked-$pkg"
  rm -rf "$tmp"
  log "unpacked $pkg $(cat "$root/.unpacked-$pkg") into $root"
}

# system_user NAME HOME: a system user and group NAME, as a package's
# maintainer script would make them (for unpacked packages).
system_user() {
  getent group "$1" >/dev/null || groupadd --system "$1"
  id -u "$1" >/dev/null 2>&1 ||
    useradd --system --gid "$1" --home-dir "$2" --no-create-home \
      --shell /usr/sbin/nologin --comment "$1 (smtp-harness)" "$1"
}

# Exim 4 conflicts with Postfix: exim4-daemon-light unpacked into $EXIM_ROOT.
# Its binary has the user Debian-exim compiled in. Prints "exim=PATH".
install_exim() {
  [[ $(id -u) -eq 0 ]] || die "Exim needs root (user Debian-exim)"
  install_deb exim4-daemon-light "$EXIM_ROOT"
  local exim=$EXIM_ROOT/usr/sbin/exim4
  [[ -x $exim ]] || die "$exim missing after unpacking exim4-daemon-light"
  if ldd "$exim" | grep -q 'not found'; then
    die "$exim misses libraries: $(ldd "$exim" | grep 'not found' | tr -s ' \n' ' ')"
  fi
  system_user Debian-exim /var/spool/exim4
  echo "exim=$exim"
}

# Sendmail conflicts with Postfix: sendmail-bin, -base and -cf (the m4
# macros that make sendmail.cf) unpacked into $SENDMAIL_ROOT; m4 from apt.
# Prints "sendmail=PATH" and "sendmail_cf=DIR".
install_sendmail() {
  [[ $(id -u) -eq 0 ]] || die "Sendmail needs root"
  apt_install m4
  local p
  for p in sendmail-bin sendmail-base sendmail-cf; do install_deb "$p" "$SENDMAIL_ROOT"; done
  local bin=$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail
  [[ -x $bin ]] || die "$bin missing after unpacking sendmail-bin"
  if ldd "$bin" | grep -q 'not found'; then
    die "$bin misses libraries: $(ldd "$bin" | grep 'not found' | tr -s ' \n' ' ')"
  fi
  echo "sendmail=$bin"
  echo "sendmail_cf=$SENDMAIL_ROOT/usr/share/sendmail/cf"
}

# Courier conflicts with Postfix (courier-mta provides mail-transport-agent):
# courier-mta, courier-base and the authlib packages (its authdaemon and
# userdb module) unpacked into $COURIER_ROOT; their libraries from apt.
# Courier's programs have /etc/courier, /usr/lib/courier,
# /usr/lib/courier-authlib, /var/lib/courier and /run/courier compiled in:
# real-servers.sh binds its private directories there in a mount namespace
# of its own, so empty mount points are made here (nothing is put in them).
# User and group courier, as the packages' postinst makes them. Prints
# "courier_root=DIR".
install_courier() {
  [[ $(id -u) -eq 0 ]] || die "Courier needs root (user courier, mount points)"
  local p
  for p in courier-mta courier-base courier-authlib courier-authdaemon courier-authlib-userdb; do
    install_deb "$p" "$COURIER_ROOT"
  done
  local b
  for b in usr/lib/courier/courier/modules/esmtp/courieresmtpd usr/lib/courier/courier/courierd; do
    [[ -x $COURIER_ROOT/$b ]] || die "$COURIER_ROOT/$b missing after unpacking Courier"
    if LD_LIBRARY_PATH=$COURIER_ROOT/usr/lib ldd "$COURIER_ROOT/$b" | grep -q 'not found'; then
      die "$b misses libraries: $(LD_LIBRARY_PATH=$COURIER_ROOT/usr/lib ldd "$COURIER_ROOT/$b" |
        grep 'not found' | tr -s ' \n' ' ')"
    fi
  done
  system_user courier /var/lib/courier
  mkdir -p /etc/courier /usr/lib/courier /usr/lib/courier-authlib /var/lib/courier /run/courier
  echo "courier_root=$COURIER_ROOT"
}

# nodemailer's smtp-server from the npm registry, into $NODE_SMTP_ROOT (no
# global install). Node.js itself: the one on PATH, else Debian's nodejs.
install_nodejs() {
  command -v node >/dev/null || apt_install nodejs
  command -v npm >/dev/null || apt_install npm
  if [[ ! -f $NODE_SMTP_ROOT/node_modules/smtp-server/package.json ]]; then
    mkdir -p "$NODE_SMTP_ROOT"
    log "npm install smtp-server@3 into $NODE_SMTP_ROOT"
    timeout 300 npm install --no-audit --no-fund --prefix "$NODE_SMTP_ROOT" smtp-server@3 >&2 ||
      die "npm install smtp-server failed (is the npm registry reachable?)"
  fi
  echo "node=$(command -v node)"
}

install_opensmtpd() {
  [[ $(id -u) -eq 0 ]] || die "OpenSMTPD needs root (users, /var/spool/smtpd)"
  local smtpd
  if installed opensmtpd; then
    smtpd=/usr/sbin/smtpd
  else
    smtpd=$OPENSMTPD_ROOT/usr/sbin/smtpd
    if [[ ! -x $smtpd ]]; then
      local tmp deb
      tmp=$(mktemp -d)
      chmod 755 "$tmp"
      apt-cache show opensmtpd >/dev/null 2>&1 || apt_update_once
      log "apt-get download opensmtpd"
      if ! (cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download opensmtpd >&2); then
        apt_update_once
        (cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download opensmtpd >&2) ||
          die "apt-get download opensmtpd failed"
      fi
      deb=$(ls "$tmp"/opensmtpd_*.deb)
      # Runtime libraries from the package's Depends (libevent, libdb, ...).
      local libs
      libs=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g' |
        grep -E '^lib' || true)
      # shellcheck disable=SC2086
      apt_install $libs
      mkdir -p "$OPENSMTPD_ROOT"
      dpkg -x "$deb" "$OPENSMTPD_ROOT"
      dpkg-deb -f "$deb" Version >"$OPENSMTPD_ROOT/VERSION"
      rm -rf "$tmp"
      log "unpacked OpenSMTPD $(cat "$OPENSMTPD_ROOT/VERSION") into $OPENSMTPD_ROOT"
    fi
    if ldd "$smtpd" | grep -q 'not found'; then
      die "$smtpd misses libraries: $(ldd "$smtpd" | grep 'not found' | tr -s ' \n' ' ')"
    fi
    # The binary looks for its delivery helpers here (compiled-in path).
    local h
    mkdir -p /usr/libexec/opensmtpd
    for h in "$OPENSMTPD_ROOT"/usr/libexec/opensmtpd/*; do
      cmp -s "$h" "/usr/libexec/opensmtpd/${h##*/}" || cp -p "$h" /usr/libexec/opensmtpd/
    done
  fi
  local u
  for u in opensmtpd opensmtpq; do
    getent group "$u" >/dev/null || groupadd --system "$u"
    id -u "$u" >/dev/null 2>&1 ||
      useradd --system --gid "$u" --home-dir /var/lib/opensmtpd/empty --no-create-home \
        --shell /usr/sbin/nologin --comment "OpenSMTPD (smtp-harness)" "$u"
  done
  mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
  chmod 755 /var/lib/opensmtpd/empty
  chown root:root /var/spool/smtpd
  chmod 711 /var/spool/smtpd
  echo "smtpd=$smtpd"
}

# openssl makes the test certificate; swaks is the client the checks use.
client=(openssl swaks libnet-ssleay-perl)

case $what in
  postfix | smtp-sink) apt_install postfix "${client[@]}" ;;
  aiosmtpd) apt_install python3 python3-aiosmtpd "${client[@]}" ;;
  opensmtpd)
    apt_install "${client[@]}"
    install_opensmtpd
    ;;
  exim) install_exim ;;
  sendmail) install_sendmail ;;
  chasquid) apt_install chasquid ;;
  nodejs) install_nodejs ;;
  courier) install_courier ;;
  dovecot) apt_install dovecot-core dovecot-lmtpd ;;
  all)
    apt_install postfix python3 python3-aiosmtpd "${client[@]}"
    install_opensmtpd
    ;;
  *) die "unknown server '$what' (postfix|aiosmtpd|opensmtpd|smtp-sink|exim|sendmail|chasquid|nodejs|dovecot|all)" ;;
esac
