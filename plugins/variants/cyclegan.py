"""CycleGAN: Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks".

Two generators (A->B, B->A) and two PatchGAN discriminators, trained on unpaired batches of the two
domains. G's loss: fool both Ds, plus lambda * L1 cycle consistency (A -> B -> A and B -> A -> B), plus
0.5 * lambda * L1 identity (a B image given to G_AB should come back unchanged). D sees generated images
from a buffer of the last 50 (Shrivastava et al. 2017), which damps oscillation. Least squares by
default, Adam(2e-4, beta1=0.5), lambda=10, as in the paper. Adapted: batch 32 instead of 1 (CPU
budgets), no learning-rate decay (a budget, not 200 epochs), networks sized to the image (see
``translation_nets``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import Batch, BatchSampler, DataKind, DatasetInfo, Divergence, StepOutput, Variant
from ganzoo_plugins.divergences.least_squares import LeastSquares
from ganzoo_plugins.variants.translation_nets import (
    check_image_side,
    init_weights,
    patch_discriminator,
    resnet_generator,
)


class ImageBuffer:
    """A pool of past fakes: while filling, images pass through and are kept; once full, each image is,
    with probability 1/2, swapped for a random stored one (which it replaces). Images are handled one
    after another, as in the paper's code: a vectorised scatter with repeated slots would let the
    thread schedule decide which image a slot keeps, and break same-seed reproducibility."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: Tensor | None = None

    def __call__(self, x: Tensor) -> Tensor:
        x = x.detach()
        if self.size == 0:
            return x
        stored = 0 if self.images is None else len(self.images)
        take = min(self.size - stored, len(x))
        if take:
            self.images = x[:take].clone() if self.images is None else torch.cat([self.images, x[:take]])
        out = x.clone()
        n = len(x) - take
        swap, slots = (
            (torch.rand(n) < 0.5).tolist(),
            torch.randint(self.size, (n,)).tolist(),
        )  # CPU RNG: same draws on any device
        for i, (flip, slot) in enumerate(zip(swap, slots), start=take):
            if flip:
                out[i] = self.images[slot]
                self.images[slot] = x[i]
        return out


class CycleGAN(Variant):
    """Unpaired translation between two domains with cycle consistency (Zhu et al. 2017)."""

    description = "two ResNet generators, two PatchGAN Ds, cycle + identity L1, image buffer; unpaired A<->B"
    paper = "Zhu et al. 2017, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks"
    default_divergence = "least-squares"
    data_kinds = frozenset({DataKind.DOMAINS})
    translates = True

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        check_image_side("CycleGAN", info)

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 32,
        domain_a: int = 0,
        domain_b: int = 1,
        ngf: int = 32,
        ndf: int = 32,
        lr: float = 2e-4,
        beta1: float = 0.5,
        cycle_weight: float = 10.0,
        identity_weight: float = 0.0,
        buffer_size: int = 50,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.check_data("<given>", info)
        k = len(info.domains)
        if not (0 <= domain_a < k and 0 <= domain_b < k and domain_a != domain_b):
            raise ValueError(
                f"domain_a and domain_b must be two different domains in 0..{k - 1} ({', '.join(info.domains)}), got {domain_a}, {domain_b}"
            )
        self.domain_a, self.domain_b = domain_a, domain_b
        self.ngf, self.ndf, self.lr, self.beta1 = ngf, ndf, lr, beta1
        self.cycle_weight, self.identity_weight, self.buffer_size = cycle_weight, identity_weight, buffer_size
        c, side = info.shape[0], info.shape[1]
        self.G_AB, self.G_BA = (resnet_generator(c, c, side, ngf=ngf) for _ in range(2))
        self.D_A, self.D_B = (patch_discriminator(c, side, ndf=ndf) for _ in range(2))
        for net in (self.G_AB, self.G_BA, self.D_A, self.D_B):
            net.apply(init_weights)
        self._buffer_a, self._buffer_b = ImageBuffer(buffer_size), ImageBuffer(buffer_size)

    def generators(self) -> dict[str, nn.Module]:
        return {"G_AB": self.G_AB, "G_BA": self.G_BA}

    def training_state(self) -> dict:
        return {**super().training_state(), "buffers": {"a": self._buffer_a.images, "b": self._buffer_b.images}}

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        on_device = lambda t: None if t is None else t.to(self.device)  # noqa: E731 (checkpoints load on the CPU)
        self._buffer_a.images, self._buffer_b.images = (
            on_device(state["buffers"]["a"]),
            on_device(state["buffers"]["b"]),
        )

    def discriminators(self) -> dict[str, nn.Module]:
        return {"D_A": self.D_A, "D_B": self.D_B}

    def next_batch(self, sampler: BatchSampler) -> Batch:
        a = sampler.sample(self.batch_size, label=self.domain_a)
        b = sampler.sample(self.batch_size, label=self.domain_b)
        return Batch(x=b.x, y=b.y, source=a.x, source_y=a.y)

    @staticmethod
    def _patches(d: nn.Module):
        return lambda x: d(x).flatten()  # every patch score is one sample of the divergence

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        real_a, real_b = batch.source, batch.x
        with torch.no_grad():
            fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        out_a = self.adversarial_d(self._patches(self.D_A), real_a, self._buffer_a(fake_a))
        out_b = self.adversarial_d(self._patches(self.D_B), real_b, self._buffer_b(fake_b))
        losses = {f"{k}_A": v for k, v in out_a.losses.items()} | {f"{k}_B": v for k, v in out_b.losses.items()}
        stats = {k: (out_a.stats[k] + out_b.stats[k]) / 2 for k in out_a.stats}
        return StepOutput(losses=losses, stats=stats)

    def _adv_g(self, scores: Tensor) -> Tensor:
        """G's adversarial term. LSGAN halves G's loss (Mao et al. 2017, eq. 2); CycleGAN halves only D's
        and gives G the plain mean squared error against 1 (Zhu et al. 2017, section 4 and their
        reference code), so with least squares G's term is doubled back: with the half, lambda=10 would
        weigh like 20."""
        loss = self.divergence.g_loss(scores)
        return 2 * loss if isinstance(self.divergence, LeastSquares) else loss

    def generator_loss(self, batch: Batch) -> StepOutput:
        real_a, real_b = batch.source, batch.x
        fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        losses = {
            "adv_AB": self._adv_g(self._patches(self.D_B)(fake_b)),
            "adv_BA": self._adv_g(self._patches(self.D_A)(fake_a)),
            "cycle": self.cycle_weight * (F.l1_loss(self.G_BA(fake_b), real_a) + F.l1_loss(self.G_AB(fake_a), real_b)),
        }
        if self.identity_weight > 0:
            same = F.l1_loss(self.G_AB(real_b), real_b) + F.l1_loss(self.G_BA(real_a), real_a)
            losses["identity"] = self.identity_weight * self.cycle_weight * same
        return StepOutput(losses=losses)

    def translation_pairs(self) -> list[tuple[int, int]]:
        return [(self.domain_a, self.domain_b), (self.domain_b, self.domain_a)]

    @torch.no_grad()
    def translate(self, x: Tensor, *, source: int, target: int) -> Tensor:
        if (source, target) == (self.domain_a, self.domain_b):
            return self.G_AB(x.to(self.device))
        if (source, target) == (self.domain_b, self.domain_a):
            return self.G_BA(x.to(self.device))
        raise ValueError(
            f"this CycleGAN translates between domains {self.domain_a} and {self.domain_b}, not {source} -> {target}"
        )
