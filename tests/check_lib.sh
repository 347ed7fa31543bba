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

# clip_golden DIR SEED SIZE TEMPLATE CLASS...: a random-weight CLIP checkpoint with its dataset and open_clip's
# outputs (tests/golden/make_clip_golden.py) in DIR; sets PY. Exits the test 77 (skipped) without
# /usr/bin/python3 or PyTorch, 1 when the generator fails.
clip_golden() {
  PY=/usr/bin/python3
  [ -x "$PY" ] || { echo "/usr/bin/python3 missing: skipped"; exit 77; }
  "$PY" tests/golden/make_clip_golden.py "$@" >/dev/null
  local st=$?
  [ $st = 77 ] && { echo "PyTorch missing: skipped"; exit 77; }
  [ $st = 0 ] || { echo "FAIL: make_clip_golden.py exited $st"; exit 1; }
}

# clip_ini_head NAME SEED RUNS GOLDEN: the [experiment], [encoder] and [data] sections of an experiment on
# clip_golden's files (64 px CLIP ViT-B/32), on stdout
clip_ini_head() {
  printf '[experiment]\nname = %s\nseed = %s\noutput_dir = %s\n' "$1" "$2" "$3"
  printf '[encoder]\narch = clip_vit_b_32\nweights = %s/weights.safetensors\nsize = 64\n' "$4"
  printf '[data]\npath = %s/data.npz\n' "$4"
}

# resume_ini OUTPUT_DIR WEIGHTS DATA: the small MoVL experiment of the resume, concurrency and disk-fault tests
# on stdout (EfficientNet-Lite0 at 32 x 32, 96 images, batch 16: LP steps 1-12, MoVL steps 13-24); callers
# append the sections they add ([output], [eval])
resume_ini() {
  printf '[experiment]\nseed = 5\noutput_dir = %s\n' "$1"
  printf '[encoder]\narch = efficientnet_lite0\nweights = %s\nsize = 32\n' "$2"
  printf '[data]\npath = %s\nmax_train = 96\nmax_eval = 64\n' "$3"
  printf '[prompt]\ntype = padding\nsize = 4\n'
  printf '[train]\nmethod = movl\nlp_epochs = 2\nepochs = 2\nbatch_size = 16\nprompt_lr = 0.05\nhead_lr = 0.01\n'
}

# need_files FILE...: exits the test 77 (skipped) when a file that tools/setup.sh fetches is missing
need_files() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
  done
}
