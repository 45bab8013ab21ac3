"""PyTorch twin of `pnpm bench --only unet-train,unet-train-16` (issue 16): the `unet` denoiser
(packages/denoisers/src/unet.ts, defaults: channel multipliers [1, 2], one residual block per level,
time embedding 32, SiLU, no norm, no attention) on 14×14×1 images, batch 32, Adam, MSE on ε —
timed as training steps per second on random data (the data does not change the cost).

Run it beside the bench, with OpenBLAS left to pick its own kernel for this command only:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench/unet_train_torch.py --channels 16 --threads 1

Prints the parameter count (it must equal what diffusionlab reports for the same options: 88,129
at channels 16) and the median, min and max steps/s of `--reps` timed runs after one warm-up.
"""

import argparse
import math
import statistics
import time

import torch
from torch import nn


def time_embedding(t: torch.Tensor, dim: int, num_train_timesteps: int = 1000) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    s = t.float()[:, None] * (1000 / num_train_timesteps) * freqs[None, :]
    return torch.cat([torch.sin(s), torch.cos(s)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.conv0 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(emb, cout)
        self.conv1 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, e):
        h = self.conv0(nn.functional.silu(x)) + self.time(e)[:, :, None, None]
        h = self.conv1(nn.functional.silu(h))
        return (self.skip(x) if self.skip is not None else x) + h


class Unet(nn.Module):
    def __init__(self, channels: int, time_dim: int = 32):
        super().__init__()
        c = channels
        self.time_dim = time_dim
        self.time_dense = nn.Linear(time_dim, 4 * c)
        self.in_conv = nn.Conv2d(1, c, 3, padding=1)
        self.down0 = ResBlock(c, c, 4 * c)
        self.down1 = ResBlock(c, 2 * c, 4 * c)
        self.mid = ResBlock(2 * c, 2 * c, 4 * c)
        self.up1 = ResBlock(4 * c, 2 * c, 4 * c)
        self.up0 = ResBlock(3 * c, c, 4 * c)
        self.out_conv = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x, t):
        e = nn.functional.silu(self.time_dense(time_embedding(t, self.time_dim)))
        h0 = self.down0(self.in_conv(x), e)
        h1 = self.down1(nn.functional.avg_pool2d(h0, 2), e)
        h = self.mid(h1, e)
        h = self.up1(torch.cat([h, h1], 1), e)
        h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
        h = self.up0(torch.cat([h, h0], 1), e)
        return self.out_conv(nn.functional.silu(h))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=24, help="training steps per timed run")
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Unet(a.channels)
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=2e-4)
    x0 = torch.randn(32, 1, 14, 14)

    def step():
        t = torch.randint(0, 1000, (32,))
        eps = torch.randn_like(x0)
        loss = nn.functional.mse_loss(net(x0 + eps, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    rates = []
    for _ in range(a.reps):
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps / (time.perf_counter() - start))
    print(
        f"pytorch {torch.__version__} unet channels {a.channels}, {params:,} parameters, {a.threads} thread(s): "
        f"{statistics.median(rates):.2f} steps/s (min {min(rates):.2f}, max {max(rates):.2f}, n={a.reps})"
    )


if __name__ == "__main__":
    main()
