"""The adversarial step GAN, DCGAN and f-GAN share: G maps the batch's noise to samples, D scores real and
fake batches through the divergence, with PacGAN's packing (:class:`ganzoo.packing.Packing`) where asked.
A subclass builds ``self.G`` and ``self.D`` (D behind ``self.packing.discriminator``) and says whether D may
score the real and the fake batch in one call (no BatchNorm in D)."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo import Batch, Packing, StepOutput, Variant


class NoiseGAN(Variant):
    """G(z) against D(x), from the noise each batch carries."""

    noise_in_batch = True
    real_scores_for_g = True  # relativistic divergences work here
    packing: Packing
    z_dim: int

    @property
    def scores_together(self) -> bool:
        """Whether D scores the real and the fake batch in one call in the simultaneous update (PacGAN's 2-D
        code); a D with BatchNorm must see them apart, as in the alternating update."""
        return True

    def fake(self, z: Tensor) -> Tensor:
        return self.packing.fake(self.G, z)  # type: ignore[attr-defined]

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        return self.adversarial_d(self.D, batch.x, self.fake(batch.z).detach())  # type: ignore[attr-defined]

    def generator_loss(self, batch: Batch) -> StepOutput:
        return StepOutput(losses={"adv": self.adversarial_g(self.D, self.fake(batch.z), batch.x)})  # type: ignore[attr-defined]

    def joint_losses(self, batch: Batch) -> tuple[StepOutput, StepOutput]:
        # one G pass, the fakes carrying G's graph into both losses
        return self.adversarial_joint(self.D, batch.x, self.fake(batch.z), together=self.scores_together)  # type: ignore[attr-defined]

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        return self.fake(self.noise(n, self.z_dim, generator=generator))
