# Sourced by scripts/fuzz.sh and scripts/fuzz-campaign.sh (from the
# repository root): options_flags TARGET prints the libFuzzer flags of
# fuzz/TARGET.options ([libfuzzer] key = value), one per line, with the
# dictionary path made relative to the root.
options_flags() {
  local file=fuzz/$1.options key value
  [[ -f $file ]] || return 0
  while IFS='=' read -r key value; do
    key=${key//[[:space:]]/}
    value=$(echo "$value" | xargs)
    [[ -z $key || $key == \[* || $key == \#* ]] && continue
    [[ $key == dict ]] && value=fuzz/$value
    echo "-$key=$value"
  done <"$file"
}
