"""Distribution metrics in one feature space, features extracted once per evaluation:

- ``fid``: Fréchet distance (Heusel et al. 2017), torch-fidelity's ``fid_statistics_to_metric``;
- ``kid``: kernel inception distance (Bińkowski et al. 2018), torch-fidelity's ``kid_features_to_metric``,
  on 10 subsets of up to 1,000 samples (torch-fidelity's default is 100 subsets: 3.5 s per evaluation
  on 2 CPU cores against 0.35 s, with the mean unchanged in expectation);
- ``precision``/``recall`` (Kynkäänniemi et al. 2019, k=3), torch-fidelity's ``prc_features_to_metric``;
- ``density``/``coverage`` (Naeem et al. 2020, k=5), which torch-fidelity lacks: written here in torch,
  so it runs on the GPU, and tested against the ``prdc`` package;
- ``inception_score`` (Salimans et al. 2016), in Inception features only: torch-fidelity's
  ``isc_features_to_metric`` on the 1,008 unbiased logits, the mean over 10 splits of the generated set (as
  the original code and Mimicry's table); it needs no reference set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, isc_features_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric
from torch_fidelity.metric_prc import KEY_METRIC_PRECISION, KEY_METRIC_RECALL, prc_features_to_metric

from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.metrics.base import EvalOptions, Metric, NotApplicable, Samples
from ganzoo.metrics.features import feature_space, real_features


def fid_from_features(fake: Tensor, real_stats: dict) -> float:
    """FID of generated features against cached real statistics, by torch-fidelity (float64)."""
    return float(fid_statistics_to_metric(fid_features_to_statistics(fake.double()), real_stats, False)[KEY_METRIC_FID])


def kth_neighbour_radii(x: Tensor, k: int) -> Tensor:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    return torch.cdist(x, x).kthvalue(k + 1, dim=1).values


def density_coverage(real: Tensor, fake: Tensor, *, k: int = 5, real_radii: Tensor | None = None) -> dict[str, float]:
    """Naeem et al. 2020: density counts how many real k-NN balls hold each fake sample (divided by k);
    coverage is the share of real balls that hold at least one fake sample."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be (N, D) and (M, D), got {tuple(real.shape)} and {tuple(fake.shape)}")
    radii = kth_neighbour_radii(real, k) if real_radii is None else real_radii
    inside = torch.cdist(real, fake) < radii[:, None]  # real x fake
    return {"density": float(inside.sum(0).double().mean() / k), "coverage": float(inside.any(1).double().mean())}


KID_SUBSETS = 10
IS_SPLITS = 10


def inception_score(logits: Tensor, splits: int = IS_SPLITS) -> float:
    """Salimans et al.'s score, exp(E KL(p(y|x) || p(y))), averaged over ``splits`` parts of the samples in order."""
    return float(isc_features_to_metric(logits.float(), splits=splits, shuffle=False)[KEY_METRIC_ISC_MEAN])


@dataclass
class Reference:
    """The real side of the fidelity metrics: FID's statistics, and (for the rest) the features themselves
    (float64, a float32 copy, and each real sample's k-NN radius for density/coverage). Saved statistics
    without features give FID only."""

    stats: dict
    features: Tensor | None = None
    features32: Tensor | None = None
    radii: Tensor | None = None
    kid_subsets: int = KID_SUBSETS

    @classmethod
    def of(cls, real: Tensor, kid_subsets: int = KID_SUBSETS, device: torch.device | None = None) -> Reference:
        real = real.double()
        return cls(
            fid_features_to_statistics(real),
            real,
            real.float(),
            kth_neighbour_radii(real.to(device or "cpu"), 5),
            kid_subsets,
        )


def kid_of(fake: Tensor, ref: Reference) -> float:
    """KID of generated features against ``ref``'s, on ``ref.kid_subsets`` subsets of up to 1,000 (torch-fidelity's
    maths, its seed 2020): what a bench reports and what ``ganzoo score``'s intervals resample."""
    subset = min(1000, len(fake), len(ref.features))
    return float(
        kid_features_to_metric(
            fake.float(),
            ref.features32,
            kid_subset_size=subset,
            kid_subsets=ref.kid_subsets,
            verbose=False,
            rng_seed=2020,
        )[KEY_METRIC_KID_MEAN]
    )


def fidelity_values(fake: Tensor, ref: Reference, device: torch.device | str = "cpu") -> dict[str, float]:
    """fid (and, where the reference has its features, kid, precision, recall, density, coverage) of
    generated features ``fake`` against ``ref``: the one computation a bench and ``ganzoo score`` share."""
    out = {"fid": fid_from_features(fake, ref.stats)}
    if ref.features is None:
        return out
    # float64 keeps FID's covariance square root exact, and density/coverage's ball tests stable: in float32
    # one fake sample on a ball's edge flipped between a bench and its resumed copy (cdist's matrix-product
    # path rounds differently with the threads BLAS gets); float64 costs 0.1 s per evaluation here.
    # KID and precision/recall stay float32 (float64 would add 0.7 s per evaluation).
    fake32, real32 = fake.float(), ref.features32
    out["kid"] = kid_of(fake32, ref)
    prc = prc_features_to_metric(fake32.to(device), real32.to(device), save_cpu_ram=len(fake) > 5000, verbose=False)
    out["precision"], out["recall"] = prc[KEY_METRIC_PRECISION], prc[KEY_METRIC_RECALL]
    out.update(density_coverage(ref.features.to(device), fake.double().to(device), real_radii=ref.radii.to(device)))
    return {k: float(v) for k, v in out.items()}


class FidelityMetrics(Metric):
    """FID, KID, precision/recall, density/coverage in the chosen feature space (``--features``)."""

    description = "fid, kid, precision, recall, density, coverage in --features (inception adds inception_score)"
    directions = {
        "inception_score": "higher",
        "fid": "lower",
        "kid": "lower",
        "precision": "higher",
        "recall": "higher",
        "density": "higher",
        "coverage": "higher",
    }
    summary = ("fid", "kid", "precision", "recall", "coverage")
    conditional_values = {"inception_score": "only in --features inception (its extractor's class logits)"}

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return info.kind is not DataKind.DOMAINS and (
            info.num_classes >= 2 or info.is_image
        )  # domains: metrics/translation.py

    @classmethod
    def check_data(cls, info: DatasetInfo, options: EvalOptions) -> None:
        if info.kind is DataKind.DOMAINS:
            raise NotApplicable("domain data is scored by the translation metric")
        if options.features == "classifier" and info.num_classes < 2:
            hint = "; --features inception works without labels" if info.is_image else ""
            raise NotApplicable(
                f"its feature space is a classifier of the dataset's classes, and this dataset ({info.describe()}) has none{hint}"
            )
        super().check_data(info, options)

    def __init__(
        self,
        *,
        data: Data,
        device: torch.device,
        cache_dir: Path,
        options: EvalOptions | None = None,
        max_samples: int = 5000,
        kid_subsets: int = KID_SUBSETS,
    ) -> None:
        super().__init__(data=data, device=device, cache_dir=cache_dir, options=options)
        if max_samples < 10 or kid_subsets < 1:
            raise ValueError(
                f"max_samples must be at least 10 and kid_subsets at least 1, got {max_samples} and {kid_subsets}"
            )
        self.max_samples, self.kid_subsets = max_samples, kid_subsets
        self.space = feature_space(self.options.features, data, cache_dir, device, self.options.inception_weights)
        pool = self.space.reference_pool  # the classifier's held-out images: never the ones it trained on
        self.n = min(len(data) if pool is None else len(pool), self.max_samples)
        self.reference_idx, self.real = real_features(self.space, data, self.n, cache_dir, device, among=pool)
        self.ref = Reference.of(self.real, kid_subsets, device)

    @property
    def num_samples(self) -> int:
        return self.n

    def compute(self, samples: Samples) -> dict[str, float]:
        feats, logits = self.space.extract_with_logits(samples.x, self.device)
        values = fidelity_values(feats, self.ref, self.device)
        if logits is not None:
            values["inception_score"] = inception_score(logits, min(IS_SPLITS, len(logits)))
        return values

    def provenance(self) -> dict[str, object]:
        return {
            **self.space.provenance(),
            "reference": self.space.reference_note(self.data, self.n),
            "reference_images": self.n,
            "generated_images": self.n,
        }
