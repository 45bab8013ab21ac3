"""PyTorch twin of `pnpm bench --only seed-sample` (issue 16): the seed MLP
Linear(2→128)→SiLU→Linear(128→128)→SiLU→Linear(128→1) on (x, raw integer t), 1000 samples ×
100 DDPM ancestral steps with linear betas 1e-4 … 0.02, one thread, no autograd.

Run it beside the fused sampler, with OpenBLAS left to pick its own kernel for this command only:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 packages/kernels/bench/seed_sample_torch.py

Prints the median, min and max wall time of `--reps` runs (default 5, after one warm-up), and the
CPU time of the median run. Needs Debian's python3-torch (or any PyTorch ≥ 1.13).
"""

import argparse
import statistics
import time

import torch


def seed_mlp(hidden: int = 128) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(2, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, 1),
    )


@torch.no_grad()
def sample(model: torch.nn.Module, n: int, betas: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DDPM ancestral sampling (Ho et al. 2020, Alg. 2) with σ_t² = β_t, ε-prediction."""
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, 0)
    x = torch.randn(n, 1, generator=gen)
    for t in range(len(betas) - 1, -1, -1):
        inp = torch.cat([x, torch.full((n, 1), float(t))], dim=1)
        eps = model(inp)
        # Alg. 2, line 4: x ← (x − β_t/√(1−ᾱ_t)·ε)/√α_t + σ_t z
        x = (x - betas[t] / torch.sqrt(1.0 - alphas_cumprod[t]) * eps) / torch.sqrt(alphas[t])
        if t > 0:
            x = x + torch.sqrt(betas[t]) * torch.randn(n, 1, generator=gen)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = seed_mlp().eval()
    betas = torch.linspace(1e-4, 0.02, 100)
    gen = torch.Generator().manual_seed(0)
    sample(model, args.samples, betas, gen)  # warm-up
    walls, cpus = [], []
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        sample(model, args.samples, betas, gen)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    med = statistics.median(walls)
    cpu_of_median = cpus[walls.index(sorted(walls)[len(walls) // 2])]
    print(
        f"seed-sample torch {torch.__version__} threads={args.threads}: "
        f"{med * 1000:.1f} ms (min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}, n={args.reps}) "
        f"[CPU {cpu_of_median * 1000:.1f} ms]"
    )


if __name__ == "__main__":
    main()
