#!/usr/bin/env bash
# Installs the real SMTP clients the client suite runs against
# (tests/clients/profiles/, docs/clients.md): swaks, curl, msmtp and s-nail
# from apt (scripts/install-deps.sh lists them), Python's smtplib (python3),
# and nodemailer from the npm registry into $NODE_CLIENT_ROOT
# (/opt/smtp-harness/clients; no global install). Idempotent.
set -euo pipefail
NODE_CLIENT_ROOT=${NODE_CLIENT_ROOT:-/opt/smtp-harness/clients}
cd "$(dirname "$0")/../.."
bash scripts/install-deps.sh
if [[ ! -f $NODE_CLIENT_ROOT/node_modules/nodemailer/package.json ]]; then
  command -v npm >/dev/null || { echo "install: npm missing (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$NODE_CLIENT_ROOT"
  echo "install: npm install nodemailer@6 into $NODE_CLIENT_ROOT" >&2
  timeout 300 npm install --no-audit --no-fund --prefix "$NODE_CLIENT_ROOT" nodemailer@6 >&2 ||
    { echo "install: npm install nodemailer failed (is the npm registry reachable?)" >&2; exit 1; }
fi
echo "nodemailer=$NODE_CLIENT_ROOT/node_modules/nodemailer"
