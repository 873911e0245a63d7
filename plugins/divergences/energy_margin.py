"""EBGAN's margin loss (Zhao, Mathieu & LeCun 2017), on energies rather than probabilities."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, check_scores


class EnergyMargin(Divergence):
    """EBGAN's margin loss (Zhao et al. 2017) on energies (D's scores are reconstruction errors):
    D minimises E(x) + max(0, m - E(G(z))); G minimises E(G(z))."""

    description = "EBGAN margin loss on energies (m=1)"
    paper = "Zhao, Mathieu & LeCun 2017, Energy-based GAN"

    def __init__(self, *, margin: float = 1.0) -> None:
        self.margin = margin

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return real.mean() + F.relu(self.margin - fake).mean()

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return fake.mean()
