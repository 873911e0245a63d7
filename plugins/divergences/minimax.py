"""The minimax game and its estimate; the first of the two losses of Goodfellow et al. 2014, "Generative Adversarial Nets".

Both train D the same way, maximising V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))] with
D = sigmoid(score). They differ in G's loss:

- ``minimax`` is the game as written: G minimises E_g[log(1 - D(G(z)))]. It saturates when D wins
  early, which is the paper's own reason to propose the alternative. (Mimicry and StudioGAN call the
  non-saturating loss "minimax"; ganzoo does not.)
- ``nonsaturating``: G maximises E_g[log D(G(z))] instead, same fixed point, stronger early gradients.

At the optimal D, V = -log 4 + 2 JSD(p_data || p_g), so (V + log 4) / 2 estimates the Jensen-Shannon
divergence from below; ``estimate`` reports it in nats.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, check_scores

LOG4 = math.log(4.0)


def minimax_value(real: Tensor, fake: Tensor) -> Tensor:
    """V(D, G) from logits: log sigmoid(r) = -softplus(-r), log(1 - sigmoid(f)) = -softplus(f)."""
    real, fake = check_scores(real, fake)
    return -F.softplus(-real).mean() - F.softplus(fake).mean()


class Minimax(Divergence):
    """Goodfellow's minimax game: D maximises V, G minimises log(1 - D(G(z)))."""

    description = "GAN minimax game; G minimises log(1 - D(G(z)))"
    paper = "Goodfellow et al. 2014"
    estimate_unit = "JSD(P||Q) in nats, lower bound"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return -minimax_value(real, fake)

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -F.softplus(fake).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return (minimax_value(real, fake) + LOG4) / 2
