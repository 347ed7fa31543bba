#!/usr/bin/env bash
# The paper study end to end in its CI size: tools/paper_study.sh --small into
# a temporary folder (real MedMNIST data, EfficientNet-Lite0; 64 images per
# split, 1 epoch, 2 corruptions, 1 seed, 2 points per tuning sweep). Checks:
#  - the table (movl report --group): one table per dataset (3), each with the
#    8 methods of configs/paper/ as rows, the columns of the report, 1 seed,
#    and the shift ACC / AUC cells filled;
#  - chosen.md: every tuned key per dataset, each value the one with the best
#    mean VALIDATION AUC of its sweep's results.csv (recomputed here from the
#    points' summary.json, not from the script's own parsing), and the final
#    runs use them;
#  - FF trains: re-running the study's PneumoniaMNIST FF run from its resolved
#    config.ini with a step trace, the loss falls (mean of the last 3 steps
#    below the first 3) and the run reproduces the study's val AUC; and its val
#    AUC is above the LP floor: the study's own lp run on the same data;
#  - why.md (step 4): one table per factor (epochs, lambda, width, init) on
#    BreastMNIST, two rows each, a 'kept start' count per row equal to the runs
#    whose summary.json selected epoch 0; each factor's runs differ from the
#    chosen MoVL in that key only;
#  - a second invocation finishes without training anything again (resume);
#  - --snapshot copies every finished run's summary and config but no weights,
#    and the study continued from that copy trains nothing and prints the same table.
# Usage: study_test.sh PATH/TO/movl   (from the repository root)
set -u
movl=$1
[[ $movl == /* ]] || movl=$PWD/$movl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
weights=weights/efficientnet_lite0.safetensors
for f in data/medmnist/{pneumoniamnist,breastmnist,retinamnist}.npz "$weights"; do
  [ -f "$f" ] || { echo "$f missing (tools/setup.sh fetches it): skipped"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "python3 missing: skipped"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
export MOVL_STOP_AFTER_STEPS= MOVL_TRACE=
study=$tmp/study

echo "== tools/paper_study.sh --small"
start=$(date +%s)
if MOVL=$movl tools/paper_study.sh --small --out "$study" >"$tmp/study.out" 2>&1; then
  ok
else
  bad "paper_study.sh --small failed:"
  tail -15 "$tmp/study.out"
  echo "$pass passed, $fail failed"
  exit 1
fi
echo "  took $(($(date +%s) - start)) s"

cat >"$tmp/c.py" <<'EOF'
import csv, glob, json, math, os, re, sys

cmd, a = sys.argv[1], sys.argv[2:]


def cfg(path):  # a config.ini as {"section.key": value}
    sec, out = None, {}
    for l in open(path):
        l = l.strip()
        if l.startswith('['): sec = l.strip('[]')
        elif '=' in l and not l.startswith('#'):
            k, v = [x.strip() for x in l.split('=', 1)]; out[sec + '.' + k] = v
    return out


METHODS = ['lp', 'vp (flm)', 'vp_lp', 'lp_then_vp', 'vp_then_lp (flm)', 'movl (feature_mse)', 'movl (kl)', 'ff']
if cmd == 'table':  # TABLE.md: 3 datasets x 8 methods, columns, 1 seed, shift filled, CI cells
    text = open(a[0]).read()
    tables = re.split(r'^### ', text, flags=re.M)[1:]
    heads = [t.splitlines()[0] for t in tables]
    want = ['pneumoniamnist, 64 px', 'breastmnist, 64 px', 'retinamnist, 64 px']
    good = heads == want
    print('    tables: %s' % heads)
    cell = re.compile(r'^\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]$')
    for t in tables:
        rows = [l for l in t.splitlines() if l.startswith('|')]
        cols = [c.strip() for c in rows[0].strip('|').split('|')]
        need = ['method', 'seeds', 'test ACC [95 % CI]', 'test AUC [95 % CI]', 'shift ACC', 'shift AUC',
                'trainable parameters', 'training time']
        if cols != need:
            print('    columns %s, expected %s' % (cols, need)); good = False
        body = [[c.strip() for c in r.strip('|').split('|')] for r in rows[2:]]
        if [b[0] for b in body] != METHODS:
            print('    rows %s, expected %s' % ([b[0] for b in body], METHODS)); good = False
        for b in body:
            ok = (b[1] == '1' and cell.match(b[2]) and cell.match(b[3]) and re.match(r'^\d\.\d{3}$', b[4])
                  and re.match(r'^\d\.\d{3}$', b[5]) and int(b[6]) > 0 and b[7].endswith(' s'))
            if not ok:
                print('    bad row: %s' % b); good = False
    sys.exit(0 if good else 1)
if cmd == 'chosen':  # STUDY: every choice is the best mean val AUC of its sweep, recomputed from summaries
    study = a[0]
    rows = [[c.strip() for c in l.strip().strip('|').split('|')] for l in open(study + '/chosen.md')
            if l.startswith('| ') and not l.startswith('| dataset')]
    good = len(rows) == 18
    print('    %d choices (expected 3 datasets x 6 keys)' % len(rows))
    for d, key, value, sweep, auc in rows:
        key = key.replace(' (movl_kl)', '')
        pts = list(csv.DictReader(open(os.path.join(study, sweep, 'points.csv'))))
        swept = [k for k in pts[0] if k not in ('index', 'name', 'experiment.seed')]
        groups = {}  # the values of the swept keys but the seed -> val AUCs
        for p in pts:
            s = json.load(open(os.path.join(study, sweep, p['name'], 'summary.json')))
            groups.setdefault(tuple(p[k] for k in swept), []).append(s['val']['auc'])
        mean = lambda g: sum(groups[g]) / len(groups[g])
        best = max(groups, key=mean)  # the first of equal means, as the script
        if len(groups) < 2 or best[swept.index(key)] != value or abs(mean(best) - float(auc)) > 1e-4:
            print('    %s %s: chosen %s (%s), recomputed %s from %s' % (d, key, value, auc, best, groups)); good = False
    sys.exit(0 if good else 1)
if cmd == 'used':  # STUDY: the final runs' config.ini hold the chosen values
    study = a[0]
    rows = [[c.strip() for c in l.strip().strip('|').split('|')] for l in open(study + '/chosen.md')
            if l.startswith('| ') and not l.startswith('| dataset')]
    good = True
    for d, key, value, sweep, auc in rows:
        method = 'movl_kl' if '(movl_kl)' in key else {'loss.lambda': 'movl_mse', 'train.backbone_lr': 'ff'}.get(key, 'movl_mse')
        key = key.replace(' (movl_kl)', '')
        for run in glob.glob('%s/runs/%s_64/%s/[0-9]*/config.ini' % (study, d, method)):
            got = cfg(run).get(key)
            if got is None or float(got) != float(value):
                print('    %s: %s = %s, chosen %s' % (run, key, got, value)); good = False
    sys.exit(0 if good else 1)
if cmd == 'why':  # STUDY: why.md's factor tables against the runs in why/
    study = a[0]
    text = open(study + '/why.md').read()
    parts = re.split(r'^## ', text, flags=re.M)[1:]
    want = ['breastmnist: train.epochs', 'breastmnist: loss.lambda', 'breastmnist: prompt.size', 'breastmnist: head.init']
    heads = [p.splitlines()[0] for p in parts]
    good = heads == want
    print('    sections: %s' % heads)
    chosen = {}
    for l in open(study + '/chosen.md'):
        c = [x.strip() for x in l.strip().strip('|').split('|')]
        if len(c) == 5 and c[0] == 'breastmnist' and '(movl_kl)' not in c[1]:
            chosen[c[1]] = c[2]
    for name, part in zip(['epochs', 'lambda', 'width', 'init'], parts):
        key = part.splitlines()[0].split(': ')[1]
        rows = [l for l in part.splitlines() if l.startswith('| ') and not l.startswith('| ' + key)]
        kept = re.search(r'^kept start:(.*)$', part, flags=re.M)
        pts = list(csv.DictReader(open('%s/why/breastmnist/%s/points.csv' % (study, name))))
        want_kept = {}
        for p in pts:
            s = json.load(open('%s/why/breastmnist/%s/%s/summary.json' % (study, name, p['name'])))
            want_kept.setdefault(p[key], 0)
            want_kept[p[key]] += s['selected']['epoch'] == 0
            c = cfg('%s/why/breastmnist/%s/%s/config.ini' % (study, name, p['name']))
            for k, v in chosen.items():  # every chosen value but the swept key's
                if k != key and float(c[k]) != float(v):
                    print('    %s %s: %s = %s, chosen %s' % (name, p['name'], k, c[k], v)); good = False
        got = dict(re.findall(r' %s = ([^:]+): (\d+) of 1;' % re.escape(key), kept.group(1))) if kept else {}
        if len(rows) != 2 or {k: int(v) for k, v in got.items()} != want_kept:
            print('    %s: %d rows, kept %s, expected 2 rows, kept %s' % (name, len(rows), got, want_kept)); good = False
    sys.exit(0 if good else 1)
if cmd == 'loss_falls':  # TRACE: mean loss of the last 3 steps < mean of the first 3
    losses = [json.loads(l)['loss'] for l in open(a[0])]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    print('    %d steps, loss %.4f -> %.4f' % (len(losses), first, last))
    sys.exit(0 if len(losses) >= 6 and all(map(math.isfinite, losses)) and last < first else 1)
if cmd == 'same_val':  # SUMMARY SUMMARY: equal val AUC
    x, y = (json.load(open(p))['val']['auc'] for p in a)
    print('    val auc %.6f, again %.6f' % (x, y))
    sys.exit(0 if abs(x - y) < 1e-9 else 1)
if cmd == 'above':  # FF_SUMMARY LP_SUMMARY: ff's val AUC above lp's
    f, l = (json.load(open(p))['val']['auc'] for p in a)
    print('    val auc: ff %.4f, lp %.4f' % (f, l))
    sys.exit(0 if f > l else 1)
EOF
c() { "$PY" "$tmp/c.py" "$@"; }

echo "== the table"
check "table.md: 3 datasets x 8 methods, the columns, shift filled" c table "$study/table.md"
grep -q '^### pneumoniamnist, 64 px' <<<"$(tail -40 "$tmp/study.out")" && ok || bad "the table was not printed"
[ "$(wc -l <"$study/table.csv")" = 25 ] && ok || bad "table.csv: expected a header and 24 rows"

echo "== the choices"
check "chosen.md: each value has the best mean val AUC of its sweep" c chosen "$study"
check "the final runs use the chosen values" c used "$study"

echo "== why MoVL trails (step 4)"
check "why.md: a table per factor, 'kept start' from the runs, one key changed" c why "$study"

echo "== ff trains"
ff=$(ls -d "$study"/runs/pneumoniamnist_64/ff/[0-9]*/ | head -1)
lp=$(ls -d "$study"/runs/pneumoniamnist_64/lp/[0-9]*/ | head -1)
if MOVL_TRACE="$tmp/trace" "$movl" train "$ff/config.ini" -s experiment.output_dir="$tmp/again" \
  -s experiment.name=ff >"$tmp/ff.log" 2>&1; then
  check "ff: the loss falls" c loss_falls "$tmp/trace"
  check "ff: the re-run reproduces the study's val AUC" c same_val "$ff/summary.json" "$tmp/again/ff/summary.json"
else
  bad "ff re-run failed: $(tail -1 "$tmp/ff.log")"
fi
check "ff: val AUC above the LP floor (the study's lp run, PneumoniaMNIST)" c above "$ff/summary.json" "$lp/summary.json"

echo "== resume"
before=$(find "$study" -name summary.json | wc -l)
cp "$study/table.md" "$tmp/table1.md"
touch "$tmp/mark"
MOVL=$movl tools/paper_study.sh --small --out "$study" >"$tmp/again.out" 2>&1 && ok || bad "second run failed: $(tail -2 "$tmp/again.out")"
after=$(find "$study" -name summary.json -newer "$tmp/mark" | wc -l)
[ "$before" -gt 50 ] && [ "$after" = 0 ] && ok || bad "resume: $before summaries, $after rewritten (expected none)"
cmp -s "$study/table.md" "$tmp/table1.md" && ok || bad "resume: the table changed"

echo "== snapshot: a study continued from its light copy (no weights or checkpoints)"
tools/paper_study.sh --out "$study" --snapshot "$tmp/snap" >"$tmp/snap.out" 2>&1 && ok || bad "snapshot failed: $(tail -2 "$tmp/snap.out")"
n_snap=$(find "$tmp/snap" -name summary.json | wc -l)
n_heavy=$(find "$tmp/snap" -name '*.safetensors' -o -name '*.png' | wc -l)
[ "$n_snap" = "$before" ] && [ "$n_heavy" = 0 ] && ok || bad "snapshot: $n_snap of $before summaries, $n_heavy weight/picture files"
touch "$tmp/mark2"
MOVL=$movl tools/paper_study.sh --small --out "$tmp/snap" >"$tmp/cont.out" 2>&1 && ok || bad "continuing from the snapshot failed: $(tail -2 "$tmp/cont.out")"
retrained=$(find "$tmp/snap" -name summary.json -newer "$tmp/mark2" | wc -l)
[ "$retrained" = 0 ] && ok || bad "continuing from the snapshot retrained $retrained runs (expected none)"
cmp -s "$tmp/snap/table.md" "$tmp/table1.md" && ok || bad "the snapshot's table differs from the study's"

echo "== bad input"
expect 2 "unknown argument '--bogus'" tools/paper_study.sh --bogus

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
