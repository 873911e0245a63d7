"""scikit-learn's bundled 8x8 handwritten digits (UCI optdigits test set): 1,797 images, 10 classes.

Shipped inside scikit-learn, so it loads offline in milliseconds: ganzoo's default dataset.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo


class Digits(Dataset):
    """8x8 grey digits from scikit-learn, scaled from 0..16 to [-1, 1]."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(1, 8, 8), num_classes=10)
    description = "scikit-learn's 8x8 digits, 1,797 images, offline"
    splits = ("all",)

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
        y = torch.tensor(bunch.target, dtype=torch.long)
        return Data(name=name, info=cls.info, x=x, y=y, split="all", source="sklearn.datasets.load_digits")
