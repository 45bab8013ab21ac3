"""PyTorch twins of `pnpm bench` workloads (issue 16), run by `pnpm bench --compare`.

One script, one workload per call; every measurement is one JSON line on stdout:

    {"name": "seed-train", "case": null, "threads": 1, "rep": 0, "unit": "steps/s",
     "value": 2010.5, "cpuValue": 1998.7, "torch": "1.13.0a0"}

`name` is the bench.json entry name the twin stands beside (`unet-sample:dpmpp-2m-25`, `gemm`, …)
and `case` the GEMM shape label (`NN 32x128x128`, the suffix of our `kernels …` rows), else null.
`value` is from wall time, `cpuValue` from this process's CPU time (all threads).

Workloads, and what is timed (each the same shapes, batch and step count as ours):

  seed-train      the reference example's training loop (/work/shared/seed: DataLoader batch 32 over
                  1000 points, the reference forward_process with T = 100, SimpleDenoiser 2→128→128→1
                  on (x, raw t), MSELoss, Adam 1e-3, loss.item() each step): --steps timed steps
                  after --warmup untimed ones — steps/s
  seed-sample     the reference sample(): 1000 samples × 100 DDPM ancestral steps, no autograd — s
  unet-train      unet_train_torch.py's network (channels 32) — batch 32 of 14×14, Adam 2e-4, ε-MSE,
  unet-train-16   channels 16; --steps timed steps after --warmup untimed ones — steps/s
  unet-sample     the channels-16 network, 100 images, DPM-Solver++(2M) with 25 steps on the linear
                  schedule (T = 1000; our defaults: trailing timesteps under σ_max = 80; the last step
                  lands on x̂₀: 25 model calls) — s
  gemm            torch.matmul (torch.addmm for NN, with the bias) of the shapes in --cases, one
                  product into a preallocated output per iteration — GMAC/s

Training twins time steady-state optimizer steps only, as ours do: each run builds a fresh model
and optimizer (outside the timing), runs --warmup steps untimed (default max(1, ceil(steps / 8)),
ours' warmupSteps: 24 → 3, 48 → 6, 4000 → 500; Adam's lazily created state and the first
autograd passes fall there), then times --steps steps; their lines add "timed": "steps", "steps"
and "warmupSteps". Every workload runs one untimed warm-up run first (a quarter of the steps for
training, 100 samples for sampling, as ours), then --reps timed runs, for each thread count in
--threads (torch.set_num_threads). Sampling twins time the whole sampling call on a model built
beforehand, as ours time generateSamples() on a model and sampling path made beforehand.

Run with OpenBLAS left to pick its own kernel for this command only:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench/torch_twins.py seed-train --threads 1,2 --reps 3
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_train_torch import Unet  # noqa: E402  (the unet-train twin's network, one definition)


def timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


# ---- the seed example (the reference script, /work/shared/seed) ---------------------------------


class SimpleDenoiser(nn.Module):
    """The reference network: Linear(2→128) → SiLU → Linear(128→128) → SiLU → Linear(128→1) on (x, t)."""

    def __init__(self, input_dim=1, hidden_dim=128):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(input_dim + 1, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, input_dim),
        )

    def forward(self, x, t):
        return self.model(torch.cat([x, t.unsqueeze(-1).float()], dim=1))


def seed_data(n_samples=1000):
    rng = np.random.default_rng(42)
    data = np.vstack([rng.normal(-2.0, 0.5, (n_samples // 2, 1)), rng.normal(2.0, 0.5, (n_samples // 2, 1))])
    rng.shuffle(data)
    return torch.tensor(data, dtype=torch.float32)


def forward_process(x_0, timesteps, betas):
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)
    t = torch.randint(0, timesteps, (x_0.shape[0],))
    noise = torch.randn_like(x_0)
    x_t = torch.sqrt(alphas_cumprod[t]).reshape(-1, 1) * x_0 + torch.sqrt(1 - alphas_cumprod[t]).reshape(-1, 1) * noise
    return x_t, t, noise


def seed_train():
    """A fresh model, optimizer and DataLoader; returns a closure running one step of the reference
    training loop (the loader's epochs follow one another, a new shuffled pass at each end)."""
    from torch.utils.data import DataLoader, TensorDataset

    model = SimpleDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    timesteps = 100
    betas = torch.linspace(0.0001, 0.02, timesteps)
    loader = DataLoader(TensorDataset(seed_data()), batch_size=32, shuffle=True)

    def batches():
        while True:
            yield from loader

    it = batches()

    def step():
        x_0 = next(it)[0]
        x_t, t, noise = forward_process(x_0, timesteps, betas)
        loss = criterion(model(x_t, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()

    return step


@torch.no_grad()
def seed_sample(model, sample_size=1000, timesteps=100):
    """The reference sample(): DDPM ancestral sampling with the posterior variance."""
    betas = torch.linspace(0.0001, 0.02, timesteps)
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)
    alphas_cumprod_prev = torch.cat([torch.tensor([1.0]), alphas_cumprod[:-1]])
    sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
    posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
    x = torch.randn(sample_size, 1)
    for i in reversed(range(timesteps)):
        t = torch.full((sample_size,), i, dtype=torch.long)
        noise_pred = model(x, t)
        x = sqrt_recip_alphas[i] * (x - betas[i] / torch.sqrt(1 - alphas_cumprod[i]) * noise_pred)
        if i > 0:
            x = x + torch.sqrt(posterior_variance[i]) * torch.randn_like(x)
    return x


# ---- the unet ------------------------------------------------------------------------------------


def unet_train(channels):
    """A fresh network and optimizer; returns a closure running one training step."""
    net = Unet(channels)
    opt = torch.optim.Adam(net.parameters(), lr=2e-4)
    x0 = torch.randn(32, 1, 14, 14)

    def step():
        t = torch.randint(0, 1000, (32,))
        eps = torch.randn_like(x0)
        loss = nn.functional.mse_loss(net(x0 + eps, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def dpmpp_2m_plan(steps, T=1000, sigma_max=80.0):
    """The timesteps and ᾱ of our dpmpp-2m's defaults on the linear schedule (packages/samplers/src/
    sigmas.ts): trailing spacing, scaled by t_b/(T−1) where σ(t_b) = σ_max = 80, σ and ᾱ
    interpolated in log σ between integer timesteps (core's alphaBarAt / timestepForSigma)."""
    betas = np.linspace(1e-4, 0.02, T, dtype=np.float64)
    ab = np.cumprod(1 - betas)
    log_sig = np.log(np.sqrt((1 - ab) / ab))
    ts = [round(T * (steps - i) / steps) - 1 for i in range(steps)]
    if log_sig[-1] > math.log(sigma_max):
        hi = int(np.searchsorted(log_sig, math.log(sigma_max)))
        t_b = hi - 1 + (math.log(sigma_max) - log_sig[hi - 1]) / (log_sig[hi] - log_sig[hi - 1])
        ts = [t * t_b / (T - 1) for t in ts]

    def alpha_bar(t):
        i = min(int(math.floor(t)), T - 2)
        f = t - i
        sigma = math.exp((1 - f) * log_sig[i] + f * log_sig[i + 1])
        return 1 / (1 + sigma * sigma)

    return ts, [alpha_bar(t) for t in ts]


@torch.no_grad()
def unet_sample(net, n, steps=25):
    """DPM-Solver++(2M) as packages/samplers/src/dpmpp-2m.ts runs it with its defaults: σ-space state,
    first order on the first and last step, the last landing on σ = 0 with x = x̂₀ (25 model calls)."""
    ts, abs_ = dpmpp_2m_plan(steps)
    sigmas = [math.sqrt((1 - a) / a) for a in abs_] + [0.0]
    x = torch.randn(n, 1, 14, 14) / math.sqrt(abs_[0])
    old, h_last = None, math.nan
    for i in range(steps):
        s, s_next = sigmas[i], sigmas[i + 1]
        h = math.log(s) - math.log(s_next) if s_next > 0 else math.inf
        a = abs_[i]
        xt = x * math.sqrt(a)
        eps = net(xt, torch.full((n,), ts[i]))
        x0 = (xt - math.sqrt(1 - a) * eps) / math.sqrt(a)
        if s_next == 0:
            x = x0
            break
        d = x0 if old is None else x0 * (1 + h / (2 * h_last)) - old * (h / (2 * h_last))
        x = x * (s_next / s) - d * math.expm1(-h)
        old, h_last = x0, h
    return x


# ---- GEMM ----------------------------------------------------------------------------------------


def gemm_case(c):
    """One product of the shape, as our GEMM_SHAPES define it (C is M×N, K summed), into a preallocated C."""
    op, M, K, N = c["op"], c["M"], c["K"], c["N"]
    g = torch.Generator().manual_seed(1)
    rand = lambda *s: torch.rand(*s, generator=g) * 2 - 1  # noqa: E731
    out = torch.empty(M, N)
    if op == "NN":
        a, b, bias = rand(M, K), rand(K, N), rand(N)
        return lambda: torch.addmm(bias, a, b, out=out)
    if op == "NT":
        a, b = rand(M, K), rand(N, K)
        return lambda: torch.matmul(a, b.t(), out=out)
    a, b = rand(K, M), rand(K, N)  # TN
    return lambda: torch.matmul(a.t(), b, out=out)


# ---- driver --------------------------------------------------------------------------------------


def emit(name, case, threads, rep, unit, value, cpu_value, **extra):
    print(
        json.dumps(
            {
                "name": name,
                "case": case,
                "threads": threads,
                "rep": rep,
                "unit": unit,
                "value": value,
                "cpuValue": cpu_value,
                "torch": torch.__version__,
                **extra,
            }
        ),
        flush=True,
    )


def warmup_steps(steps):
    """Untimed warm-up steps before `steps` timed ones: as ours (scripts/bench/workloads.mjs, warmupSteps)."""
    return max(1, math.ceil(steps / 8))


def train_once(make_step, warmup, steps):
    """One run on a fresh model (`make_step()`, built outside the timing): `warmup` steps untimed,
    then `steps` timed; returns (wall, cpu) seconds of the timed steps."""
    step = make_step()
    for _ in range(warmup):
        step()

    def run():
        for _ in range(steps):
            step()

    return timed(run)


def measure_training(name, threads, reps, make_step, steps, warmup):
    """As ours: one untimed run of a quarter of the steps (process warm-up), then `reps` runs, each
    on a fresh model with `warmup` untimed steps before `steps` timed ones — steps/s."""
    quarter = math.ceil(steps / 4)
    train_once(make_step, warmup_steps(quarter), quarter)
    for r in range(reps):
        wall, cpu = train_once(make_step, warmup, steps)
        emit(name, None, threads, r, "steps/s", steps / wall, steps / cpu if cpu > 0 else None, timed="steps", steps=steps, warmupSteps=warmup)


def measure(name, threads, reps, make, unit, amount, warm_make=None):
    """`make()` returns a fresh closure to time (built outside the timing); `amount` its work count."""
    (warm_make or make)()()
    for r in range(reps):
        fn = make()
        wall, cpu = timed(fn)
        if unit == "s":
            emit(name, None, threads, r, unit, wall, cpu)
        else:
            emit(name, None, threads, r, unit, amount / wall, amount / cpu if cpu > 0 else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", choices=["seed-train", "seed-sample", "unet-train", "unet-train-16", "unet-sample", "gemm"])
    ap.add_argument("--threads", default="1", help="comma-separated thread counts, run in turn (default 1)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, help="timed training steps per run (training workloads)")
    ap.add_argument("--warmup", type=int, help="untimed training steps before the timed ones (default: max(1, ceil(steps / 8)), as ours)")
    ap.add_argument("--samples", type=int, help="samples per timed run (sampling workloads)")
    ap.add_argument("--cases", help="gemm: JSON list of {label, op, M, K, N, iters}")
    a = ap.parse_args()
    threads_list = [int(t) for t in a.threads.split(",")]
    torch.manual_seed(42)
    for threads in threads_list:
        torch.set_num_threads(threads)
        w = a.workload
        if w == "seed-train":
            steps = a.steps or 4000
            warmup = a.warmup if a.warmup is not None else warmup_steps(steps)
            measure_training(w, threads, a.reps, seed_train, steps, warmup)
        elif w in ("unet-train", "unet-train-16"):
            channels = 32 if w == "unet-train" else 16
            steps = a.steps or (24 if channels == 32 else 48)
            warmup = a.warmup if a.warmup is not None else warmup_steps(steps)
            measure_training(w, threads, a.reps, lambda: unet_train(channels), steps, warmup)
        elif w == "seed-sample":
            n = a.samples or 1000
            model = SimpleDenoiser().eval()
            measure(w, threads, a.reps, lambda: lambda: seed_sample(model, n), "s", n, lambda: lambda: seed_sample(model, min(n, 100)))
        elif w == "unet-sample":
            n = a.samples or 100
            net = Unet(16).eval()
            name = "unet-sample:dpmpp-2m-25"
            measure(name, threads, a.reps, lambda: lambda: unet_sample(net, n), "s", n, lambda: lambda: unet_sample(net, min(n, 100)))
        else:
            for c in json.loads(a.cases):
                product = gemm_case(c)
                iters = c["iters"]
                loop = lambda: [product() for _ in range(iters)]  # noqa: E731
                for _ in range(4):  # warm-up, as ours (4 unmeasured runs)
                    loop()
                macs = c["M"] * c["K"] * c["N"] * iters
                for r in range(a.reps):
                    wall, cpu = timed(loop)
                    emit("gemm", c["label"], threads, r, "GMAC/s", macs / wall / 1e9, macs / cpu / 1e9 if cpu > 0 else None)


if __name__ == "__main__":
    main()
