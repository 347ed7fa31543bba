# Shared helpers of the shell tests (sourced): counters and check functions.
#   ok / bad MESSAGE...     count a passed / failed check (bad prints FAIL: MESSAGE)
#   check WHAT CMD...       CMD succeeds, else bad WHAT
#   expect CODE PATTERN CMD...  CMD exits with CODE and its stdout+stderr matches
#                           the extended regular expression PATTERN
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*"
}
check() {
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}
expect() {
  local code=$1 pattern=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = "$code" ] && grep -Eq -- "$pattern" <<<"$out"; then
    ok
  else
    bad "'$*' exited $rc (expected $code) and printed:"
    echo "$out" | head -5
    echo "  (expected to match: $pattern)"
  fi
}
