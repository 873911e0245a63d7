"""The non-saturating G loss of Goodfellow et al. 2014 (their practical alternative to the minimax
game): D as in ``minimax``, G maximises log D(G(z)). Same fixed point and estimate, stronger early gradients.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ganzoo import check_scores
from ganzoo_plugins.divergences.minimax import Minimax


class NonSaturating(Minimax):
    """D as in the minimax game; G maximises log D(G(z)) (the paper's practical alternative)."""

    description = "GAN with the non-saturating G loss -log D(G(z))"

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return F.softplus(-fake).mean()
