"""The hinge loss (Lim & Ye 2017, Geometric GAN; the SN-GAN and BigGAN default)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, check_scores


class Hinge(Divergence):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D minimises relu(1-D(x)) + relu(1+D(G(z))), G minimises -D(G(z))."""

    description = "hinge loss"
    paper = "Lim & Ye 2017, Geometric GAN"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -fake.mean()
