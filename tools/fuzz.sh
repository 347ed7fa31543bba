#!/usr/bin/env bash
# Fuzzes every parser movl exposes to files (docs/RELIABILITY.md): builds the libFuzzer harnesses of
# tests/fuzz with clang + ASan/UBSan (build-fuzz/), replays the committed regression corpora
# (tests/fuzz/corpus/NAME: every input that once crashed, hung or leaked, plus small seeds), then fuzzes
# each harness for SECONDS from seeds cut from real files (tests/fuzz/make_seeds.py). A crash, a leak or an
# input slower than 1 s fails the script and leaves the input in build-fuzz/artifacts/ (add it to the corpus
# once fixed).
# Usage: tools/fuzz.sh [SECONDS (default 30; 0 replays only)] [HARNESS...]
#   MOVL_FUZZ_RUNS=N: instead of SECONDS, N inputs per harness (a fifth of that for the slow folder one)
#   from seed 1: the same inputs on every machine, as CI uses it, so CI's verdict does not depend on
#   how fast the machine is; the timed mode is for searching.
#   harnesses: image safetensors ini npz csv folder bench_json unpickler (the last one is Python, atheris)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
all=(image safetensors ini npz csv folder bench_json unpickler)
harnesses=("${@:-${all[@]}}")
[ $# -gt 0 ] || harnesses=("${all[@]}")
# the harnesses write each input to a file: in memory where there is /dev/shm (a disk stall is not a hang)
[ -w /dev/shm ] && export TMPDIR=/dev/shm
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:use_tls=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

if [ -x /usr/bin/pvrg-jpeg ]; then
  # GDCM runs this program (package pvrg-jpeg) on JPEG data its own codec rejects; on corrupt input it
  # can run for minutes (docs/IMAGES.md), which the image harness would report as a hang
  echo "fuzz: /usr/bin/pvrg-jpeg is installed; remove it (apt-get remove pvrg-jpeg) before fuzzing"; exit 2
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOVL_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzz_all -j"$(nproc)" >/dev/null
rm -rf build-fuzz/seeds build-fuzz/work
/usr/bin/python3 tests/fuzz/make_seeds.py build-fuzz/seeds
mkdir -p build-fuzz/artifacts

status=0
for h in "${harnesses[@]}"; do
  corpus=tests/fuzz/corpus/$h seeds=build-fuzz/seeds/$h work=build-fuzz/work/$h
  mkdir -p "$corpus" "$seeds" "$work"
  if [ "$h" = unpickler ]; then
    run=(/usr/bin/python3 tests/fuzz/fuzz_unpickler.py)
  else
    run=(build-fuzz/fuzz_"$h")
  fi
  # the image harness: full stacks for LeakSanitizer, so that the suppression of what GDCM leaks when its
  # assert is caught (tests/lsan.supp) sees GDCM's frames behind zlib and libstdc++ allocations
  asan=$ASAN_OPTIONS
  [ "$h" = image ] && asan="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
  opts=(-timeout=1 -rss_limit_mb=2048 -artifact_prefix="build-fuzz/artifacts/$h-" -print_final_stats=1)
  log=build-fuzz/fuzz_$h.log
  # replay: every committed input once
  if ! ASAN_OPTIONS=$asan "${run[@]}" "${opts[@]}" -runs=0 "$corpus" >"$log" 2>&1; then
    echo "fuzz $h: a regression input fails again (build-fuzz/fuzz_$h.log):"; tail -20 "$log"; status=1; continue
  fi
  budget=(-max_total_time="$seconds")
  if [ -n "${MOVL_FUZZ_RUNS:-}" ]; then
    runs=$MOVL_FUZZ_RUNS
    [ "$h" = folder ] && runs=$((runs / 5))
    budget=(-runs="$runs" -seed=1)
  fi
  # CI (MOVL_FUZZ_RUNS) replays the image corpus but does not search with it: the search still finds new
  # weaknesses of GDCM's readers (tests/fuzz/known/, docs/RELIABILITY.md), so its verdict would depend on luck
  if [ "$h" = image ] && [ -n "${MOVL_FUZZ_RUNS:-}" ]; then
    echo "fuzz image: ok, $(ls "$corpus" | wc -l) regression inputs replayed (no search in CI: see docs/RELIABILITY.md)"
    continue
  fi
  if [ "$seconds" -gt 0 ] || [ -n "${MOVL_FUZZ_RUNS:-}" ]; then
    if ! ASAN_OPTIONS=$asan "${run[@]}" "${opts[@]}" "${budget[@]}" "$work" "$seeds" "$corpus" >>"$log" 2>&1; then
      echo "fuzz $h: finding (build-fuzz/fuzz_$h.log, input in build-fuzz/artifacts/):"; tail -30 "$log"; status=1
      continue
    fi
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | grep -oE '[0-9]+ second' | grep -oE '[0-9]+' || echo "?")
  echo "fuzz $h: ok, $(ls "$corpus" | wc -l) regression inputs replayed, ${execs} executions in ${secs} s, coverage $cov"
done
exit $status
