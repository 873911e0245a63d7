"""Digit domains: the same kind of digit drawn four ways, for translation with known ground truth.

Each base image (scikit-learn digits, or MNIST) is rendered in exactly one domain, so the domains are
unpaired as in CycleGAN's setting. Yet the true mapping between any two domains is known (invert,
rotate, tint are invertible pixel maps) and each image keeps its digit label, so a translation can be
scored against the truth: is it in the target domain, does it show the same digit, how far is it from
the exact answer. Real photo domains (horse2zebra, CelebA) have none of this.

Domains (grey g in [-1, 1], stroke +1), all as RGB:
``plain`` (g, g, g) · ``inverted`` (-g, -g, -g) · ``tinted`` an orange stroke on black ·
``rotated`` plain turned 90 degrees anticlockwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor

from ganzoo import Data, DataKind, Dataset, DatasetInfo
from ganzoo_plugins.datasets.digits import Digits
from ganzoo_plugins.datasets.mnist import MNIST

DOMAINS = ("plain", "inverted", "tinted", "rotated")
STROKE = torch.tensor([1.0, 0.2, -0.6])  # tinted: g = -1 -> black, g = +1 -> orange; red channel = g


def render(grey: Tensor, domain: int) -> Tensor:
    """Grey images (N, 1, H, W) in [-1, 1] drawn in ``domain`` as (N, 3, H, W)."""
    name = DOMAINS[domain]
    if name == "plain":
        return grey.expand(-1, 3, -1, -1).clone()
    if name == "inverted":
        return -grey.expand(-1, 3, -1, -1)
    if name == "tinted":
        t = (grey + 1) / 2
        return -1 + t * (STROKE.to(grey).view(1, 3, 1, 1) + 1)
    return torch.rot90(grey, 1, dims=(2, 3)).expand(-1, 3, -1, -1).clone()


def unrender(x: Tensor, domain: int) -> Tensor:
    """The inverse of :func:`render`: RGB images of ``domain`` back to grey (N, 1, H, W)."""
    name = DOMAINS[domain]
    if name == "plain":
        return x.mean(1, keepdim=True)
    if name == "inverted":
        return -x.mean(1, keepdim=True)
    if name == "tinted":
        return x[:, :1]
    return torch.rot90(x.mean(1, keepdim=True), -1, dims=(2, 3))


def true_translation(x: Tensor, source: int, target: int) -> Tensor:
    """Images of domain ``source`` exactly as they look in domain ``target``."""
    return render(unrender(x, source), target)


def make_domains(base: Data, *, name: str, info: DatasetInfo, seed: int = 0) -> Data:
    """Deal the base images (a seeded shuffle) into equal parts, part k drawn in domain k."""
    perm = torch.randperm(len(base), generator=torch.Generator().manual_seed(seed))
    parts = perm.tensor_split(len(DOMAINS))
    x = torch.cat([render(base.floats(idx), d) for d, idx in enumerate(parts)])
    y = torch.cat([torch.full((len(idx),), d, dtype=torch.long) for d, idx in enumerate(parts)])
    content = torch.cat([base.y[idx] for idx in parts])
    return Data(
        name=name,
        info=info,
        x=x,
        y=y,
        split=base.split,
        content=content,
        true_translation=true_translation,
        source=f"{', '.join(DOMAINS)} renderings of disjoint quarters (seed {seed}) of {base.name}: {base.source}",
    )


def _info(side: int) -> DatasetInfo:
    return DatasetInfo(
        kind=DataKind.DOMAINS, shape=(3, side, side), num_classes=len(DOMAINS), domains=DOMAINS, content_classes=10
    )


class _DigitDomains(Dataset):
    """Four unpaired domains dealt from whatever split the base digits dataset loads."""

    base: ClassVar[type[Dataset]]
    base_name: ClassVar[str]

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        base = cls.base.load(name=cls.base_name, data_dir=data_dir, split=split, download=download)
        return make_domains(base, name=name, info=cls.info)


class DigitDomains(_DigitDomains):
    """scikit-learn's 8x8 digits in four unpaired domains; offline, milliseconds to load."""

    info = _info(8)
    description = "8x8 digits as plain/inverted/tinted/rotated RGB domains, unpaired, true mapping known; offline"
    base, base_name, splits = Digits, "digits", Digits.splits


class MNISTDomains(_DigitDomains):
    """MNIST in four unpaired domains, from whatever MNIST split ``--data-dir`` holds."""

    info = _info(28)
    description = "MNIST as plain/inverted/tinted/rotated RGB domains, unpaired, true mapping known"
    base, base_name, splits = MNIST, "mnist", MNIST.splits
