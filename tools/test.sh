#!/usr/bin/env bash
# Sets up everything the tests need, builds, and runs the whole suite:
#   1. every test (ctest labels "unit" and "e2e": training runs, bad
#      experiments, resume, sweeps locally and through a loopback Slurm) on
#      the default OpenCL device (PoCL here),
#   2. the kernel tests again under oclgrind (label "oclgrind", small shapes),
#   3. the unit tests and the sweep tests again with AddressSanitizer + UBSan
#      (build-asan/).
# Exit code 0 only when all three pass.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
export PYTHONPATH="$PWD/.deps/python${PYTHONPATH:+:$PYTHONPATH}"
jobs=${MOVL_TEST_JOBS:-2}
# As root (CI: a fresh container where setup.sh installed Slurm) the Slurm
# end-to-end test must run, not skip; it needs root to start its daemons.
if [ "$(id -u)" = 0 ]; then export MOVL_REQUIRE_SLURM=${MOVL_REQUIRE_SLURM:-1}; fi

echo "== unit and end-to-end tests (Release) =="
ctest --test-dir build -L "unit|e2e" --output-on-failure -j"$jobs"

echo "== kernel tests under oclgrind =="
ctest --test-dir build -L oclgrind --output-on-failure -j"$jobs"

echo "== unit tests under AddressSanitizer + UBSan =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOVL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
# LLVM inside the OpenCL driver keeps compiler state for the process lifetime:
# leaks reported from the driver's libraries are suppressed, ours are not.
# use_tls=0: on some machines (seen with PoCL's pthread-skylake-avx512 device,
# on this commit and on the one before) LeakSanitizer's tracer reads a bogus
# dynamic-TLS block of a dlopen'ed library ("DTLS 8 at 0x776") and dies with
# signal 11 before checking anything. Not scanning TLS as roots can only add
# reports (memory held only through TLS would count as leaked), never hide one.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:use_tls=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs"
# The sweep tests too: they run the movl binary through fork/exec, signals and
# Slurm, where leaks and bad frees would otherwise go unseen (about 2 minutes).
ctest --test-dir build-asan -R "^(sweep_e2e|slurm_e2e)$" --output-on-failure -j"$jobs"
echo "== fuzzing: every regression input, then ${MOVL_FUZZ_RUNS:-20000} seeded inputs per harness (tools/fuzz.sh) =="
MOVL_FUZZ_RUNS=${MOVL_FUZZ_RUNS:-20000} tools/fuzz.sh
echo "== all tests passed =="
