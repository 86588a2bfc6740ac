#!/usr/bin/env bash
# Installs what scripts/real-servers.sh needs to run one or all real SMTP
# servers on a Debian 12 machine, as root. Idempotent and quiet when all is
# present (no apt-get update then).
#   scripts/real-servers/install.sh [postfix|aiosmtpd|opensmtpd|smtp-sink|all]
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
# Prints "smtpd=PATH" for OpenSMTPD on stdout; everything else goes to stderr.
set -euo pipefail

OPENSMTPD_ROOT=${OPENSMTPD_ROOT:-/opt/smtp-harness/opensmtpd}
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
  local out
  out=$(mktemp)
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "apt-get install ${missing[*]} failed"
  fi
  rm -f "$out"
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
  all)
    apt_install postfix python3 python3-aiosmtpd "${client[@]}"
    install_opensmtpd
    ;;
  *) die "unknown server '$what' (postfix|aiosmtpd|opensmtpd|smtp-sink|all)" ;;
esac
