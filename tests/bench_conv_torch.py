# PyTorch-CPU twin of tests/bench_conv.c (not a test): times F.conv2d (+ReLU)
# and torch.nn.grad.conv2d_input on the same ResNet-18 / EfficientNet-Lite0
# conv shapes, fastest of several calls, plus GFLOP/s from process CPU time.
# Usage: OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 \
#          tests/bench_conv_torch.py [--wgrad] [--px N] [batch] [filter-substring]
# --wgrad times torch.nn.grad.conv2d_weight (dw) instead; --px scales the
# planes to N-pixel images (default 224), as bench_conv does.
import os, sys, time, torch, torch.nn.functional as F
torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))
args = sys.argv[1:]
wgrad = '--wgrad' in args
if wgrad: args.remove('--wgrad')
px = 224
if '--px' in args:
    i = args.index('--px'); px = int(args[i + 1]); del args[i:i + 2]
B = int(args[0]) if len(args) > 0 else 32
filt = args[1] if len(args) > 1 else None
shapes = [
 ("resnet18","stem 3-64 7x7/2 224",1,3,224,64,7,2,1,0),
 ("resnet18","64-64 3x3 56",4,64,56,64,3,1,1,0),
 ("resnet18","64-128 3x3/2 56",1,64,56,128,3,2,1,0),
 ("resnet18","64-128 1x1/2 56",1,64,56,128,1,2,1,0),
 ("resnet18","128-128 3x3 28",3,128,28,128,3,1,1,0),
 ("resnet18","128-256 3x3/2 28",1,128,28,256,3,2,1,0),
 ("resnet18","128-256 1x1/2 28",1,128,28,256,1,2,1,0),
 ("resnet18","256-256 3x3 14",3,256,14,256,3,1,1,0),
 ("resnet18","256-512 3x3/2 14",1,256,14,512,3,2,1,0),
 ("resnet18","256-512 1x1/2 14",1,256,14,512,1,2,1,0),
 ("resnet18","512-512 3x3 7",3,512,7,512,3,1,1,0),
 ("effnet-lite0","stem 3-32 3x3/2 224",1,3,224,32,3,2,1,1),
 ("effnet-lite0","dw32 3x3 112",1,32,112,32,3,1,32,1),
 ("effnet-lite0","32-16 1x1 112",1,32,112,16,1,1,1,1),
 ("effnet-lite0","16-96 1x1 112",1,16,112,96,1,1,1,1),
 ("effnet-lite0","dw96 3x3/2 112",1,96,112,96,3,2,96,1),
 ("effnet-lite0","96-24 1x1 56",1,96,56,24,1,1,1,1),
 ("effnet-lite0","24-144 1x1 56",2,24,56,144,1,1,1,1),
 ("effnet-lite0","dw144 3x3 56",1,144,56,144,3,1,144,1),
 ("effnet-lite0","144-24 1x1 56",1,144,56,24,1,1,1,1),
 ("effnet-lite0","dw144 5x5/2 56",1,144,56,144,5,2,144,1),
 ("effnet-lite0","144-40 1x1 28",1,144,28,40,1,1,1,1),
 ("effnet-lite0","40-240 1x1 28",2,40,28,240,1,1,1,1),
 ("effnet-lite0","dw240 5x5 28",1,240,28,240,5,1,240,1),
 ("effnet-lite0","240-40 1x1 28",1,240,28,40,1,1,1,1),
 ("effnet-lite0","dw240 3x3/2 28",1,240,28,240,3,2,240,1),
 ("effnet-lite0","240-80 1x1 14",1,240,14,80,1,1,1,1),
 ("effnet-lite0","80-480 1x1 14",3,80,14,480,1,1,1,1),
 ("effnet-lite0","dw480 3x3 14",2,480,14,480,3,1,480,1),
 ("effnet-lite0","480-80 1x1 14",2,480,14,80,1,1,1,1),
 ("effnet-lite0","dw480 5x5 14",1,480,14,480,5,1,480,1),
 ("effnet-lite0","480-112 1x1 14",1,480,14,112,1,1,1,1),
 ("effnet-lite0","112-672 1x1 14",3,112,14,672,1,1,1,1),
 ("effnet-lite0","dw672 5x5 14",2,672,14,672,5,1,672,1),
 ("effnet-lite0","672-112 1x1 14",2,672,14,112,1,1,1,1),
 ("effnet-lite0","dw672 5x5/2 14",1,672,14,672,5,2,672,1),
 ("effnet-lite0","672-192 1x1 7",1,672,7,192,1,1,1,1),
 ("effnet-lite0","192-1152 1x1 7",4,192,7,1152,1,1,1,1),
 ("effnet-lite0","dw1152 5x5 7",3,1152,7,1152,5,1,1152,1),
 ("effnet-lite0","1152-192 1x1 7",3,1152,7,192,1,1,1,1),
 ("effnet-lite0","dw1152 3x3 7",1,1152,7,1152,3,1,1152,1),
 ("effnet-lite0","1152-320 1x1 7",1,1152,7,320,1,1,1,1),
 ("effnet-lite0","320-1280 1x1 7",1,320,7,1280,1,1,1,1),
]
def same_pad(x, k, s):
    h = x.shape[2]; o = (h + s - 1)//s; t = max((o-1)*s + k - h, 0)
    return F.pad(x, (t//2, t - t//2, t//2, t - t//2))
last_cpu = [0.0]; last_median = [0.0]
def tm(f):
    f(); best = 1e30; start = time.perf_counter(); c0 = time.process_time(); n = 0; ts = []
    while True:
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0); best = min(best, ts[-1]); n += 1
        if (time.perf_counter() - start > 1.0 and n >= 3) or n >= 20: break
    last_cpu[0] = (time.process_time() - c0) / n / 2
    last_median[0] = sorted(ts)[len(ts) // 2]
    return best
tot = {}; med = {}
if wgrad:
    print("%-14s %-24s %5s %5s %8s %8s %8s %8s" % ("net","shape","count","plane","min ms","med ms","GF/s","cGF/s"))
else:
    print("%-14s %-24s %5s %8s %8s %8s %8s %8s %8s" % ("net","shape","count","fwd ms","GF/s","cGF/s","bwd ms","GF/s","cGF/s"))
with torch.no_grad():
  for net,name,cnt,cin,hw,cout,k,s,g,same in shapes:
    if filt and filt not in name and filt not in net: continue
    hw = max(hw * px // 224, 1)
    x = torch.randn(B,cin,hw,hw); w = torch.randn(cout,cin//g,k,k); b = torch.randn(cout)
    if same:
        xp = same_pad(x,k,s); pad = 0
    else:
        xp = x; pad = k//2
    y = F.conv2d(xp,w,b,s,pad,1,g)
    oh = y.shape[2]; macs = B*cout*oh*oh*(cin//g)*k*k; fl = 2*macs
    dy = torch.randn_like(y)
    if wgrad:
        tw = tm(lambda: torch.nn.grad.conv2d_weight(xp,w.shape,dy,s,pad,1,g)); cw = last_cpu[0]
        print("%-14s %-24s %5d %5d %8.3f %8.3f %8.1f %8.1f" % (net,name,cnt,hw,tw*1e3,last_median[0]*1e3,fl/tw*1e-9,fl/cw*1e-9), flush=True)
        t = tot.setdefault(net,[0,0,0]); t[0] += cnt*tw; t[1] += cnt*fl; t[2] += cnt*cw
        med[net] = med.get(net, 0) + cnt*last_median[0]
        continue
    tf = tm(lambda: torch.relu(F.conv2d(xp,w,b,s,pad,1,g))); cf = last_cpu[0]
    tb = tm(lambda: torch.nn.grad.conv2d_input(xp.shape,w,dy,s,pad,1,g)); cb = last_cpu[0]
    print("%-14s %-24s %5d %8.2f %8.1f %8.1f %8.2f %8.1f %8.1f" % (net,name,cnt,tf*1e3,fl/tf*1e-9,fl/cf*1e-9,tb*1e3,fl/tb*1e-9,fl/cb*1e-9), flush=True)
    t = tot.setdefault(net,[0,0,0]); t[0] += cnt*(tf+tb); t[1] += cnt*2*fl; t[2] += cnt*(cf+cb)
for net,m in med.items():
    print("%s weight gradient, sum of medians: %.3f s per batch" % (net,m))
for net,(t,f,c) in tot.items():
    print("%s convs %s: %.3f s per batch, %.1f GFLOP/s, %.1f img/s (from CPU time: %.1f GFLOP/s, %.1f img/s)" % (net,"weight gradient" if wgrad else "fwd+bwd-input",t,f/t*1e-9,B/t,f/c*1e-9,B/c))
