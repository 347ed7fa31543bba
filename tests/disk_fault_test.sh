#!/usr/bin/env bash
# Disk faults (docs/RELIABILITY.md): movl's outputs on a full file system and on a read-only one, made here as a
# 2 MiB tmpfs (mount as root, else inside `unshare --user --map-root-user --mount`; skipped, exit 77, when
# neither may mount). For each fault: one line on stderr naming the file and the reason, exit 1 (2 for bad
# configuration), no summary.json, no temporary or half-written file, the previous checkpoint unchanged; once
# the fault is gone, `movl train --resume` finishes with a model byte-identical to an uninterrupted run.
#  1. full during training: the next checkpoint cannot be written;
#  2. full at the end: the model file cannot be written (set-up and evaluation done, outputs refused);
#  3. full before the run: config.ini cannot be written, no run folder is left;
#  4. read-only: a resume cannot take its lock; a new run cannot make its folder;
#  5. explain's PNGs on a full file system: refused whole.
# Usage: disk_fault_test.sh PATH/TO/movl   (from the repository root); about 30 s on 2 cores.
set -u
movl=$(realpath "$1")
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
weights=weights/efficientnet_lite0.safetensors pneu=data/medmnist/pneumoniamnist.npz
need_files "$weights" "$pneu"
probe=$(mktemp -d)
if ! mount -t tmpfs -o size=64k tmpfs "$probe" 2>/dev/null; then
  rmdir "$probe"
  if [ -z "${MOVL_IN_USERNS:-}" ] && unshare --user --map-root-user --mount true 2>/dev/null; then
    MOVL_IN_USERNS=1 exec unshare --user --map-root-user --mount bash "$0" "$@"
  fi
  echo "cannot mount a tmpfs here (not root, no user namespaces): skipped"
  exit 77
fi
umount "$probe" && rmdir "$probe"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
tmp=$(mktemp -d)
fs=$tmp/fs
mkdir "$fs"
trap 'umount "$fs" 2>/dev/null; rm -rf "$tmp"' EXIT
mount -t tmpfs -o size=2m tmpfs "$fs" || { echo "FAIL: mount"; exit 1; }
export MOVL_STOP_AFTER_STEPS= MOVL_TRACE= MOVL_EVENTS=

{ resume_ini "$fs/runs" "$(realpath "$weights")" "$(realpath "$pneu")"; printf '[output]\ncheckpoint_every = 5\n'; } >"$tmp/r.ini"
"$movl" train "$tmp/r.ini" -s experiment.output_dir="$tmp/runs" -s experiment.name=ref --no-self-test \
  >"$tmp/ref.log" 2>&1 || { tail -3 "$tmp/ref.log"; echo "FAIL: the reference run"; exit 1; }

# fill: the tmpfs full to the last byte
fill() { dd if=/dev/zero of="$fs/filler" bs=4k 2>/dev/null; dd if=/dev/zero of="$fs/filler2" bs=1 2>/dev/null; }
unfill() { rm -f "$fs/filler" "$fs/filler2"; }
# intact RUN SHA: the run folder has its old checkpoint, no summary.json, no temporary or half-written file
intact() {
  [ "$(sha256sum <"$1/resume.safetensors")" = "$2" ] && [ ! -e "$1/summary.json" ] &&
    ! ls "$1" | grep -q '\.tmp\.' && "$PY" tests/run_files.py whole "$1"
}
# fault NAME PATTERN CMD...: CMD exits 1 with one line on stderr matching PATTERN
fault() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  check "$name: exit 1 ($rc), one line: $(cat "$tmp/$name.err")" bash -c "[ $rc = 1 ] &&
    [ \$(grep -vc '^warning: ' '$tmp/$name.err') = 1 ] && grep -Eq -- \"\$1\" '$tmp/$name.err'" _ "$pattern"
}
# finish NAME: the fault gone, the resume ends as the uninterrupted run
finish() {
  "$movl" train --resume "$fs/runs/$1" --no-self-test >"$tmp/$1.resume.log" 2>&1
  check "$1: resumed once the fault is gone (exit $?), model byte-identical to the uninterrupted run's" \
    cmp -s "$tmp/runs/ref/model.safetensors" "$fs/runs/$1/model.safetensors"
}
# started NAME STEPS: a run on the tmpfs stopped after STEPS steps, at its checkpoint; prints its SHA-256
started() {
  MOVL_STOP_AFTER_STEPS=$2 "$movl" train "$tmp/r.ini" -s experiment.name="$1" --no-self-test >"$tmp/$1.log" 2>&1
  [ -f "$fs/runs/$1/resume.safetensors" ] || { bad "$1: no checkpoint after $2 steps"; tail -2 "$tmp/$1.log"; }
  sha256sum <"$fs/runs/$1/resume.safetensors"
}

echo "== 1. full during training"
sha=$(started full_train 4)
fill
fault full_train "^movl train: $fs/runs/full_train/resume.safetensors: cannot write \(No space left on device\)$" \
  "$movl" train --resume "$fs/runs/full_train" --no-self-test
check "full_train: previous checkpoint unchanged, nothing half-written" intact "$fs/runs/full_train" "$sha"
unfill
finish full_train

echo "== 2. full at the end (outputs)"
sha=$(started full_out 24) # the last step: the checkpoint after the last epoch, before the test split
fill
fault full_out "^movl train: $fs/runs/full_out/[a-z_]+\.(safetensors|png|csv|json): cannot write \(No space left on device\)$" \
  "$movl" train --resume "$fs/runs/full_out" --no-self-test
check "full_out: checkpoint unchanged, no summary.json, nothing half-written" intact "$fs/runs/full_out" "$sha"
unfill
finish full_out

echo "== 3. full before the run"
fill
fault full_new "^movl train: $fs/runs/full_new(/config.ini)?: cannot (write|lock|create)" \
  "$movl" train "$tmp/r.ini" -s experiment.name=full_new --no-self-test
check "full_new: no run folder left" test ! -e "$fs/runs/full_new"
unfill

echo "== 4. read-only"
sha=$(started ro 7)
mount -o remount,ro "$fs"
fault ro_resume "^movl train: $fs/runs/ro/train.lock: cannot lock \(Read-only file system\)$" \
  "$movl" train --resume "$fs/runs/ro" --no-self-test
fault ro_new "^movl train: $fs/runs/ro_new: cannot create the run directory \(Read-only file system\)$" \
  "$movl" train "$tmp/r.ini" -s experiment.name=ro_new --no-self-test
check "ro: checkpoint unchanged" intact "$fs/runs/ro" "$sha"
mount -o remount,rw "$fs"
finish ro

echo "== 5. explain on a full file system"
img=$tmp/x.png
"$PY" - "$img" <<'EOF'
import struct, sys, zlib
rows = [bytes((x * 7 + y * 3) % 256 for x in range(28)) for y in range(28)]
raw = b"".join(b"\0" + r for r in rows)
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOF
mkdir -p "$fs/ex"
fill
fault explain_full "^movl explain: $fs/ex/x_explain.png: cannot write \(No space left on device\)$" \
  "$movl" explain "$tmp/runs/ref" "$img" --out "$fs/ex"
check "explain_full: no PNG, no temporary file" bash -c "[ -z \"\$(ls -A '$fs/ex')\" ]"
unfill

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
