"""How sure a number is: 95% intervals of FID and KID from half-samples of the generated set, and FID∞
(Chong & Forsyth 2020), on features already extracted. Statistics only: ``ganzoo score`` and any caller
that holds features use them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ganzoo.metrics.fidelity import Reference, fid_from_features, kid_of


def frechet_fast(fake: Tensor, ref_mu: Tensor, ref_sigma: Tensor, sqrt_ref: Tensor) -> float:
    """FID with the reference's covariance square root computed once (``sqrt_ref``): tr sqrt(S_r S_f) =
    tr sqrt(A S_f A) for A = S_r^(1/2), a symmetric matrix whose eigenvalues eigh finds quickly. Used for the
    bootstrap rounds; the reported value is torch-fidelity's (the tests hold the two equal)."""
    fake = fake.double()
    mu = fake.mean(0)
    centred = fake - mu
    sigma = centred.T @ centred / (len(fake) - 1)
    inner = torch.linalg.eigvalsh(sqrt_ref @ sigma @ sqrt_ref).clamp(min=0).sqrt().sum()
    return float(((mu - ref_mu) ** 2).sum() + torch.trace(ref_sigma) + torch.trace(sigma) - 2 * inner)


def _reference_moments(ref: Reference) -> tuple[Tensor, Tensor, Tensor]:
    """The reference's mean, covariance and covariance square root (once per command), for :func:`frechet_fast`."""
    mu = torch.as_tensor(ref.stats["mu"], dtype=torch.float64)
    sigma = torch.as_tensor(ref.stats["sigma"], dtype=torch.float64)
    return mu, sigma, _sqrt_psd(sigma)


def _sqrt_psd(sigma: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(sigma)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


@dataclass
class Certainty:
    """95% intervals per value, from half-samples of the generated samples."""

    low: dict[str, float]
    high: dict[str, float]
    rounds: int


def bootstrap(
    fake: Tensor,
    ref: Reference,
    rounds: int,
    seed: int = 0,
    level: float = 0.95,
    values: dict[str, float] | None = None,
) -> Certainty:
    """How much FID (and KID, where the reference has features) moves with the draw of generated samples:
    ``rounds`` half-samples drawn without replacement, each value's deviations from their mean put around
    the full-sample value. Half-sampling without replacement has the full sample's variance (the finite-
    population factor 1 - m/n halves the variance of a half-size set), and draws no sample twice: resampling
    with replacement repeats samples, which KID's unbiased estimator counts as pairs of identical images and
    FID's covariance as fewer, so both drift upwards. Centring keeps out FID's bias in N (FID∞ measures it)."""
    mu_r, sigma_r, root = _reference_moments(ref)
    gen = torch.Generator().manual_seed(seed)
    m = len(fake) // 2
    draws: dict[str, list[float]] = {"fid": []}
    if ref.features is not None:
        draws["kid"] = []
    for _ in range(rounds):
        half = fake[torch.randperm(len(fake), generator=gen)[:m]]
        draws["fid"].append(frechet_fast(half, mu_r, sigma_r, root))
        if ref.features is not None:
            draws["kid"].append(kid_of(half, ref))
    values = values or {
        "fid": fid_from_features(fake, ref.stats),
        **({"kid": kid_of(fake, ref)} if ref.features is not None else {}),
    }
    tail = (1 - level) / 2 * 100
    low = {k: values[k] + float(np.percentile(v, tail) - np.mean(v)) for k, v in draws.items()}
    high = {k: values[k] + float(np.percentile(v, 100 - tail) - np.mean(v)) for k, v in draws.items()}
    return Certainty(low, high, rounds)


def fid_infinity(fake: Tensor, ref: Reference, points: int = 10, seed: int = 0, least: int = 10) -> tuple[float, str]:
    """FID∞ (Chong & Forsyth 2020): FID at ``points`` sample counts from a fifth of the samples to all of them
    (each a seeded subset), a line fitted to FID against 1/N, and its value at 1/N = 0."""
    n = len(fake)
    lo = max(least, n // 5)
    counts = sorted({int(c) for c in np.linspace(lo, n, points)})
    if len(counts) < 3:
        raise ValueError(f"FID∞ needs at least 3 sample counts; {n} samples give {len(counts)}")
    gen = torch.Generator().manual_seed(seed)
    mu_r, sigma_r, root = _reference_moments(ref)
    fids = [frechet_fast(fake[torch.randperm(n, generator=gen)[:c]], mu_r, sigma_r, root) for c in counts]
    slope, intercept = np.polyfit(1.0 / np.array(counts), np.array(fids), 1)
    return (
        float(intercept),
        f"Chong & Forsyth 2020: FID at {len(counts)} sample counts {counts[0]}..{counts[-1]}, fitted to FID = FID∞ + k/N (k={slope:.4g})",
    )
