"""How sure a number is: 95% intervals of FID and KID from half-samples of the generated and the reference set, and FID∞
(Chong & Forsyth 2020), on features already extracted. Statistics only: ``ganzoo score`` and any caller
that holds features use them."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

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


def _moments(x: Tensor) -> tuple[Tensor, Tensor]:
    x = x.double()
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


@dataclass
class Certainty:
    """95% intervals per value, from half-samples; ``sides`` says what was resampled: ``both`` (the generated and
    the reference set: the interval is for E[FID_n], the mean over fresh draws of both at the sizes used) or
    ``generated`` (the reference is fixed: saved statistics without features, so only the generated side varies)."""

    low: dict[str, float]
    high: dict[str, float]
    rounds: int
    sides: str = "both"

    def detail(self) -> str:
        what = (
            "E[FID_n] over fresh draws of both the generated and the reference set"
            if self.sides == "both"
            else "draws of the generated set only (the reference is fixed: statistics without features)"
        )
        return f"95% interval of {what} ({self.rounds} half-samples of each, centred on the value)"


def bootstrap(
    fake: Tensor,
    ref: Reference,
    rounds: int,
    seed: int = 0,
    level: float = 0.95,
    values: dict[str, float] | None = None,
    reference_varies: bool = True,
) -> Certainty:
    """How much FID (and KID, where the reference has features) moves with the draw of the samples: ``rounds``
    half-samples drawn without replacement, of the generated set and, where the reference is itself a sample (its
    features are there and ``reference_varies``), of the reference set too; the standard deviation of each value over
    them gives a normal interval around the full-sample value. Half-sampling without replacement has the full
    sample's variance (the finite-population factor 1 - m/n halves the variance of a half-size set), and draws no
    sample twice:
    resampling with replacement repeats samples, which KID's unbiased estimator counts as pairs of identical images
    and FID's covariance as fewer, so both drift upwards. Centring keeps out FID's bias in N (FID∞ measures it).
    Resampling the generated side only leaves out the reference's own variability, and such an interval covers
    E[FID_n] less often than it says (``benchmarks/intervals.py``)."""
    both = reference_varies and ref.features is not None
    mu_r, sigma_r, root = _reference_moments(ref)
    gen = torch.Generator().manual_seed(seed)
    m = len(fake) // 2
    draws: dict[str, list[float]] = {"fid": []}
    if ref.features is not None and (values is None or "kid" in values):
        draws["kid"] = []
    for _ in range(rounds):
        half = fake[torch.randperm(len(fake), generator=gen)[:m]]
        half_ref = ref
        if both:
            real = ref.features[torch.randperm(len(ref.features), generator=gen)[: len(ref.features) // 2]]
            mu_r, sigma_r = _moments(real)
            root = _sqrt_psd(sigma_r)
            half_ref = Reference({}, real, real.float(), None, ref.kid_subsets)
        draws["fid"].append(frechet_fast(half, mu_r, sigma_r, root))
        if "kid" in draws:
            draws["kid"].append(kid_of(half, half_ref))
    values = values or {
        "fid": fid_from_features(fake, ref.stats),
        **({"kid": kid_of(fake, ref)} if ref.features is not None else {}),
    }
    # the spread of the half-sample values, as a normal interval: every draw counts (a percentile's tail at 50
    # rounds rests on about one draw)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    low = {k: values[k] - z * float(np.std(v, ddof=1)) for k, v in draws.items()}
    high = {k: values[k] + z * float(np.std(v, ddof=1)) for k, v in draws.items()}
    return Certainty(low, high, rounds, "both" if both else "generated")


# Chong & Forsyth fit FID at 5,000 to 50,000 samples for Inception's 2,048 dimensions: sizes of at least about 2.4
# times the feature dimension, where FID is close to linear in 1/N (below that the covariance is too poorly known)
LEAST_PER_DIMENSION = 2.4


def fid_infinity(fake: Tensor, ref: Reference, points: int = 15, seed: int = 0, least: int = 10) -> tuple[float, str]:
    """FID∞ (Chong & Forsyth 2020): FID at ``points`` sample counts from about 2.4 times the feature dimension (and
    at least ``least``) to all the generated samples (each a seeded subset), against the whole reference's
    statistics (the largest set), a line fitted to FID against 1/N, and its value at 1/N = 0. A ValueError, in one
    line, where the samples do not reach twice the smallest size: the fit would run where FID is not linear in 1/N
    (before: sizes from a fifth of the samples, at or below the dimension, 3.2 low at 205 dimensions)."""
    n, d = fake.shape
    lo = max(least, int(np.ceil(LEAST_PER_DIMENSION * d)))
    if n < 2 * lo:
        raise ValueError(
            f"FID∞ needs at least {2 * lo} samples in {d}-d features (Chong & Forsyth fit sizes from about 2.4 x the "
            f"dimension, {lo}, over at least a factor of 2); got {n}: give --n {2 * lo} or more"
        )
    counts = sorted({int(c) for c in np.linspace(lo, n, points)})
    gen = torch.Generator().manual_seed(seed)
    mu_r, sigma_r, root = _reference_moments(ref)
    fids = [frechet_fast(fake[torch.randperm(n, generator=gen)[:c]], mu_r, sigma_r, root) for c in counts]
    slope, intercept = np.polyfit(1.0 / np.array(counts), np.array(fids), 1)
    return (
        float(intercept),
        f"Chong & Forsyth 2020: FID at {len(counts)} sample counts {counts[0]}..{counts[-1]} against the whole reference, "
        f"fitted to FID = FID∞ + k/N (k={slope:.4g})",
    )
