"""Compares movl's deterministic corruptions with the medmnistc package's
(Di Salvo et al. 2024) on real MedMNIST test images.

Usage: medmnistc_compare.py MEDMNISTC_DIR ORIGINAL.npz RGB(0|1) NAME:S=MOVL.npz ...
MEDMNISTC_DIR holds the package (pip install --no-deps --target DIR medmnistc).
Only the corruptions that need PIL and torchvision are compared (its other
modules import OpenCV, scikit-image, SciPy and Wand, which are stubbed out
here); the noises draw from NumPy's generator and cannot match bit for bit.
Prints, per corruption, the max and mean absolute difference in 8-bit levels;
exits 1 when max > TOL_MAX (default 1) or mean > TOL_MEAN (default 0.6).
"""
import importlib.util, os, sys, types

import numpy as np
from PIL import Image

pkg, orig, rgb = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
for stub in ('cv2', 'skimage', 'wand', 'wand.image', 'wand.api', 'scipy', 'scipy.ndimage'):
    sys.modules.setdefault(stub, types.ModuleType(stub))
sys.modules['wand.image'].Image = object
sys.modules['wand.api'].library = None
sys.modules['scipy.ndimage'].zoom = None
sys.modules['cv2'].FONT_HERSHEY_DUPLEX = 0


def load(name):
    path = os.path.join(pkg, 'medmnistc', 'corruptions', name + '.py')
    spec = importlib.util.spec_from_file_location('medmnistc.corruptions.' + name, path,
                                                  submodule_search_locations=None)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


sys.modules['medmnistc'] = types.ModuleType('medmnistc')
sys.modules['medmnistc'].__path__ = [os.path.join(pkg, 'medmnistc')]
sys.modules['medmnistc.corruptions'] = types.ModuleType('medmnistc.corruptions')
sys.modules['medmnistc.corruptions'].__path__ = [os.path.join(pkg, 'medmnistc', 'corruptions')]
base = load('base')
comp, enh = load('compression'), load('enhance')
# movl's parameter per name (docs/SHIFT.md); the severity picks one.
CLASSES = {
    'pixelate': comp.Pixelate, 'jpeg': comp.JPEGCompression,
    'brightness_up': enh.Brightness, 'brightness_down': enh.Brightness,
    'contrast_up': enh.Contrast, 'contrast_down': enh.Contrast,
    'gamma_up': enh.GammaCorrection, 'gamma_down': enh.GammaCorrection,
}
tol_max = float(os.environ.get('TOL_MAX', 1)); tol_mean = float(os.environ.get('TOL_MEAN', 0.6))
images = np.load(orig)['test_images'][:64]
failed = 0
for arg in sys.argv[4:]:
    what, path = arg.split('=')
    name, sev, param = what.split(':')
    corr = CLASSES[name](severity_params=[float(param) if name != 'jpeg' else int(param)])
    ours = np.load(path)['test_images'][:64].astype(int)
    ref = []
    for img in images:
        out = corr.apply(Image.fromarray(img).convert('RGB'), 0)
        ref.append(np.array(out if rgb else Image.fromarray(np.asarray(out, dtype=np.uint8)).convert('L')))
    d = np.abs(np.array(ref).astype(int) - ours)
    ok = d.max() <= tol_max and d.mean() <= tol_mean
    failed += not ok
    print('  %-16s severity %s (%s): max |diff| %d, mean %.3f levels%s' %
          (name, sev, param, d.max(), d.mean(), '' if ok else '  FAIL'))
sys.exit(1 if failed else 0)
