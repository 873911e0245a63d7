"""CGAN: Mirza & Osindero 2014, "Conditional Generative Adversarial Nets".

GAN's MLPs with the class label, one-hot, concatenated to G's noise and to D's input: D judges
(sample, label) pairs, so G must produce the class it is asked for; with ``pack`` > 1, D judges that many
pairs at once (PacGAN's packing). Generated samples are evaluated
for conditional accuracy (the dataset classifier's verdict against the requested class).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import Batch, DataKind, DatasetInfo, Divergence, IncompatibleData, StepOutput, Variant, pack_samples
from ganzoo_plugins.variants.mlp_nets import mlp_discriminator, mlp_generator


class CGAN(Variant):
    """Class-conditional MLP GAN (Mirza & Osindero 2014)."""

    description = "class-conditional MLP G and D; reports conditional accuracy"
    paper = "Mirza & Osindero 2014, Conditional Generative Adversarial Nets"
    real_scores_for_g = True  # relativistic divergences work here
    default_divergence = "nonsaturating"
    data_kinds = frozenset({DataKind.LABELLED})
    conditional = True
    noise_in_batch = True

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        if info.num_classes < 2:
            raise IncompatibleData(f"CGAN needs class labels, and dataset {name!r} declares {info.num_classes} classes")

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        z_dim: int = 64,
        hidden: int = 256,
        lr: float = 2e-4,
        beta1: float = 0.5,
        dropout: float = 0.5,
        pack: int = 1,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be a positive integer, got {pack!r}")
        self.pack = pack
        self.z_dim, self.hidden, self.lr, self.beta1, self.num_classes = z_dim, hidden, lr, beta1, info.num_classes
        self.dropout = dropout  # the paper's D used dropout 0.5; without it D wins and G collapses on digits
        self.G = mlp_generator(z_dim + info.num_classes, hidden, info)
        self.D = mlp_discriminator(hidden, info, extra=info.num_classes, dropout=dropout, pack=pack)

    def _onehot(self, y: Tensor) -> Tensor:
        return F.one_hot(y, self.num_classes).float()

    def _critic(self, y: Tensor):
        return lambda x: self.D(pack_samples(torch.cat([x.flatten(1), self._onehot(y)], dim=1), self.pack))

    def _fake(self, z: Tensor, y: Tensor) -> Tensor:
        return self.G(torch.cat([z, self._onehot(y)], dim=1))

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        fake = self._fake(batch.z, batch.y).detach()  # fakes carry the same labels as the real batch
        return self.adversarial_d(self._critic(batch.y), batch.x, fake)

    def generator_loss(self, batch: Batch) -> StepOutput:
        return StepOutput(
            losses={"adv": self.adversarial_g(self._critic(batch.y), self._fake(batch.z, batch.y), batch.x)}
        )

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        if y is None:
            y = torch.arange(n, device=self.device) % self.num_classes
        return self._fake(self.noise(len(y), self.z_dim, generator=generator), y.to(self.device))
