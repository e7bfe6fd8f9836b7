#!/usr/bin/python3
"""The Python bar for `ddpm bench`: the same `fashion` U-Net in PyTorch eager mode, timed the same way
(on a GPU also the `cifar10` one: --device cuda --preset cifar10 --batch 128).

The network mirrors src/ddpm/models (unet_plan.cpp, unet.cpp, unet_blocks.cpp, resnet_block.cpp,
attention_block.cpp, timestep_embedding.cpp): diffusers' UNet2DModel layout, base 32, channel_mult
(1, 2, 2), two residual blocks per level, attention at 7x7 and in the middle, GroupNorm(32, eps 1e-6),
dropout 0.1. Its parameter count is checked against `ddpm info --preset fashion` (1,623,169).

Measured as `ddpm bench` measures (src/ddpm/benchmark/): the best of several timed repeats after a warm-up whose
output must be finite; the matrix-product peak of n x n float32 products; the training step = t ~ U{0..T-1},
eps ~ N(0, I), x_t (Ho et al. eq. 4), L_simple, zero_grad, backward, loss.item(), gradient-norm clip 1.0, Adam step
(lr 2e-4) on uniform data in [-1, 1]; sampling = respaced ancestral steps (network evaluation, x_0 prediction
clipped to [-1, 1], posterior mean, noise) at batch 1, 16, 256. On PyTorch 2 both are measured a second time
with the forward under PyTorch's CPU bf16 autocast (`"autocast_bf16"` in the JSON); PyTorch 1.13's autocast
cannot run this network.

Needs Debian's python3-torch (PyTorch 1.13.1, CPU; the same OpenBLAS as LibTorch):
    apt-get install python3-torch
    /usr/bin/python3 bench/pytorch_fashion.py   # Debian's interpreter, where python3-torch lives --threads 2 [--json] [--quick]
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION = dict(in_channels=1, size=28, base=32, mult=(1, 2, 2), res_blocks=2, attention=(7,), groups=32,
               eps=1e-6, dropout=0.1)
# Ho et al.'s CIFAR-10 network, ddpm's `cifar10` preset: for the GPU, where its figures are the paper's.
CIFAR10 = dict(in_channels=3, size=32, base=128, mult=(1, 2, 2, 2), res_blocks=2, attention=(16,), groups=32,
               eps=1e-6, dropout=0.1)
PRESETS = dict(fashion=(FASHION, 1623169), cifar10=(CIFAR10, 35746307))  # parameters: `ddpm info --preset NAME`
DEVICE = "cpu"  # --device


def sinusoidal_embedding(t, dim):
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - 1)
    args = t.float()[:, None] * exponent.exp()[None, :]
    return torch.cat([args.sin(), args.cos()], dim=1)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, dropout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class AttentionBlock(nn.Module):
    def __init__(self, c, groups, eps):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=eps)
        self.to_q, self.to_k, self.to_v, self.to_out = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.group_norm(x).view(B, C, H * W).transpose(1, 2)
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        scores = torch.baddbmm(torch.empty(B, H * W, H * W, dtype=q.dtype), q, k.transpose(1, 2), beta=0.0,
                               alpha=1.0 / math.sqrt(C))
        out = self.to_out(torch.bmm(scores.softmax(-1), v))
        return x + out.transpose(1, 2).reshape(B, C, H, W)


class Level(nn.Module):
    """A level's residual blocks, the first `attentions` of them followed by attention, and its resampler."""

    def __init__(self, resnets, attentions, resample, channels, temb, cfg):
        super().__init__()
        g, e, d = cfg["groups"], cfg["eps"], cfg["dropout"]
        self.resnets = nn.ModuleList(ResnetBlock(cin, cout, temb, g, e, d) for cin, cout in resnets)
        self.attentions = nn.ModuleList(AttentionBlock(channels, g, e) for _ in range(attentions)) if attentions else None
        self.resample = resample
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if resample == "down" else 1,
                              padding=0 if resample == "down" else 1) if resample else None

    def block(self, j, x, temb):
        x = self.resnets[j](x, temb)
        return self.attentions[j](x) if self.attentions is not None else x


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        base, levels = cfg["base"], len(cfg["mult"])
        self.time_dim, temb = base, 4 * base
        self.linear_1, self.linear_2 = nn.Linear(base, temb), nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(cfg["in_channels"], base, 3, padding=1)
        skips, size, ch = [base], cfg["size"], base
        self.down, down_plan = nn.ModuleList(), []
        for level, m in enumerate(cfg["mult"]):  # unet_plan.cpp: the down path records its skips
            out, resnets = base * m, []
            for _ in range(cfg["res_blocks"]):
                resnets.append((ch, out))
                ch = out
                skips.append(ch)
            resample = level + 1 < levels
            if resample:
                skips.append(ch)
            down_plan.append((size, out))
            self.down.append(Level(resnets, len(resnets) if size in cfg["attention"] else 0, "down" if resample else None, out, temb, cfg))
            size = size // 2 if resample else size
        self.mid = Level([(ch, ch), (ch, ch)], 1, None, ch, temb, cfg)
        self.up = nn.ModuleList()
        for level in reversed(range(levels)):
            size, out = down_plan[level]
            resnets = []
            for _ in range(cfg["res_blocks"] + 1):
                resnets.append((ch + skips.pop(), out))
                ch = out
            self.up.append(Level(resnets, len(resnets) if size in cfg["attention"] else 0, "up" if level > 0 else None, out, temb, cfg))
        self.norm_out = nn.GroupNorm(cfg["groups"], base, eps=cfg["eps"])
        self.conv_out = nn.Conv2d(base, cfg["in_channels"], 3, padding=1)

    def forward(self, x, t):
        temb = self.linear_2(F.silu(self.linear_1(sinusoidal_embedding(t, self.time_dim))))
        h = self.conv_in(x)
        skips = [h]
        for level in self.down:
            for j in range(len(level.resnets)):
                h = level.block(j, h, temb)
                skips.append(h)
            if level.conv is not None:
                h = level.conv(F.pad(h, (0, 1, 0, 1)))
                skips.append(h)
        h = self.mid.resnets[0](h, temb)
        h = self.mid.attentions[0](h)
        h = self.mid.resnets[1](h, temb)
        for level in self.up:
            for j in range(len(level.resnets)):
                h = level.block(j, torch.cat([h, skips.pop()], 1), temb)
            if level.conv is not None:
                h = level.conv(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def forward_flops_per_sample(cfg):
    """As src/ddpm/models/flops.cpp: convolutions, linear layers, the two attention products; multiply-add = 2."""
    def conv(i, o, k, hw):
        return 2 * i * o * k * k * hw
    base, levels, temb = cfg["base"], len(cfg["mult"]), 4 * cfg["base"]
    size = cfg["size"]
    f = 2 * base * temb + 2 * temb * temb + conv(cfg["in_channels"], base, 3, size * size)
    def resnet(i, o, hw):
        return conv(i, o, 3, hw) + 2 * temb * o + conv(o, o, 3, hw) + (conv(i, o, 1, hw) if i != o else 0)
    def attention(c, hw):
        return 4 * hw * 2 * c * c + 2 * (2 * hw * hw * c)
    m = UNet(cfg)  # walk the built modules: the plan they were built from
    s = size
    for level in m.down:
        hw = s * s
        for r in level.resnets:
            f += resnet(r.conv1.in_channels, r.conv1.out_channels, hw)
        if level.attentions is not None:
            f += len(level.attentions) * attention(level.resnets[0].conv1.out_channels, hw)
        if level.conv is not None:
            s //= 2
            f += conv(level.conv.in_channels, level.conv.out_channels, 3, s * s)
    hw = s * s
    c = m.mid.resnets[0].conv1.out_channels
    f += 2 * resnet(c, c, hw) + attention(c, hw)
    for level in m.up:
        hw = s * s
        for r in level.resnets:
            f += resnet(r.conv1.in_channels, r.conv1.out_channels, hw)
        if level.attentions is not None:
            f += len(level.attentions) * attention(level.resnets[0].conv1.out_channels, hw)
        if level.conv is not None:
            s *= 2
            f += conv(level.conv.in_channels, level.conv.out_channels, 3, s * s)
    return f + conv(base, cfg["in_channels"], 3, size * size)


def synchronize():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def best_seconds_per_call(work, repeats, iterations=1):
    best = float("inf")
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        for _ in range(iterations):
            work()
        synchronize()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


def matmul_peak_gflops(sizes, repeats):
    """As src/ddpm/benchmark/matmul_peak.cpp: the faster of torch.mm (the BLAS) and a 1x1 convolution (oneDNN)."""
    best = {"mm": 0.0, "conv1x1": 0.0}
    with torch.no_grad():
        for n in sizes:
            a, b, c = torch.rand(n, n), torch.rand(n, n), torch.empty(n, n)
            x, w = torch.rand(1, n, n, 1), torch.rand(n, n, 1, 1)
            for name, product in (("mm", lambda: torch.mm(a, b, out=c)), ("conv1x1", lambda: F.conv2d(x, w))):
                assert torch.isfinite(product()).all()
                best[name] = max(best[name], 2.0 * n ** 3 / best_seconds_per_call(product, repeats) * 1e-9)
    return max(best.values()), best


def linear_schedule(T=1000):
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return betas, torch.cumprod(1 - betas, 0)


def predict(net, xt, t, autocast):
    """The network's prediction in fp32; with autocast, its forward under PyTorch's bf16 autocast."""
    with torch.autocast(DEVICE, dtype=torch.bfloat16, enabled=autocast):
        return net(xt, t).float()


def graphed(net, shape, autocast):
    """The network's call as a replayed CUDA graph, as a CUDA-graph sampling loop would make it: the inputs
    are copied into the captured ones and the captured output is read (Nvidia's usual recipe: warm up on a
    side stream, then capture)."""
    x, t = torch.zeros(shape), torch.zeros(shape[0], dtype=torch.long)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side), torch.no_grad():
        for _ in range(3):
            predict(net, x, t, autocast)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        out = predict(net, x, t, autocast)

    def call(xt, tt):
        x.copy_(xt)
        t.copy_(tt)
        graph.replay()
        return out
    return call


def training_images_per_second(cfg, batch, repeats, autocast=False):
    torch.manual_seed(0)
    net = UNet(cfg)
    adam = torch.optim.Adam(net.parameters(), lr=2e-4)
    _, alphas_cumprod = linear_schedule()
    sqrt_ab, sqrt_1mab = alphas_cumprod.sqrt().float(), (1 - alphas_cumprod).sqrt().float()
    x0 = torch.rand(batch, cfg["in_channels"], cfg["size"], cfg["size"]) * 2 - 1

    def step():
        t = torch.randint(0, 1000, (batch,))
        eps = torch.randn_like(x0)
        xt = sqrt_ab[t].view(-1, 1, 1, 1) * x0 + sqrt_1mab[t].view(-1, 1, 1, 1) * eps
        net.train()
        loss = (eps - predict(net, xt, t, autocast)).pow(2).flatten(1).mean(1).mean()
        adam.zero_grad()
        loss.backward()
        value = loss.item()
        norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0))
        adam.step()
        return value, norm

    loss, norm = step()
    assert math.isfinite(loss) and math.isfinite(norm), (loss, norm)
    return batch / best_seconds_per_call(step, repeats)


def sampling_calls_per_second(cfg, batch, repeats, evals, autocast=False, graph=False):
    torch.manual_seed(0)
    net = UNet(cfg).eval()
    shape = (batch, cfg["in_channels"], cfg["size"], cfg["size"])
    network = graphed(net, shape, autocast) if graph else lambda xt, t: predict(net, xt, t, autocast)
    # Respaced ancestral sampling over `evals` evenly spaced steps, posterior variance (as ddpm with --steps).
    _, ab_full = linear_schedule()
    steps = list(range(0, 1000, 1000 // evals))[:evals]
    ab = ab_full[steps]
    ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), ab[:-1]])
    betas = 1 - ab / ab_prev
    coef_x0 = (betas * ab_prev.sqrt() / (1 - ab)).float()
    coef_xt = ((1 - ab_prev) * (1 - betas).sqrt() / (1 - ab)).float()
    sigma = (betas * (1 - ab_prev) / (1 - ab)).sqrt().float()
    recip, recipm1 = (1 / ab).sqrt().float(), (1 / ab - 1).sqrt().float()
    x_T = torch.randn(shape)

    def draw():
        with torch.no_grad():
            x = x_T
            for i in reversed(range(len(steps))):
                t = torch.full((batch,), steps[i], dtype=torch.long)
                eps = network(x, t)
                x0 = (recip[i] * x - recipm1[i] * eps).clamp(-1, 1)
                mean = coef_x0[i] * x0 + coef_xt[i] * x
                x = mean + sigma[i] * torch.randn_like(x) if i > 0 else mean
            return x

    assert torch.isfinite(draw()).all()
    return len(steps) / best_seconds_per_call(draw, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="one repeat of everything")
    # On a GPU (PyTorch 2): the same figures as `ddpm bench --device cuda`, and sampling once more with the
    # network's call replayed as a CUDA graph (what graph capture would save; "graph" in the JSON).
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="fashion")
    parser.add_argument("--batch", type=int, default=64, help="training batch")
    a = parser.parse_args()
    global DEVICE
    DEVICE = a.device
    if DEVICE == "cuda":
        torch.set_default_device("cuda")
    torch.set_num_threads(a.threads)
    cfg, expected = PRESETS[a.preset]
    parameters = sum(p.numel() for p in UNet(cfg).parameters())
    assert parameters == expected, f"{parameters} parameters, ddpm's {a.preset} U-Net has {expected}"
    gflop = forward_flops_per_sample(cfg) * 1e-9
    # As ddpm bench's Effort (src/ddpm/benchmark/bench_suite.cpp).
    if a.quick:
        sizes, mm_rep, rep, sample_rep, evals1 = [512], 2, 1, 1, 2
    elif DEVICE == "cuda":
        sizes, mm_rep, rep, sample_rep, evals1 = [4096, 8192], 10, 10, 3, 512
    else:
        sizes, mm_rep, rep, sample_rep, evals1 = [1024, 2048], 5, 5, 5, 32
    start = time.perf_counter()
    peak, peak_by_engine = matmul_peak_gflops(sizes, mm_rep)

    def sampling(autocast, graph):
        sample = []
        for batch in (1, 16, 256):
            # A batched call evaluates the network on `batch` samples (ddpm bench's calls_per_s, evaluations_per_s).
            cps = sampling_calls_per_second(cfg, batch, sample_rep, max(1, evals1 // batch), autocast, graph)
            sample.append(dict(batch=batch, calls_per_s=cps, evaluations_per_s=cps * batch, latency_ms=1000 / cps,
                               gflops=gflop * batch * cps, mfu=gflop * batch * cps / peak))
        return sample

    def measure(autocast):
        ips = training_images_per_second(cfg, a.batch, rep, autocast)
        train = dict(preset=a.preset, batch=a.batch, images_per_s=ips, steps_per_s=ips / a.batch,
                     gflops=3 * gflop * ips, mfu=3 * gflop * ips / peak)
        return train, sampling(autocast, False)

    train, sample = measure(False)
    ips = train["images_per_s"]
    # PyTorch 1.13's CPU autocast cannot run this network (group_norm stops on "expected scalar type BFloat16
    # but found Float"); PyTorch 2 can, so there the bf16 twin is measured too (MFU against the fp32 peak).
    autocast_bf16 = None
    if int(torch.__version__.split(".")[0]) >= 2:
        a_train, a_sample = measure(True)
        autocast_bf16 = dict(train=a_train, sample=a_sample)
    graph = dict(fp32=sampling(False, True), autocast_bf16=sampling(True, True)) if DEVICE == "cuda" else None
    report = dict(device=DEVICE, preset=a.preset, threads=torch.get_num_threads(), torch_version=torch.__version__,
                  implementation="pytorch-eager", parameters=parameters, forward_flops_per_sample=round(gflop * 1e9),
                  peak_gflops=peak, peak_by_engine=peak_by_engine, train=train, sample=sample, autocast_bf16=autocast_bf16,
                  graph=graph, seconds=time.perf_counter() - start)
    if a.json:
        print(json.dumps(report))
        return
    print(f"PyTorch {torch.__version__} eager, {report['threads']} threads, {parameters} parameters, "
          f"{gflop:.3f} GFLOP forward per sample")
    print(f"matrix-product peak         {peak:9.1f} GFLOP/s  (torch.mm {peak_by_engine['mm']:.1f}, "
          f"1x1 convolution {peak_by_engine['conv1x1']:.1f})")
    print(f"training, batch {a.batch:<4}        {ips:9.1f} images/s  {train['gflops']:7.1f} GFLOP/s  MFU {train['mfu']:.2f}")
    for s in sample:
        print(f"sampling, batch {s['batch']:<4}        {s['calls_per_s']:9.2f} calls/s  {s['latency_ms']:8.2f} ms/step "
              f"{s['gflops']:7.1f} GFLOP/s  MFU {s['mfu']:.2f}")
    if autocast_bf16:
        a = autocast_bf16
        print(f"autocast bf16: training {a['train']['images_per_s']:.1f} images/s; sampling "
              + ", ".join(f"batch {s['batch']} {s['calls_per_s']:.2f} calls/s" for s in a["sample"]))


if __name__ == "__main__":
    main()
