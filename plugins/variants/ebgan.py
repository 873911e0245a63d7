"""EBGAN: Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network".

D is an auto-encoder and its score is the energy E(x) = mean squared reconstruction error; the
``energy-margin`` divergence gives D's margin loss E(x) + max(0, m - E(G(z))) and G's loss E(G(z)).
G also pays the pulling-away term (PT) on D's codes of a generated batch, which pushes samples apart
(switch with ``pull_away``, weight 0.1 as in the paper).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganzoo import Batch, DatasetInfo, Divergence, StepOutput, Variant
from ganzoo_plugins.variants.mlp_nets import mlp_generator


class AutoEncoder(nn.Module):
    def __init__(self, dim: int, hidden: int, code: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, code)
        )  # -> code
        self.decoder = nn.Sequential(
            nn.Linear(code, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, dim)
        )  # -> flattened sample

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(energy per sample, code)."""
        code = self.encoder(x)
        return ((self.decoder(code) - x.flatten(1)) ** 2).mean(dim=1), code


def pulling_away(code: Tensor) -> Tensor:
    """PT = mean over pairs i != j of cos(s_i, s_j)^2."""
    s = nn.functional.normalize(code, dim=1)
    n = len(s)
    return ((s @ s.T) ** 2).sum().sub(n).div(n * (n - 1))


class EBGAN(Variant):
    """Auto-encoder discriminator whose reconstruction error is the energy (Zhao et al. 2017)."""

    description = "auto-encoder D (energy = reconstruction error), margin loss, pulling-away term"
    paper = "Zhao, Mathieu & LeCun 2017, Energy-based Generative Adversarial Network"
    default_divergence = "energy-margin"
    noise_in_batch = True

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        z_dim: int = 64,
        hidden: int = 256,
        code: int = 32,
        lr: float = 2e-4,
        beta1: float = 0.5,
        pull_away: bool = True,
        pt_weight: float = 0.1,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.z_dim, self.hidden, self.code, self.lr, self.beta1 = z_dim, hidden, code, lr, beta1
        self.pull_away, self.pt_weight = pull_away, pt_weight
        self.G = mlp_generator(z_dim, hidden, info)
        self.D = AutoEncoder(math.prod(info.shape), hidden, code)

    def _energy(self, x: Tensor) -> Tensor:
        return self.D(x)[0]

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        fake = self.G(batch.z).detach()
        return self.adversarial_d(self._energy, batch.x, fake)

    def generator_loss(self, batch: Batch) -> StepOutput:
        energy, code = self.D(self.G(batch.z))
        out = StepOutput(losses={"adv": self.divergence.g_loss(energy)})
        if self.pull_away:
            out.losses["pullaway"] = self.pt_weight * pulling_away(code)
        return out

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        return self.G(self.noise(n, self.z_dim, generator=generator))
