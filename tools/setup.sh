#!/usr/bin/env bash
# Installs what movl needs on Debian/Ubuntu and builds it.
#   tools/setup.sh          runtime deps, build, EfficientNet-Lite0 weights
#   tools/setup.sh --test   also the test deps (PyTorch, oclgrind, model code)
# Idempotent: re-running only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

pkgs=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo
      libclblast-dev libiniparser-dev libcjson-dev libpng-dev libzip-dev libjpeg-dev libgdcm-dev libcairo2-dev libutf8proc-dev zlib1g-dev fonts-dejavu-core python3 python3-numpy python3-pip unzip)
if [ $want_test = 1 ]; then
  pkgs+=(python3-torch python3-torchvision python3-regex python3-wcwidth python-matplotlib-data oclgrind clang libclang-rt-14-dev slurmctld slurmd slurm-client munge)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Model code of the EfficientNet-Lite PyTorch port, for the golden tests only
# (installed without its torch dependency: Debian's python3-torch is used).
if [ $want_test = 1 ] && [ ! -d .deps/python/efficientnet_lite_pytorch ]; then
  /usr/bin/python3 -m pip install -q --no-deps --target .deps/python efficientnet_lite_pytorch==0.1.0 \
    || python3 -m pip install -q --no-deps --target .deps/python efficientnet_lite_pytorch==0.1.0
fi

# open_clip's model code (MIT), for the CLIP golden tests only: imported module by module without the
# package's __init__ (which pulls in optional dependencies), on Debian's torch.
if [ $want_test = 1 ] && [ ! -d .deps/python/open_clip ]; then
  /usr/bin/python3 -m pip install -q --no-deps --target .deps/python open_clip_torch==3.3.0 \
    || python3 -m pip install -q --no-deps --target .deps/python open_clip_torch==3.3.0
fi

# ftfy (MIT), the text clean-up in front of open_clip's tokenizer, for the tokenizer's reference test only
# (pure Python; its wcwidth dependency and regex come from Debian above).
if [ $want_test = 1 ] && [ ! -d .deps/python/ftfy ]; then
  /usr/bin/python3 -m pip install -q --no-deps --target .deps/python ftfy==6.3.1 \
    || python3 -m pip install -q --no-deps --target .deps/python ftfy==6.3.1
fi

# pydicom (MIT) with its pixel-data plugins, for the DICOM reference tests only: its wheel ships the
# DICOM test files (CT_small, MR_small and their compressed variants) that movl's decoder is checked against.
if [ $want_test = 1 ] && [ ! -d .deps/python/pydicom ]; then
  /usr/bin/python3 -m pip install -q --no-deps --target .deps/python pydicom==3.0.2 pylibjpeg==2.1.0 \
      pylibjpeg-libjpeg==2.3.0 pylibjpeg-openjpeg==2.5.0 \
    || python3 -m pip install -q --no-deps --target .deps/python pydicom==3.0.2 pylibjpeg==2.1.0 \
      pylibjpeg-libjpeg==2.3.0 pylibjpeg-openjpeg==2.5.0
fi

# atheris (Apache-2.0), the Python fuzzer of the checkpoint converter's unpickler (tools/fuzz.sh) only.
if [ $want_test = 1 ] && [ ! -d .deps/python/atheris ]; then
  /usr/bin/python3 -m pip install -q --no-deps --target .deps/python atheris==2.3.0 \
    || python3 -m pip install -q --no-deps --target .deps/python atheris==2.3.0
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

tools/fetch_weights.sh weights lite0
echo "setup: done (binary: build/movl)"
