#!/usr/bin/env bash
# Regenerates the scenario catalogue in docs/scenarios.md — the part between
# <!-- catalogue:begin --> and <!-- catalogue:end --> — from
# `smtp-harness list --markdown --suite scenarios`.
#
#   scripts/gen-catalogue.sh [--check] [SMTP_HARNESS] [REPO_ROOT]
#
# --check: change nothing; exit 1 when the catalogue is stale, or when the
# "Requirements coverage" section names a scenario id the suite does not have
# (the ctest `scenario_catalogue`, label catalogue, runs this).
# SMTP_HARNESS defaults to the first build/*/app/smtp-harness found.
set -euo pipefail

check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
  shift
fi
root="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
bin="${1:-}"
if [[ -z "$bin" ]]; then
  for candidate in "$root"/build/*/app/smtp-harness; do
    if [[ -x "$candidate" ]]; then
      bin="$candidate"
      break
    fi
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "gen-catalogue: no smtp-harness binary (build it, or pass its path)" >&2
  exit 2
fi

cd "$root"  # group names are relative to "scenarios"
catalogue="$(mktemp)"
ids="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$catalogue" "$ids" "$err"' EXIT
if ! "$bin" list --markdown --suite scenarios >"$catalogue" 2>"$err" ||
  ! "$bin" list --suite scenarios 2>"$err" | awk '{print $1}' >"$ids"; then
  cat "$err" >&2
  exit 2
fi

python3 - "$check" docs/scenarios.md "$catalogue" "$ids" <<'EOF'
import re, sys

check, doc_path, catalogue_path, ids_path = sys.argv[1] == "1", sys.argv[2], sys.argv[3], sys.argv[4]
BEGIN, END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"
doc = open(doc_path, encoding="utf-8").read()
catalogue = open(catalogue_path, encoding="utf-8").read()
ids = set(open(ids_path, encoding="utf-8").read().split())

if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
    sys.exit(f"gen-catalogue: {doc_path} needs exactly one {BEGIN} ... {END} pair")
head, rest = doc.split(BEGIN)
_, tail = rest.split(END)
new = head + BEGIN + "\n" + catalogue + END + tail

problems = []
# Every scenario id named in "## Requirements coverage" must exist.
m = re.search(r"^## Requirements coverage\n(.*?)(?=^## |\Z)", new, re.S | re.M)
if m:
    for ref in sorted(set(re.findall(r"`([A-Za-z0-9][A-Za-z0-9._-]*)`", m.group(1)))):
        looks_like_id = ref.startswith(("R", "rfc5321.", "ext.", "smuggling.", "security."))
        if looks_like_id and not re.match(r"^R\d+-[\d.]+-[a-z]$", ref) and ref not in ids:
            problems.append(f"Requirements coverage names unknown scenario id '{ref}'")

if check:
    if new != doc:
        problems.append(f"{doc_path} catalogue is stale: run scripts/gen-catalogue.sh")
    for p in problems:
        print("gen-catalogue:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)
for p in problems:
    print("gen-catalogue: warning:", p, file=sys.stderr)
if new != doc:
    open(doc_path, "w", encoding="utf-8").write(new)
    print(f"gen-catalogue: updated {doc_path}")
else:
    print(f"gen-catalogue: {doc_path} is up to date")
EOF
