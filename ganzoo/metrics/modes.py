"""Mode coverage on Gaussian mixtures with known centres, as VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018) report it: on 2,500 generated samples, a sample is high quality when it lies
within 3 standard deviations of its nearest mode, and a mode is captured when at least one high-quality
sample is nearest to it. ``reverse_kl`` is PacGAN's "reverse KL": KL(Q || P) between the mode
histogram of the high-quality samples only (Q) and the uniform mixture weights (P), as PacGAN's
released code computes its mode histogram (``detail_of_coverage`` in ``pacgan/extensions.py``). Counting
every sample instead would score a generator spread thinly over the whole plane near 0, the best value;
with no high-quality sample the histogram is empty and the value is NaN.
"""

from __future__ import annotations

import torch

from ganzoo.data import DatasetInfo
from ganzoo.metrics.base import Metric, Samples


def mode_stats(x: torch.Tensor, centres: torch.Tensor, std: float) -> dict[str, float]:
    """Modes captured and the share of high-quality samples; pure, so tests can feed it known points."""
    if x.dim() != 2 or x.shape[1] != centres.shape[1]:
        raise ValueError(f"samples must have shape (N, {centres.shape[1]}), got {tuple(x.shape)}")
    dist = torch.cdist(x.double(), centres.double())
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centres)).double()
    captured = int((counts > 0).sum())
    if counts.sum() == 0:
        reverse_kl = float("nan")
    else:
        q = counts / counts.sum()
        reverse_kl = float((q[q > 0] * (q[q > 0] * len(centres)).log()).sum())
    return {"modes": float(captured), "hq_share": float(good.double().mean()), "reverse_kl": reverse_kl}


class MixtureModes(Metric):
    """Modes captured and high-quality share on mixtures whose centres the dataset declares."""

    description = "modes captured, high-quality share and reverse KL on 2,500 samples (VEEGAN/PacGAN protocol)"
    directions = {"modes": "higher", "hq_share": "higher", "reverse_kl": "lower"}
    summary = ("modes", "hq_share")

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return info.modes is not None and info.mode_std is not None

    @property
    def num_samples(self) -> int:
        return 2500

    def compute(self, samples: Samples) -> dict[str, float]:
        info = self.data.info
        return mode_stats(samples.x.reshape(len(samples.x), -1), torch.tensor(info.modes), float(info.mode_std))

    def provenance(self) -> dict[str, object]:
        return {"reference": f"{self.data.name} mode centres", "generated_images": self.num_samples}
