"""Stacked MNIST (Metz et al. 2017, as used by VEEGAN and PacGAN): three MNIST digits stacked as the
R, G and B channels, 10^3 = 1,000 modes; the label is 100 * red digit + 10 * green digit + blue digit.

The papers' protocol (PacGAN's ``stacked_MNIST_experiments``): 128,000 triples drawn from all 70,000
MNIST digits (train and test), scored by an MNIST classifier trained on the training split. ganzoo
draws 128,000 triples (``stacked-mnist:N`` for another count) from every split it finds: both with
torchvision's download or a ``--data-dir`` holding all four idx files, and then the test split is the
channel classifier's held-out set. With the test split alone (offline here), the triples come from
10,000 digits and the classifier holds out half of them: the mode counts are then not the papers'
(fewer distinct triples, a weaker classifier); the provenance columns say which ran.

The feature space of FID and the class metrics is a classifier of the 1,000 triples, and its reference
set must hold images it never saw. Held out by triple, a held-out triple's channel image would sit in
some training triple with probability about 0.995; so the hold-out is by digit: a seeded half of the
digits are reference digits, the reference triples are those made only of them, and the classifier
trains only on triples made only of the other half (each about 1/8 of the triples).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import Data, DataKind, Dataset, DatasetInfo
from ganzoo_plugins.datasets.mnist import MNIST

TRIPLES = 128_000  # VEEGAN and PacGAN: 128k triples (1.2 GB as float32)


class StackedMNIST(Dataset):
    """Three MNIST digits as RGB channels; 1,000 modes."""

    info = DatasetInfo(kind=DataKind.LABELLED, shape=(3, 28, 28), num_classes=1000, tags=frozenset({"stacked-digits"}))
    description = (
        "three MNIST digits as RGB, 1,000 modes, 128k triples (VEEGAN/PacGAN); from --data-dir's MNIST or a download"
    )
    splits = MNIST.splits
    argument = "the number of triples, e.g. stacked-mnist:20000 (default 128000)"

    @classmethod
    def info_for(cls, argument: str | None, data_dir: Path | None = None) -> DatasetInfo:
        _triples(argument)
        return cls.info

    @classmethod
    def load(cls, *, name: str, data_dir: Path | None, split: str, download: bool, argument: str | None = None) -> Data:
        parts = MNIST.load_all(data_dir=data_dir, split=split, download=download)
        digits = Data(
            name="mnist",
            info=MNIST.info,
            x=torch.cat([p.x for p in parts]),
            y=torch.cat([p.y for p in parts]),
            split="+".join(p.split for p in parts),
            source="; ".join(p.source for p in parts),
        )
        if [p.split for p in parts] == ["train", "test"]:  # the classifier trains on train, is checked on test
            digits.held_out = torch.arange(len(parts[0]), len(digits))
        n = _triples(argument)
        idx = torch.randint(len(digits), (n, 3), generator=torch.Generator().manual_seed(0))
        x = digits.x[idx].squeeze(2)  # -> n x 3 x 28 x 28
        d = digits.y[idx]
        reference_digit = torch.zeros(len(digits), dtype=torch.bool)
        reference_digit[torch.randperm(len(digits), generator=torch.Generator().manual_seed(1))[: len(digits) // 2]] = (
            True
        )
        made_of_reference = reference_digit[idx]  # n x 3
        return Data(
            name=name,
            info=cls.info,
            x=x,
            y=d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2],
            split=digits.split,
            source=f"{n} triples (seed 0) of {len(digits)} digits: {digits.source}",
            base=digits,
            held_out=torch.nonzero(made_of_reference.all(1)).flatten(),
            classifier_pool=torch.nonzero((~made_of_reference).all(1)).flatten(),
        )


def _triples(argument: str | None) -> int:
    if argument is None:
        return TRIPLES
    if not argument.isdigit() or int(argument) < 1:
        raise ValueError(f"the number of triples must be a positive integer, got {argument!r}")
    return int(argument)
