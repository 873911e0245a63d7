"""Do `ganzoo score`'s intervals and FID∞ cover what they claim? A simulation with Gaussian features whose FID is
known: the reference P = N(0, I) and the generator Q = N(mu, diag(s^2)) in d dimensions, so the population FID is
|mu|^2 + sum(1 + s^2 - 2 s), and E[FID_n] (the mean over fresh draws of n generated and n reference features) is
estimated from many draws.

For each of `--repeats` draws it computes the 95% half-sample interval twice, resampling the generated side only
(ganzoo's interval before) and both sides (now), and prints how often each covers E[FID_n], its width against the
true spread of FID_n, and FID∞'s error against the population FID, fitted as Chong & Forsyth fit it (sizes from
2.4 d up) and as ganzoo did before (10 sizes from n/5 to n).

    python benchmarks/intervals.py --d 32 --n 800 --repeats 200
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from ganzoo.metrics.fidelity import Reference, fid_from_features
from ganzoo.metrics.intervals import _reference_moments, bootstrap, fid_infinity, frechet_fast


def population_fid(mu: np.ndarray, s: np.ndarray) -> float:
    return float((mu**2).sum() + (1 + s**2 - 2 * s).sum())


def draw(n: int, mu: torch.Tensor, s: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n reference features from N(0, I) and n generated ones from N(mu, diag(s^2))."""
    d = len(mu)
    real = torch.randn(n, d, generator=gen, dtype=torch.float64)
    fake = torch.randn(n, d, generator=gen, dtype=torch.float64) * s + mu
    return real, fake


def old_fid_infinity(fake: torch.Tensor, ref: Reference, seed: int = 0) -> float:
    """ganzoo's FID∞ before: 10 sizes from a fifth of the samples to all of them."""
    n = len(fake)
    counts = sorted({int(c) for c in np.linspace(max(10, n // 5), n, 10)})
    gen = torch.Generator().manual_seed(seed)
    mu_r, sigma_r, root = _reference_moments(ref)
    fids = [frechet_fast(fake[torch.randperm(n, generator=gen)[:c]], mu_r, sigma_r, root) for c in counts]
    return float(np.polyfit(1.0 / np.array(counts), np.array(fids), 1)[1])


def simulate(
    d: int, n: int, repeats: int, rounds: int, truth_draws: int, seed: int = 0, ref_multiple: int = 10
) -> dict[str, float]:
    """Coverage of E[FID_n] and width against the true spread of each interval; FID∞'s bias (old and new fits)."""
    gen = torch.Generator().manual_seed(seed)
    mu = torch.full((d,), 0.5 / np.sqrt(d), dtype=torch.float64)
    s = torch.full((d,), 1.2, dtype=torch.float64)
    truth = population_fid(mu.numpy(), s.numpy())
    fresh = [fid_from_features(f, Reference.of(r).stats) for r, f in (draw(n, mu, s, gen) for _ in range(truth_draws))]
    expected, spread = float(np.mean(fresh)), float(np.std(fresh, ddof=1))
    covered = {"generated": 0, "both": 0}
    width = {"generated": [], "both": []}
    new_inf, old_inf = [], []
    for i in range(repeats):
        real, fake = draw(n, mu, s, gen)
        ref = Reference(Reference.of(real).stats, real, real.float(), None)
        for sides, varies in (("generated", False), ("both", True)):
            c = bootstrap(
                fake, ref, rounds, seed=i, values={"fid": fid_from_features(fake, ref.stats)}, reference_varies=varies
            )
            covered[sides] += c.low["fid"] <= expected <= c.high["fid"]
            width[sides].append((c.high["fid"] - c.low["fid"]) / (2 * 1.96 * spread))
        # FID∞ against a reference ref_multiple times larger (Chong & Forsyth: the whole training set), so what is
        # measured is the extrapolation of the generated side
        big = torch.randn(ref_multiple * n, d, generator=gen, dtype=torch.float64)
        whole = Reference(Reference.of(big).stats)
        try:
            new_inf.append(fid_infinity(fake, whole, seed=i)[0] - truth)
        except ValueError:
            pass
        old_inf.append(old_fid_infinity(fake, whole, seed=i) - truth)
    return {
        "population FID": truth,
        "E[FID_n]": expected,
        "std of FID_n": spread,
        "coverage, generated side only": covered["generated"] / repeats,
        "coverage, both sides": covered["both"] / repeats,
        "width / true, generated side only": float(np.median(width["generated"])),
        "width / true, both sides": float(np.median(width["both"])),
        "FID∞ - population, before (n/5..n)": float(np.mean(old_inf)),
        "FID∞ - population, Chong & Forsyth sizes": float(np.mean(new_inf)) if new_inf else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--n", type=int, default=800)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--truth-draws", type=int, default=1000)
    ap.add_argument("--ref-multiple", type=int, default=10, help="FID∞'s reference: this many times n features")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    out = simulate(args.d, args.n, args.repeats, args.rounds, args.truth_draws, ref_multiple=args.ref_multiple)
    print(
        f"machine: {platform.machine()}, torch {torch.__version__}, 1 thread; d={args.d}, n={args.n} per side, "
        f"{args.repeats} repeats x {args.rounds} half-samples, E[FID_n] from {args.truth_draws} draws, FID∞ against "
        f"{args.ref_multiple} n reference features; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    for k, v in out.items():
        print(f"{k:45s} {v:.4g}")


if __name__ == "__main__":
    main()
