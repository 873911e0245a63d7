"""The 2-D Gaussian mixtures of the mode-collapse literature, set up so that published tables compare:
VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

- ``ring8``: 8 modes evenly spaced on a circle of radius 1, std 0.01;
- ``grid25``: 25 modes at {-4, -2, 0, 2, 4}^2, std 0.05.

Labels are the mode index, so the dataset classifier (and thus FID) and CGAN can use them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo

SAMPLES = 100_000
_RING = tuple((math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)) for i in range(8))
_GRID = tuple((float(a), float(b)) for a in range(-4, 5, 2) for b in range(-4, 5, 2))


class _Mixture(Dataset):
    """Equal-weight isotropic Gaussians around ``info.modes``, drawn once from a fixed seed."""

    splits = ("train",)
    seed: ClassVar[int] = 0

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool) -> Data:
        gen = torch.Generator().manual_seed(cls.seed)
        centres = torch.tensor(cls.info.modes)
        y = torch.randint(len(centres), (SAMPLES,), generator=gen)
        x = centres[y] + cls.info.mode_std * torch.randn(SAMPLES, 2, generator=gen)
        return Data(
            name=name, info=cls.info, x=x, y=y, split="train", source=f"generated, seed {cls.seed}, {SAMPLES} samples"
        )


class Ring8(_Mixture):
    """8 Gaussians on a circle of radius 1, std 0.01."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(2,), num_classes=8, bounded=False, modes=_RING, mode_std=0.01)
    description = "8 Gaussians on a circle of radius 1, std 0.01 (VEEGAN/PacGAN)"


class Grid25(_Mixture):
    """25 Gaussians on a 5x5 grid with spacing 2, std 0.05."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(2,), num_classes=25, bounded=False, modes=_GRID, mode_std=0.05)
    description = "25 Gaussians at {-4,-2,0,2,4}^2, std 0.05 (VEEGAN/PacGAN)"
