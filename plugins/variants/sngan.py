"""SNGAN (Miyato et al. 2018) and cGAN-PD (Miyato & Koyama 2018) with the networks and recipe Mimicry trained
its CIFAR-10 baselines with: the ResNet of SNGAN's Table 4 (or the standard CNN of Table 3, ``arch=cnn``),
spectral normalisation in D, the hinge loss, Adam(2e-4, (0, 0.9)), 5 D updates per G update, batch 64, the
learning rate decayed linearly to 0 over the budget. ``spectral_norm=false`` gives the same networks without
it (Mimicry's WGAN-GP row: the ResNet under WGAN-GP's penalty). The networks: :mod:`sngan_nets`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo import Batch, DataKind, DatasetInfo, Divergence, IncompatibleData, Packing, StepOutput
from ganzoo_plugins.variants.noise_gan import NoiseGAN
from ganzoo_plugins.variants.sngan_nets import ARCHS, CNN_SIDES, RESNET_SIDES, build, supported_sides

_SIDES = sorted({*CNN_SIDES, *RESNET_SIDES})


class SNGAN(NoiseGAN):
    """SNGAN's ResNet or standard CNN with spectral normalisation in D (Miyato et al. 2018)."""

    description = "SNGAN's ResNet/CNN, spectral norm in D, hinge loss, 5 D steps, linear lr decay (32x32; cnn also 48)"
    paper = "Miyato et al. 2018, Spectral Normalization for Generative Adversarial Networks"
    default_divergence = "hinge"
    d_steps = 5
    lr_decay = "linear"

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        if not info.is_image:
            raise IncompatibleData(f"{cls.__name__} needs images, and dataset {name!r} holds {info.describe()}")
        _, h, w = info.shape
        if h != w or h not in _SIDES:
            raise IncompatibleData(
                f"{cls.__name__}'s networks are written for 32x32 images (the ResNet and the CNN; the CNN also 48x48), "
                f"got {h}x{w}"
            )

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        arch: str = "resnet",
        z_dim: int = 128,
        ngf: int = 256,
        ndf: int = 128,
        spectral_norm: bool = True,
        lr: float = 2e-4,
        beta1: float = 0.0,
        beta2: float = 0.9,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.check_data("<given>", info)
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
        side = info.shape[1]
        if side not in supported_sides(arch):
            raise ValueError(
                f"arch={arch} is written for {' and '.join(f'{s}x{s}' for s in supported_sides(arch))} images, got "
                f"{side}x{side}" + ("; arch=cnn also takes 48x48" if arch == "resnet" and side in CNN_SIDES else "")
            )
        self.arch, self.z_dim, self.ngf, self.ndf, self.spectral_norm = arch, z_dim, ngf, ndf, spectral_norm
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.packing = Packing(1, False)
        self.G, self.D = build(
            arch,
            side,
            info.shape[0],
            z_dim=z_dim,
            ngf=ngf,
            ndf=ndf,
            sn=spectral_norm,
            num_classes=info.num_classes if self.conditional else 0,  # cGAN-PD's conditional pair
        )
        self.num_classes = info.num_classes


class CGANPD(SNGAN):
    """cGAN-PD: class-conditional BatchNorm in G, a projection discriminator (Miyato & Koyama 2018)."""

    description = "SNGAN's ResNet with class-conditional BatchNorm in G and a projection D (32x32), hinge loss"
    paper = "Miyato & Koyama 2018, cGANs with Projection Discriminator"
    data_kinds = frozenset({DataKind.LABELLED})
    conditional = True

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        if info.num_classes < 2:
            raise IncompatibleData(
                f"cGAN-PD needs class labels, and dataset {name!r} declares {info.num_classes} classes"
            )

    def _critic(self, y: Tensor):
        return lambda x: self.D(x, y)

    def _fake(self, z: Tensor, y: Tensor) -> Tensor:
        return self.G(z, y)

    def discriminator_loss(self, batch: Batch) -> StepOutput:
        fake = self._fake(batch.z, batch.y).detach()  # fakes of the real batch's classes
        return self.adversarial_d(self._critic(batch.y), batch.x, fake)

    def generator_loss(self, batch: Batch) -> StepOutput:
        return StepOutput(
            losses={"adv": self.adversarial_g(self._critic(batch.y), self._fake(batch.z, batch.y), batch.x)}
        )

    def joint_losses(self, batch: Batch) -> tuple[StepOutput, StepOutput]:
        # the critic is bound to one batch of labels: it scores the real and the fake batch in two calls
        return self.adversarial_joint(self._critic(batch.y), batch.x, self._fake(batch.z, batch.y), together=False)

    @torch.no_grad()
    def generate(self, n: int, *, generator: torch.Generator | None = None, y: Tensor | None = None) -> Tensor:
        if y is None:
            y = torch.arange(n, device=self.device) % self.num_classes
        return self._fake(self.noise(len(y), self.z_dim, generator=generator), y.to(self.device))
