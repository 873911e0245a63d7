"""Stacked MNIST (Metz et al. 2017, as used by VEEGAN and PacGAN): three MNIST digits stacked as the
R, G and B channels, 10^3 = 1,000 modes. Offline it is built from whatever MNIST split ``--data-dir``
holds; the label is 100 * red digit + 10 * green digit + blue digit.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo
from ganzoo_plugins.mnist import MNIST

SAMPLES = 20_000  # 184 MB as float32; VEEGAN and PacGAN drew 128,000 from the 60,000 train images


class StackedMNIST(Dataset):
    """Three MNIST digits as RGB channels; 1,000 modes."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(3, 28, 28), num_classes=1000, tags=frozenset({"stacked-digits"}))
    description = "three MNIST digits as RGB, 1,000 modes (VEEGAN/PacGAN); built from --data-dir's MNIST"
    splits = MNIST.splits

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        mnist = MNIST.load(name="mnist", data_dir=data_dir, split=split, download=download)
        gen = torch.Generator().manual_seed(0)
        idx = torch.randint(len(mnist), (SAMPLES, 3), generator=gen)
        x = mnist.x[idx].squeeze(2)  # -> SAMPLES x 3 x 28 x 28
        digits = mnist.y[idx]
        y = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
        return Data(name=name, info=cls.info, x=x, y=y, split=mnist.split, source=f"{SAMPLES} triples (seed 0) of {mnist.source}")
