"""What the dataset classifier says about generated images:

- ``classes_covered``: classes predicted for at least one sample (the VEEGAN/PacGAN mode count);
- ``class_kl``: KL(predicted-class histogram || real class histogram), 0 when the mix is right;
- ``class_score``: exp E_x[KL(p(y|x) || p(y))], the Inception Score's formula with the dataset
  classifier (Salimans et al. 2016), computed by torch-fidelity's ``isc_features_to_metric``;
- ``cond_accuracy``: for conditional variants, the share of samples classified as the class asked for.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, isc_features_to_metric

from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.metrics.base import EvalOptions, Metric, Samples
from ganzoo.metrics.classifier import ensure_classifier, file_sha256, load_classifier, predict_logits


def histogram_kl(pred: torch.Tensor, reference: torch.Tensor, num_classes: int) -> float:
    """KL(p || q) in nats between the class histograms of ``pred`` and ``reference`` (q > 0 where p > 0)."""
    p = torch.bincount(pred, minlength=num_classes).double()
    q = torch.bincount(reference, minlength=num_classes).double()
    p, q = p / p.sum(), q / q.sum()
    mask = p > 0
    if (q[mask] == 0).any():
        return float("inf")
    return float((p[mask] * (p[mask] / q[mask]).log()).sum())


class ClassMetrics(Metric):
    """Class coverage, class-histogram KL, class score and conditional accuracy from the dataset classifier."""

    description = "classes covered, class-histogram KL, class score, conditional accuracy (dataset classifier)"
    directions = {"classes_covered": "higher", "class_kl": "lower", "class_score": "higher", "cond_accuracy": "higher"}
    summary = ("classes_covered", "cond_accuracy")
    max_samples = 5000

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return (
            info.kind is DataKind.LABELLED
            and info.is_image
            and info.num_classes >= 2
            and "stacked-digits" not in info.tags
        )  # see metrics/stacked.py

    def __init__(
        self, *, data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None
    ) -> None:
        super().__init__(data=data, device=device, cache_dir=cache_dir, options=options)
        path, self.accuracy = ensure_classifier(data, cache_dir, device)
        self.sha = file_sha256(path)
        self.model = load_classifier(path)[0].to(device)
        self.n = min(len(data), self.max_samples)

    @property
    def num_samples(self) -> int:
        return self.n

    def compute(self, samples: Samples) -> dict[str, float]:
        logits = predict_logits(self.model, samples.x, self.device)
        pred = logits.argmax(1)
        k = self.data.info.num_classes
        out = {
            "classes_covered": float(torch.unique(pred).numel()),
            "class_kl": histogram_kl(pred, self.data.y.cpu(), k),
            "class_score": isc_features_to_metric(logits, splits=1, shuffle=False)[KEY_METRIC_ISC_MEAN],
        }
        if samples.y is not None:
            out["cond_accuracy"] = float((pred == samples.y.cpu()).double().mean())
        return out

    def provenance(self) -> dict[str, object]:
        return {
            "features": "classifier",
            "features_sha256": self.sha[:16],
            "reference": f"{self.data.name}/{self.data.split}",
            "reference_images": len(self.data),
            "generated_images": self.n,
            "resize": "none",
        }
