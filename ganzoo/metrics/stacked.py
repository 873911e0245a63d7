"""Mode coverage on Stacked MNIST as VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018)
count it: an MNIST classifier labels each colour channel of 26,000 generated samples; the three digits
name one of 1,000 modes. The classifier learns from the MNIST digits the triples were built from, never
from those the dataset holds out (the test split, or half the digits when only one split is there),
and its accuracy on those is written into the provenance. ``stacked_modes`` is the number of modes hit, ``stacked_kl`` the KL divergence
of the mode histogram to the uniform one. (VEEGAN: DCGAN 99 modes, KL 3.40; PacGAN: PacDCGAN2 1,000
modes, KL 0.06.)
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from ganzoo.data import Data, DataKind, DatasetInfo
from ganzoo.metrics.base import EvalOptions, Metric, Samples
from ganzoo.metrics.classifier import classifier_split, ensure_classifier, file_sha256, load_classifier


def stacked_mode_stats(digits: Tensor) -> dict[str, float]:
    """``digits``: (N, 3) predicted digit per channel -> modes hit and KL(mode histogram || uniform)."""
    if digits.dim() != 2 or digits.shape[1] != 3:
        raise ValueError(f"expected (N, 3) digit predictions, got {tuple(digits.shape)}")
    modes = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    p = torch.bincount(modes, minlength=1000).double() / len(modes)
    kl = float((p[p > 0] * (p[p > 0] * 1000).log()).sum())
    return {"stacked_modes": float((p > 0).sum()), "stacked_kl": kl}


def channel_digits(data: Data) -> Data:
    """Each colour channel as its own MNIST image, labelled with its digit: what the classifier learns."""
    y = data.y
    digits = torch.stack([y // 100, y // 10 % 10, y % 10], dim=1).reshape(-1)
    x = data.x.reshape(-1, 1, *data.info.shape[1:])
    info = DatasetInfo(
        kind=DataKind.LABELLED, shape=(1, *data.info.shape[1:]), num_classes=10, value_range=data.info.value_range
    )
    return Data(
        name=f"{data.name}-channels", info=info, x=x, y=digits, split=data.split, source=f"channels of {data.source}"
    )


class StackedModes(Metric):
    """Modes (of 1,000) and mode-histogram KL on 26,000 samples, from a per-channel MNIST classifier."""

    description = "Stacked MNIST: modes of 1,000 and KL to uniform on 26,000 samples (VEEGAN/PacGAN)"
    directions = {"stacked_modes": "higher", "stacked_kl": "lower"}
    summary = ("stacked_modes",)

    @classmethod
    def applies_to(cls, info: DatasetInfo) -> bool:
        return "stacked-digits" in info.tags

    def __init__(
        self, *, data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None
    ) -> None:
        super().__init__(data=data, device=device, cache_dir=cache_dir, options=options)
        # the digits themselves where the dataset has them: channels of triples repeat digits, so a split of
        # the channels would test the classifier on digits it trained on
        self.digits = data.base if data.base is not None else channel_digits(data)
        self.train_idx, self.held_out = classifier_split(self.digits)
        path, self.accuracy = ensure_classifier(self.digits, cache_dir, device, (self.train_idx, self.held_out))
        self.sha = file_sha256(path)
        self.model = load_classifier(path)[0].to(device)

    @property
    def num_samples(self) -> int:
        return 26_000

    def compute(self, samples: Samples) -> dict[str, float]:
        x = samples.x.reshape(-1, 1, *samples.x.shape[2:])
        with torch.no_grad():
            pred = torch.cat([self.model(c.to(self.device)).argmax(1).cpu() for c in x.split(1500)])
        return stacked_mode_stats(pred.reshape(-1, 3))

    def provenance(self) -> dict[str, object]:
        return {
            "features": "classifier",
            "features_sha256": self.sha[:16],
            "reference": f"{len(self.data)} triples of {self.digits.split} ({len(self.digits)} digits); channel classifier trained on "
            f"{len(self.train_idx)}, accuracy {self.accuracy:.4f} on {len(self.held_out)} held-out digits",
            "reference_images": len(self.data),
            "generated_images": self.num_samples,
            "resize": "none",
        }
