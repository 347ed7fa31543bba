#!/usr/bin/env bash
# Every command that `movl --help` lists answers --help and -h with its usage on stdout and exit 0
# (stderr empty, "usage: movl COMMAND" in it), also after other arguments; and a command's usage
# error (no arguments) prints that same text on stderr, so help and errors never drift apart.
# Usage: cli_help_test.sh PATH/TO/movl
set -u
movl=$1
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$movl" --help >"$tmp/help" || bad "movl --help failed"
commands=$(sed -n '/^commands:/,/^$/p' "$tmp/help" | sed -n 's/^  \([a-z][a-z_-]*\) .*/\1/p')
check "movl --help lists the commands" test "$(wc -w <<<"$commands")" -ge 10
for c in explain predict train sweep; do
  check "movl --help lists $c" grep -qw "$c" <<<"$commands"
done
for c in $commands; do
  for flag in --help -h; do
    "$movl" "$c" "$flag" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc = 0 ] && [ -s "$tmp/out" ] && [ ! -s "$tmp/err" ] && grep -q "usage: movl $c" "$tmp/out"; then
      ok
    else
      bad "movl $c $flag exited $rc, stdout $(wc -c <"$tmp/out") bytes, stderr: $(head -c 200 "$tmp/err")"
    fi
  done
  cp "$tmp/out" "$tmp/usage_$c"
  # --help after other arguments still asks for help (nothing runs)
  "$movl" "$c" some_argument --help >"$tmp/out2" 2>/dev/null
  check "movl $c ARG --help prints the same usage" cmp -s "$tmp/out2" "$tmp/usage_$c"
done
# IMAGE, not IMAGE.png: the image commands take JPEG and DICOM too
for c in predict classify explain; do
  check "$c's usage says IMAGE" grep -q "IMAGE\.\.\." "$tmp/usage_$c"
  check "$c's usage does not say IMAGE.png" test -z "$(grep -o 'IMAGE\.png' "$tmp/usage_$c")"
done
# the usage error of a command without arguments is the --help text, on stderr, exit 2
for c in classify train eval shift predict explain features sweep report; do
  "$movl" "$c" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  tail -n "$(wc -l <"$tmp/usage_$c")" "$tmp/err" >"$tmp/tail"
  if [ $rc = 2 ] && [ ! -s "$tmp/out" ] && cmp -s "$tmp/tail" "$tmp/usage_$c"; then
    ok
  else
    bad "movl $c without arguments exited $rc; its stderr does not end with the --help text:"
    head -3 "$tmp/err"
  fi
done
# -s's value is the experiment's business, and sweep passes everything after --slurm on to sbatch
"$movl" train "$tmp/none.ini" -s -h >"$tmp/out" 2>"$tmp/err"
check "train -s -h is not a help request" test $? = 2 -a ! -s "$tmp/out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
