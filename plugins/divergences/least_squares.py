"""LSGAN (Mao et al. 2017): least-squares losses with the 0-1 coding."""

from __future__ import annotations

from torch import Tensor

from ganzoo import Divergence, check_scores


class LeastSquares(Divergence):
    """LSGAN (Mao et al. 2017), 0-1 coding: D minimises (D(x)-1)^2 + D(G(z))^2, G minimises (D(G(z))-1)^2, halved."""

    description = "least-squares GAN loss (0-1 coding)"
    paper = "Mao et al. 2017, Least Squares Generative Adversarial Networks"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return 0.5 * ((fake - 1) ** 2).mean()
