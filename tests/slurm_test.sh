#!/usr/bin/env bash
# `movl sweep --slurm` end to end through a real Slurm: a private single-node
# cluster on loopback (tests/slurm/local_cluster.sh: munged, slurmctld,
# slurmd) runs a 4-point sweep (loss.lambda x experiment.seed, a tiny MoVL
# run each) as a job array; every point must finish, `movl sweep collect`
# must tabulate exactly those results, and without sbatch on PATH
# `movl sweep --slurm` must fail with exit 2 and create nothing.
# Usage: slurm_test.sh PATH/TO/movl   (from the repository root, as root)
# About 40 s on a 2-core CPU (PoCL). Skipped (exit 77) without Slurm and
# munge, root, python3 or the data and weights of tools/setup.sh; with
# MOVL_REQUIRE_SLURM=1 (CI) any of those missing is a failure instead.
# The daemons are stopped on every exit, failures included.
# shellcheck disable=SC2016 # single-quoted snippets expand in their own shell
set -u
movl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$PATH:/usr/sbin:/sbin" # the daemons live in sbin
start=$SECONDS
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

skip() {
  if [ "${MOVL_REQUIRE_SLURM:-0}" = 1 ]; then
    echo "FAIL: $1 (MOVL_REQUIRE_SLURM=1: the Slurm test must run)"
    exit 1
  fi
  echo "$1: skipped"
  exit 77
}
for tool in munged munge unmunge slurmctld slurmd sbatch sinfo squeue scancel; do
  command -v "$tool" >/dev/null ||
    skip "$tool is not installed (tools/setup.sh --test installs munge, slurmctld, slurmd, slurm-client)"
done
[ "$(id -u)" = 0 ] || skip "the local Slurm cluster runs its daemons as root"
pneu=$PWD/data/medmnist/pneumoniamnist.npz weights=$PWD/weights/efficientnet_lite0.safetensors
for f in "$pneu" "$weights"; do
  [ -f "$f" ] || skip "$f missing (tools/setup.sh fetches it)"
done
PY=/usr/bin/python3 # Debian's; else whatever python3 is on PATH
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 missing"

# shellcheck source=tests/slurm/local_cluster.sh
. "$here/slurm/local_cluster.sh"
tmp=$(mktemp -d)
cluster='' child=''
cleanup() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
  [ -n "$cluster" ] && slurm_cluster_down "$cluster"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # through the EXIT trap: no daemon outlives the test
# in_background CMD...: CMD as a waited-for background job, so that a signal
# reaches the traps at once rather than when CMD ends
in_background() {
  "$@" &
  child=$!
  wait "$child"
  local rc=$?
  child=
  return $rc
}


# Sweep directory checks (standard library only).
cat >"$tmp/h.py" <<'EOF'
import configparser, csv, json, math, os, sys

def rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))

def decimals(text):  # half a unit of the last printed digit
    mant = text.lower().split('e')[0]
    places = len(mant.split('.')[1]) if '.' in mant else 0
    exp = int(text.lower().split('e')[1]) if 'e' in text.lower() else 0
    return 0.5 * 10.0 ** (exp - places)

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == 'points':  # DIR N: points.csv has N points, each with a summary.json whose seed and lambda are the point's
    d, n = a[0], int(a[1])
    pts = rows(d + '/points.csv')
    okp = len(pts) == n
    if not okp:
        print('    points.csv has %d points, expected %d' % (len(pts), n))
    for p in pts:
        run = os.path.join(d, p['name'])
        if not os.path.isfile(run + '/summary.json'):
            print('    %s: no summary.json' % p['name'])
            okp = False
            continue
        s = json.load(open(run + '/summary.json'))
        c = configparser.ConfigParser(interpolation=None, strict=False)
        c.read(run + '/config.ini')
        seed_ok = s['seed'] == int(p['experiment.seed'])
        lam_ok = math.isclose(float(c['loss']['lambda']), float(p['loss.lambda']), abs_tol=1e-9)
        fin = all(math.isfinite(s['test'][k]) and 0 <= s['test'][k] <= 1 for k in ('acc', 'auc'))
        print('    %s: seed %d, lambda %s, test acc %.4f auc %.4f' %
              (p['name'], s['seed'], c['loss']['lambda'], s['test']['acc'], s['test']['auc']))
        if not (seed_ok and lam_ok and fin):
            print('    %s: seed/lambda not the point\'s, or metrics not in [0, 1]' % p['name'])
            okp = False
    sys.exit(0 if okp else 1)
elif cmd == 'results':  # DIR: results.csv has a row per point whose test metrics are its summary.json's
    d = a[0]
    pts = rows(d + '/points.csv')
    names = {p['name'] for p in pts}
    res = rows(d + '/results.csv')
    if len(res) != len(pts):
        print('    results.csv has %d rows, expected %d' % (len(res), len(pts)))
        sys.exit(1)
    cols = list(res[0].keys())
    key = next((c for c in cols if {r[c] for r in res} == names), None)
    if key is None:
        print('    results.csv: no column holds the point names (columns %s)' % cols)
        sys.exit(1)
    metric = {}  # results.csv column -> summary.json test key
    for c in cols:
        low = c.lower()
        if low.startswith('test'):
            m = low[4:].lstrip('_. ')
            if m in ('acc', 'auc', 'balanced_acc', 'macro_f1'):
                metric[c] = m
    if not {'acc', 'auc'} <= set(metric.values()):
        print('    results.csv: no test acc and auc columns (columns %s)' % cols)
        sys.exit(1)
    print('    results.csv: %d rows; %s checked against summary.json' % (len(res), ', '.join(metric)))
    okr = True
    for r in res:
        t = json.load(open(os.path.join(d, r[key], 'summary.json')))['test']
        for c, m in metric.items():
            if abs(float(r[c]) - t[m]) > decimals(r[c]) + 1e-12:
                print('    %s: results.csv %s = %s, summary.json test.%s = %r' % (r[key], c, r[c], m, t[m]))
                okr = False
    sys.exit(0 if okr else 1)
EOF
h() { "$PY" "$tmp/h.py" "$@"; }

# A 4-point sweep of tiny MoVL runs (32 x 32, 64 training images, one epoch
# of each stage): about 4 s per point.
cat >"$tmp/sweep.ini" <<EOF
[experiment]
name = slurm_sweep
seed = 0
output_dir = $tmp/runs

[encoder]
arch = efficientnet_lite0
weights = $weights
size = 32

[data]
path = $pneu
max_train = 64
max_eval = 64

[prompt]
type = padding
size = 4

[train]
method = movl
epochs = 1
lp_epochs = 1
batch_size = 16

[sweep]
loss.lambda = 0, 0.1
experiment.seed = 1, 2
EOF

echo "== without sbatch on PATH: exit 2, one line, nothing created"
nosb_path=
IFS=: read -ra entries <<<"$PATH"
for e in "${entries[@]}"; do
  [ -n "$e" ] && [ ! -x "$e/sbatch" ] && nosb_path+=${nosb_path:+:}$e
done
# without_sbatch WHAT NOT_CREATED ARGS...: `movl sweep ARGS` exits 2 with one
# line that names sbatch, and NOT_CREATED does not exist afterwards
without_sbatch() {
  local what=$1 gone=$2 out rc
  shift 2
  out=$(PATH=$nosb_path "$movl" sweep "$@" 2>&1)
  rc=$?
  if [ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q sbatch <<<"$out" && [ ! -e "$gone" ]; then
    echo "  $what: $out"
    ok
  else
    bad "$what: exit $rc (expected 2), output '$out' (expected one line naming sbatch), $gone $([ -e "$gone" ] && echo created || echo absent)"
  fi
}
without_sbatch "no sbatch, --out" "$tmp/nosb" "$tmp/sweep.ini" --out "$tmp/nosb" --slurm
without_sbatch "no sbatch, the experiment's directory" "$tmp/runs" "$tmp/sweep.ini" --slurm --wait

echo "== local Slurm cluster"
cluster=$tmp/cluster
t0=$SECONDS
slurm_cluster_watch "$cluster" $$ # even a SIGKILL of this script stops the cluster
if ! slurm_cluster_up "$cluster"; then
  cluster= # up stopped whatever it had started
  bad "local Slurm cluster did not come up"
  echo "== $pass passed, $fail failed ($((SECONDS - start)) s)"
  exit 1
fi
export SLURM_CONF=$cluster/slurm.conf
echo "  node idle after $((SECONDS - t0)) s"
# the cluster itself: a 4-task array of shell one-liners
mkdir "$tmp/smoke"
t0=$SECONDS
in_background timeout 60 sbatch --wait --quiet --time=1 --array=0-3 -o "$tmp/smoke/task_%a.out" \
  --wrap 'echo task $SLURM_ARRAY_TASK_ID' >/dev/null 2>"$tmp/smoke.err"
rc=$?
echo "  sbatch --wait --array=0-3: exit $rc, $((SECONDS - t0)) s"
smoke_ok=1
for i in 0 1 2 3; do
  [ "$(cat "$tmp/smoke/task_$i.out" 2>/dev/null)" = "task $i" ] || smoke_ok=0
done
check "sbatch --wait --array=0-3 exits 0 ($rc: $(tail -n 1 "$tmp/smoke.err"))" [ "$rc" = 0 ]
check "each array task printed its index" [ $smoke_ok = 1 ]

echo "== movl sweep --slurm ($((SECONDS - start)) s)"
sw=$tmp/sw
t0=$SECONDS
# --wait and --time go to sbatch: block until every task ends, none over 5 minutes
in_background timeout 240 "$movl" sweep "$tmp/sweep.ini" --out "$sw" --slurm --wait --time=5 >"$tmp/sweep.log" 2>&1
rc=$?
echo "  exit $rc, $((SECONDS - t0)) s: $(tail -n 1 "$tmp/sweep.log")"
check "movl sweep --slurm --wait exits 0 ($rc)" [ "$rc" = 0 ]
check "prints the job array and its 4 points" grep -Eq '^submitted Slurm job array [0-9]+: 4 points\b' "$tmp/sweep.log"
check "sweep directory: sweep.ini, points.csv, logs/" test -f "$sw/sweep.ini" -a -f "$sw/points.csv" -a -d "$sw/logs"
check "slurm_job.sh asks for tasks 0-3" grep -Eq '^#SBATCH --array=0-3$' "$sw/slurm_job.sh"
# 4 smoke tasks, then the 4 points: the points ran on this cluster's node
launched=$(grep -c 'Launching batch job' "$cluster/slurmd.log")
check "slurmd launched 8 batch tasks ($launched)" [ "$launched" = 8 ]
check "every point has a summary.json with its seed and lambda" h points "$sw" 4
if in_background timeout 60 "$movl" sweep collect "$sw" >"$tmp/collect.log" 2>&1; then
  ok
  check "results.csv: one row per point, test metrics equal summary.json's" h results "$sw"
  check "results.md written" test -s "$sw/results.md"
  check "sweep.png is a PNG" bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' _ "$sw/sweep.png"
else
  bad "movl sweep collect: $(tail -n 1 "$tmp/collect.log")"
fi
check "no job left in the queue" [ -z "$(squeue -h -o %i 2>/dev/null)" ]

if [ $fail != 0 ]; then
  echo "---- movl sweep output"
  tail -n 20 "$tmp/sweep.log"
  for log in "$sw"/logs/*; do
    [ -f "$log" ] && echo "---- $log" && tail -n 5 "$log"
  done
  slurm_cluster_logs "$cluster"
fi
t0=$SECONDS
slurm_cluster_down "$cluster"
cluster=
echo "  cluster stopped in $((SECONDS - t0)) s"
echo "== $pass passed, $fail failed ($((SECONDS - start)) s)"
[ $fail = 0 ]
