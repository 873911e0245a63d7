"""VAE baseline: Kingma & Welling 2014, "Auto-Encoding Variational Bayes".

Not a GAN: no discriminator and no divergence, trained under the same budget and scored by the same
metrics, so a table shows what adversarial training buys over a likelihood-based model of the same
size. The decoder is GAN's MLP generator; the loss is the negative ELBO with a Gaussian decoder of
fixed standard deviation ``sigma``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganzoo import Batch, DatasetInfo, Divergence, StepOutput, Variant
from ganzoo_plugins.variants.mlp_nets import mlp_generator


class VAE(Variant):
    """MLP variational auto-encoder; samples are decoder(z), z ~ N(0, I)."""

    description = "non-adversarial baseline: MLP VAE, decoder = GAN's generator"
    paper = "Kingma & Welling 2014, Auto-Encoding Variational Bayes"
    adversarial = False
    d_steps = 0

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence | None = None,
        batch_size: int = 64,
        z_dim: int = 16,
        hidden: int = 256,
        lr: float = 1e-3,
        sigma: float = 0.2,
    ) -> None:
        super().__init__(info=info, divergence=None, batch_size=batch_size)
        self.z_dim, self.hidden, self.lr, self.sigma = z_dim, hidden, lr, sigma
        dim = math.prod(info.shape)
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * z_dim)
        )  # -> mu, log var
        self.decoder = mlp_generator(z_dim, hidden, info, batchnorm=False)

    def generators(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder, "decoder": self.decoder}

    def discriminators(self) -> dict[str, nn.Module]:
        return {}

    def optimizers(self) -> tuple[None, torch.optim.Optimizer]:
        return None, torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()], self.lr)

    def generator_loss(self, batch: Batch) -> StepOutput:
        mu, logvar = self.encoder(batch.x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        recon = ((self.decoder(z) - batch.x) ** 2).flatten(1).sum(1).mean() / (2 * self.sigma**2)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()
        return StepOutput(losses={"reconstruction": recon, "kl": kl})

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        return self.decoder(self.noise(n, self.z_dim, generator=generator))
