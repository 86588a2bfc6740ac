#!/usr/bin/env bash
# Installs every Debian 12 package smtp-harness needs to build, test, fuzz and
# run its real-server integration tests. Idempotent: when everything is
# present it only checks and exits (no apt-get update).
set -euo pipefail

packages=(
  build-essential cmake ninja-build g++ pkg-config git ccache
  clang-14 libclang-rt-14-dev clang-format afl++
  libboost1.81-all-dev libssl-dev openssl
  nlohmann-json3-dev libabsl-dev libre2-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libpcap-dev
  python3 python3-aiosmtpd swaks libnet-ssleay-perl tcpdump
  msmtp s-nail
  chromium
  postfix
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks about its mailer type; answer "No configuration" so it never
# touches the machine's mail setup. Our tests write their own main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
