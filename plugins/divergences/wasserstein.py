"""WGAN (Arjovsky, Chintala & Bottou 2017): the critic estimates the Wasserstein-1 distance; its
weights are clipped to keep it Lipschitz, and the paper's training recipe (5 critic steps, RMSProp) comes along.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo import Divergence, Recipe, check_scores


class Wasserstein(Divergence):
    """WGAN (Arjovsky et al. 2017): critic maximises E_P[D] - E_Q[D]; weights clipped to [-c, c]."""

    description = "WGAN critic loss with weight clipping (c=0.01); 5 critic steps, RMSProp(5e-5)"
    paper = "Arjovsky, Chintala & Bottou 2017, Wasserstein GAN"
    recipe = Recipe(d_steps=5, optimizer="rmsprop", lr=5e-5)  # Algorithm 1: n_critic=5, alpha=5e-5, RMSProp
    search_space = {
        "clip": ("log", 1e-3, 1e-1)
    }  # what a sweep samples: ganzoo's range, a decade each side of the paper's 0.01

    def __init__(self, *, clip: float = 0.01) -> None:
        self.clip = clip

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return fake.mean() - real.mean()

    def after_d_step(self, discriminators) -> None:
        with torch.no_grad():
            for net in discriminators:
                for p in net.parameters():
                    p.clamp_(-self.clip, self.clip)

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -fake.mean()
