# Shared helpers of the shell tests (sourced): counters and check functions.
#   ok / bad MESSAGE...     count a passed / failed check (bad prints FAIL: MESSAGE)
#   check WHAT CMD...       CMD succeeds, else bad WHAT
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
