#!/usr/bin/env bash
# The paper study in one command (docs/RESULTS.md): "is MoVL as good as full
# fine-tuning at a fraction of the cost, and more robust when the images change?"
#
#   tools/paper_study.sh [--small] [--out DIR]
#
# 1. Per dataset (PneumoniaMNIST, BreastMNIST, RetinaMNIST; 64 px) the tuning
#    sweeps of configs/paper/tune_*.ini, in order: head lr (on LP), MoVL lambda x
#    prompt width, prompt lr, lambda of MoVL-KL, FF backbone lr. Each picks the
#    value with the best mean VALIDATION AUC in its results.csv (never test) and
#    passes it to the next ones; DIR/chosen.md records every choice and its sweep.
# 2. Every method of configs/paper/ (lp, vp_flm, vp_lp, lp_then_vp, vp_then_lp,
#    movl_mse, movl_kl, ff) x seeds 1, 2, 3 x dataset at 64 px, and PneumoniaMNIST
#    at 128 px (prompt width doubled: the same share of the image), with the
#    chosen values and [eval] shift = all (at 128 px: each corruption at severity 3);
#    each method's seeds are one sweep
#    (DIR/runs/DATASET_SIZE/METHOD/).
# 3. movl report --group over all of them: DIR/table.md (printed) and DIR/table.csv.
# 4. Why MoVL trails FF: on BreastMNIST and RetinaMNIST (64 px), the chosen MoVL
#    (feature_mse) with one thing changed at a time, 3 seeds, test split only:
#    joint epochs (3, 10, 30), lambda (0, chosen, 1), prompt width (chosen, 16),
#    probe initialisation (lp, zero). One sweep per factor in DIR/why/DATASET/FACTOR/;
#    their tables, with how many runs kept their starting point, in DIR/why.md.
#
# Resumable: run the same command again and it continues (finished sweep points
# are skipped, a stopped one resumes from its checkpoint; the choices are read
# again from the finished tuning sweeps, so they come out the same).
#
# --small: the CI version (tests/study_test.sh): 64 training and 64 val/test
# images, 1 epoch of batches of 8 (2 LP epochs), two corruptions, seed 1 only, two points per
# tuning sweep, no 128 px runs, two values per diagnosis factor on BreastMNIST
# only; a few minutes on 2 cores.
# --why: the tuning (finished sweeps are skipped) and step 4 only, not the final
# runs (to diagnose a study whose final runs another checkout is running).
# --snapshot DEST: copy what the table and a continuation need of the study in
# DIR (every summary.json, config.ini, CSV, Markdown and sweep.ini, and
# study.log; no weights, checkpoints or pictures) to DEST, and exit. Copied
# back into a study folder, the finished points count as done, so a long study
# can move between machines or sessions; run it from the same checkout path
# and commit so that every run shares one code version and data path.
# MOVL=path/to/movl overrides build/movl. Run from anywhere; paths are the repository's.
set -euo pipefail

usage() {
  echo "usage: tools/paper_study.sh [--small] [--why] [--out DIR] [--snapshot DEST]" >&2
  exit 2
}
small=0 why_only=0 out= snapshot=
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=1 ;;
    --why) why_only=1 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --snapshot) [ $# -ge 2 ] || usage; snapshot=$2; shift ;;
    -h | --help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "tools/paper_study.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -n "$out" ] || out=$root/runs/$([ $small = 1 ] && echo paper_small || echo paper_study)
if [ -n "$snapshot" ]; then
  [ -d "$out" ] || { echo "tools/paper_study.sh: no study folder $out" >&2; exit 2; }
  mkdir -p "$snapshot"
  dest=$(cd "$snapshot" && pwd)
  (cd "$out" && find . -type f \( -name summary.json -o -name config.ini -o -name '*.csv' -o -name '*.md' \
      -o -name sweep.ini -o -name study.log \) -print0 | xargs -0 -r cp --parents -t "$dest")
  echo "study snapshot: $(find "$snapshot" -name summary.json | wc -l) finished runs of $out in $snapshot"
  exit 0
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
movl=${MOVL:-$root/build/movl}
[[ $movl == /* ]] || movl=$PWD/$movl
cd "$root"
[ -x "$movl" ] || { echo "tools/paper_study.sh: $movl not found (build first: cmake --build build)" >&2; exit 2; }

datasets=(pneumoniamnist breastmnist retinamnist)
methods=(lp vp_flm vp_lp lp_then_vp vp_then_lp movl_mse movl_kl ff)
for d in "${datasets[@]}"; do
  [ -f "data/medmnist/$d.npz" ] || { echo "tools/paper_study.sh: data/medmnist/$d.npz missing" >&2; exit 2; }
done

# Overrides of every run of this mode; and per tuning sweep, its --small grid.
common=() seeds="1, 2, 3"
declare -A small_grid=()
if [ $small = 1 ]; then
  # Batches of 8: one epoch of 64 images is 8 steps, enough to see a loss fall.
  common=(-s data.max_train=64 -s data.max_eval=64 -s train.epochs=1 -s train.lp_epochs=2 -s train.batch_size=8)
  seeds=1
  small_grid=([tune_head]="sweep.train.head_lr=0.001, 0.01"
              [tune_movl]="sweep.loss.lambda=0.1, 1;sweep.prompt.size=4"
              [tune_prompt_lr]="sweep.train.prompt_lr=0.01, 0.03"
              [tune_movl_kl]="sweep.loss.lambda=0.1, 1"
              [tune_ff]="sweep.train.backbone_lr=0.0001, 0.001")
fi
final_shift=(-s eval.shift=all)
[ $small = 1 ] && final_shift=(-s "eval.shift=jpeg:3,gaussian_noise:3")

# A sweep (runs what is missing, then collect). $1 = INI, $2 = --out folder, rest: -s overrides.
sweep() {
  local ini=$1 dir=$2
  shift 2
  mkdir -p "$(dirname "$dir")"
  if ! "$movl" sweep "$ini" "$@" --out "$dir" >>"$out/study.log" 2>&1; then
    echo "tools/paper_study.sh: sweep $ini -> $dir failed (see $out/study.log and $dir/logs/); run again to continue" >&2
    tail -3 "$out/study.log" >&2
    exit 1
  fi
  "$movl" sweep collect "$dir" >>"$out/study.log" 2>&1
}

# The best group of a finished sweep by mean val AUC (over experiment.seed):
# prints "key=value" for each swept key but the seed, then "val_auc=MEAN".
best() {
  awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "status") st = i; if ($i == "val_auc") va = i }
              for (i = 3; i < st; i++) { key[i] = $i }; next }
    $st == "done" && $va != "" {
      g = ""; for (i = 3; i < st; i++) if (key[i] != "experiment.seed") g = g key[i] "=" $i "\n"
      if (!(g in n)) order[++ng] = g
      n[g]++; s[g] += $va }
    END { bi = 0; for (i = 1; i <= ng; i++) { m = s[order[i]] / n[order[i]]
                                             if (bi == 0 || m > bm) { bi = i; bm = m } }
          if (bi == 0) exit 1
          printf "%sval_auc=%.4f\n", order[bi], bm }' "$1/results.csv"
}

tune_order=(tune_head tune_movl tune_prompt_lr tune_movl_kl tune_ff)
declare -A chosen=() # "$d|key" -> value
chosen_md=$out/chosen.md.tmp
{
  echo "# Values chosen by the tuning sweeps (best mean validation AUC)"
  echo
  echo "Written by tools/paper_study.sh$([ $small = 1 ] && echo ' --small'). Each sweep ran with the values chosen by the sweeps before it."
  echo
  echo "| dataset | key | value | chosen by | its mean val AUC |"
  echo "|---|---|---|---|---:|"
} >"$chosen_md"

# -s overrides of dataset $1 from the values chosen so far; loss.lambda only
# with $2 = mse (MoVL-KL has its own lambda, the other methods none).
chosen_overrides() {
  local d=$1 k
  for k in train.head_lr loss.lambda prompt.size train.prompt_lr train.backbone_lr; do
    [ $k = loss.lambda ] && [ "${2:-}" != mse ] && continue
    [ -n "${chosen[$d|$k]:-}" ] && printf '%s\n' "-s" "$k=${chosen[$d|$k]}"
  done
  return 0
}

for d in "${datasets[@]}"; do
  for t in "${tune_order[@]}"; do
    dir=$out/tune/$d/$t
    # MoVL-KL's lambda is its own: it does not inherit the feature_mse one.
    mapfile -t prev < <(chosen_overrides "$d" "$([ $t = tune_movl_kl ] || echo mse)")
    grid=()
    if [ -n "${small_grid[$t]:-}" ]; then
      IFS=';' read -ra items <<<"${small_grid[$t]}"
      for i in "${items[@]}"; do grid+=(-s "$i"); done
    fi
    echo "== tuning $d: $t"
    sweep "configs/paper/$t.ini" "$dir" -s "data.path=data/medmnist/$d.npz" "${common[@]}" "${prev[@]}" "${grid[@]}"
    picked=$(best "$dir") || { echo "tools/paper_study.sh: $dir has no finished point with a val AUC" >&2; exit 1; }
    auc=$(grep '^val_auc=' <<<"$picked" | cut -d= -f2)
    while IFS='=' read -r k v; do
      [ "$k" = val_auc ] || [ -z "$k" ] && continue
      [ $t = tune_movl_kl ] && k=kl.$k
      chosen[$d|$k]=$v
      echo "| $d | ${k#kl.}$([ $t = tune_movl_kl ] && echo ' (movl_kl)') | $v | ${dir#$out/} | $auc |" >>"$chosen_md"
      echo "   chose ${k#kl.} = $v (mean val AUC $auc)"
    done <<<"$picked"
  done
done
mv "$chosen_md" "$out/chosen.md"

# The final runs: every method x seeds, per dataset and size.
xray_mid=pixelate:3,jpeg:3,gaussian_noise:3,speckle_noise:3,impulse_noise:3,shot_noise:3,gaussian_blur:3
xray_mid+=,brightness_up:3,brightness_down:3,contrast_up:3,contrast_down:3,gamma_up:3,gamma_down:3
runs=()
cells=("pneumoniamnist 64" "breastmnist 64" "retinamnist 64")
[ $small = 1 ] || cells+=("pneumoniamnist 128")
[ $why_only = 1 ] && cells=()
for cell in "${cells[@]}"; do
  read -r d size <<<"$cell"
  for m in "${methods[@]}"; do
    mapfile -t over < <(chosen_overrides "$d")
    case $m in
      movl_mse) over+=(-s "loss.lambda=${chosen[$d|loss.lambda]}") ;;
      movl_kl) over+=(-s "loss.lambda=${chosen[$d|kl.loss.lambda]}") ;;
    esac
    # The width was chosen at 64 px; larger inputs keep its share of the image.
    width=${chosen[$d|prompt.size]}
    width=$((width * size / 64))
    # At 128 px every corruption at its middle severity only: the whole suite
    # (13 x 5 x 624 images per X-ray run) would cost more than the training.
    cshift=("${final_shift[@]}")
    [ "$size" = 128 ] && cshift=(-s "eval.shift=$xray_mid")
    dir=$out/runs/${d}_$size/$m
    echo "== $d, $size px: $m (seeds $seeds)"
    sweep "configs/paper/$m.ini" "$dir" -s "data.path=data/medmnist/$d.npz" -s "encoder.size=$size" \
      "${common[@]}" "${cshift[@]}" "${over[@]}" -s "prompt.size=$width" -s "sweep.experiment.seed=$seeds"
    for r in "$dir"/[0-9][0-9][0-9]_*/; do runs+=("${r%/}"); done
  done
done

if [ ${#runs[@]} -gt 0 ]; then
  "$movl" report --group "${runs[@]}" >"$out/table.md.tmp" && mv "$out/table.md.tmp" "$out/table.md"
  "$movl" report --group --csv "${runs[@]}" >"$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
fi

# 4. Why MoVL trails FF: the chosen MoVL (feature_mse) with one factor changed
# at a time. BreastMNIST and RetinaMNIST: the datasets where it trails most for
# the least compute (546 and 1080 training images against PneumoniaMNIST's 4708).
uniq_list() { printf '%s\n' "$@" | awk '!seen[$0]++' | paste -sd, | sed 's/,/, /g'; }
why_sets=(breastmnist retinamnist) why_seeds="1, 2, 3"
[ $small = 1 ] && why_sets=(breastmnist) why_seeds=1
why_md=$out/why.md.tmp
{
  echo "# Why MoVL trails FF: one factor at a time"
  echo
  echo "Written by tools/paper_study.sh$([ $small = 1 ] && echo ' --small'). The chosen MoVL (feature_mse) of each"
  echo "dataset (chosen.md) with one key changed; mean ± std over seeds $why_seeds; no shift suite."
  echo "'kept start' counts the runs whose selected checkpoint (best val AUC) is the joint stage's"
  echo "starting point, i.e. the LP probe with a zero prompt (or the zero probe for head.init = zero)."
} >"$why_md"
for d in "${why_sets[@]}"; do
  mapfile -t over < <(chosen_overrides "$d" mse)
  lam=${chosen[$d|loss.lambda]} width=${chosen[$d|prompt.size]}
  if [ $small = 1 ]; then
    factors=("epochs|train.epochs=1, 2" "lambda|loss.lambda=$(uniq_list 0 "$lam")"
             "width|prompt.size=$(uniq_list "$width" 8)" "init|head.init=lp, zero")
  else
    factors=("epochs|train.epochs=3, 10, 30" "lambda|loss.lambda=$(uniq_list 0 "$lam" 1)"
             "width|prompt.size=$(uniq_list "$width" 16)" "init|head.init=lp, zero")
  fi
  for f in "${factors[@]}"; do
    name=${f%%|*} grid=${f#*|}
    dir=$out/why/$d/$name
    echo "== why: $d, ${grid%%=*} (seeds $why_seeds)"
    sweep configs/paper/movl_mse.ini "$dir" -s "data.path=data/medmnist/$d.npz" -s eval.shift= \
      "${common[@]}" "${over[@]}" -s "sweep.$grid" -s "sweep.experiment.seed=$why_seeds"
    key=${grid%%=*}
    {
      echo
      echo "## $d: $key"
      echo
      # results.md's table, then per value how many runs kept their start.
      sed -n '/^|/p' "$dir/results.md"
      echo
      printf '%s' "kept start:"
      awk -F, -v key="$key" -v dir="$dir" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == key) k = i; if ($i == "name") nm = i }; next }
        { f = dir "/" $nm "/summary.json"; sel = 0; ep = -1
          while ((getline line < f) > 0) {
            if (line ~ /"selected"/) sel = 1
            if (sel && line ~ /"epoch"/) { gsub(/[^0-9]/, "", line); ep = line + 0; sel = 0 } }
          close(f)
          if (!($k in n)) order[++no] = $k
          n[$k]++; if (ep == 0) kept[$k]++ }
        END { for (i = 1; i <= no; i++) printf " %s = %s: %d of %d;", key, order[i], kept[order[i]] + 0, n[order[i]]
              printf "\n" }' "$dir/points.csv"
    } >>"$why_md"
  done
done
mv "$why_md" "$out/why.md"
if [ ${#runs[@]} -gt 0 ]; then
  echo
  cat "$out/table.md"
  echo
fi
echo "study: $out (chosen.md, table.md, table.csv, why.md, tune/, runs/, why/, study.log)"
