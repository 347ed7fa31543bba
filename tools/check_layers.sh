#!/usr/bin/env bash
# Checks the runtime's layering (docs/DESIGN.md, "Layout") in two ways:
#  1. every quoted #include in runtime/ names a header by its folder
#     ("encoder/encoder.h"), of a module the including module may use, never
#     with "..", and a *_internal.h only from its own folder; the modules
#     without OpenCL (core, kinds, ops/desc, ops/ref, data, plot, experiment,
#     sweep, shift, text, imgio, explain) include no OpenCL or CLBlast header;
#  2. the compiler agrees: a header of every module compiles with the include
#     folder the build gives each module that may use it, and fails ("No such
#     file") with the include folder of every module that may not.
# Usage: tools/check_layers.sh BUILD_DIR [CC]. Exit 0 when all holds.
set -uo pipefail
build=${1:?usage: check_layers.sh BUILD_DIR [CC]}
cc=${2:-cc}
root="$(cd "$(dirname "$0")/.." && pwd)"
table="$build/layers.txt"
[ -f "$table" ] || { echo "check_layers: $table missing (configure the build first)"; exit 2; }

no_cl=" core kinds ops/desc ops/ref data plot experiment sweep shift text imgio explain "
fail=0; checked=0
declare -A farm_of dir_of
while read -r name dir farm; do farm_of[$name]=$farm; dir_of[$name]=$dir; done <"$table"

# The module folder a runtime file belongs to: the longest module folder that prefixes its path.
module_dir_of() {
  local rel=$1 best=""
  for n in "${!dir_of[@]}"; do
    local d=${dir_of[$n]}
    if [[ $rel == "$d/"* && ${#d} -gt ${#best} ]]; then best=$d; fi
  done
  echo "$best"
}
module_name_of_dir() { for n in "${!dir_of[@]}"; do [ "${dir_of[$n]}" = "$1" ] && echo "$n"; done; }

# 1. the include scan
while IFS= read -r -d '' file; do
  rel=${file#"$root/runtime/"}
  mdir=$(module_dir_of "$rel")
  if [ -z "$mdir" ]; then echo "check_layers: runtime/$rel is in no module folder"; fail=1; continue; fi
  mname=$(module_name_of_dir "$mdir")
  farm=${farm_of[$mname]}
  while IFS= read -r line; do
    lineno=${line%%:*}; inc=${line#*:}
    checked=$((checked + 1))
    where="runtime/$rel:$lineno"
    case $inc in
      *..*) echo "$where: #include \"$inc\" climbs out with '..'"; fail=1; continue ;;
      */*) ;;
      *) echo "$where: #include \"$inc\" names no folder (expected \"module/$inc\")"; fail=1; continue ;;
    esac
    if [ ! -e "$farm/$inc" ]; then
      echo "$where: #include \"$inc\": module $mdir may not use $(dirname "$inc") (not a layer below it)"; fail=1
    fi
    if [[ $inc == *_internal.h && $(dirname "$inc") != "$(dirname "$rel")" ]]; then
      echo "$where: #include \"$inc\": a private header of another folder"; fail=1
    fi
  done < <(grep -no '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$file" | sed 's/:[^"]*"/:/; s/"$//')
  if [[ $no_cl == *" $mdir "* ]] && grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(CL/|clblast)' "$file"; then
    echo "runtime/$rel: module $mdir must not include OpenCL headers"; fail=1
  fi
done < <(find "$root/runtime" \( -name '*.[ch]' -o -name '*.cpp' \) -print0)

# 2. the compiler's view: a probe including module N's first public header,
# compiled with module M's include folder, succeeds iff M may use N.
probes=0
for n in "${!dir_of[@]}"; do
  hdr=$(cd "$root/runtime" && ls "${dir_of[$n]}"/*.h 2>/dev/null | grep -v '_internal\.h$' | head -1)
  [ -n "$hdr" ] || continue
  for m in "${!dir_of[@]}"; do
    may=0; [ -e "${farm_of[$m]}/$hdr" ] && may=1
    if printf '#include "%s"\n' "$hdr" | "$cc" -std=c11 -fsyntax-only -D_POSIX_C_SOURCE=200809L \
         -DCL_TARGET_OPENCL_VERSION=120 -I"${farm_of[$m]}" -x c - 2>/dev/null; then ok=1; else ok=0; fi
    probes=$((probes + 1))
    if [ $may = 1 ] && [ $ok = 0 ]; then echo "check_layers: $hdr does not compile for module $m, which may use it"; fail=1; fi
    if [ $may = 0 ] && [ $ok = 1 ]; then echo "check_layers: module $m can include $hdr, which is above it"; fail=1; fi
  done
done
echo "check_layers: $checked includes scanned, $probes compiler probes"
[ $fail = 0 ] && echo "check_layers: layering holds" || echo "check_layers: FAILED"
exit $fail
