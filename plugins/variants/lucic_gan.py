"""The networks of Lucic et al. 2018 ("Are GANs Created Equal?"): google/compare_gan v1's InfoGAN-style G and D
(after Chen et al. 2016), which the study trained every loss with, on every dataset (``AbstractGAN`` in
``compare_gan/src/gans/abstract_gan.py``), z of 64 from U[-1, 1], batch 64.

For an image of side s (s divisible by 4) and c channels:

- G: z -> linear 1024, BatchNorm, LeakyReLU(0.2) -> linear 128 (s/4)^2, BatchNorm, LeakyReLU -> 4x4 stride-2
  transposed convolution to 64 x s/2 x s/2, BatchNorm, LeakyReLU -> 4x4 stride-2 transposed convolution to
  c x s x s, then sigmoid where the data is read in [0, 1] (compare_gan's images; ``--dataset NAME:unit-range``)
  and tanh where it is read in [-1, 1].
- D: 4x4 stride-2 convolution to 64, LeakyReLU -> 4x4 stride-2 convolution to 128, BatchNorm, LeakyReLU ->
  linear 1024, BatchNorm, LeakyReLU -> linear 1. D's two BatchNorms are the study's ``discriminator_batchnorm``
  switch, ganzoo's ``d_norm`` (``batch`` or ``none``; ``layer`` normalises each sample on its own, for a
  per-sample penalty).

BatchNorm as ``tf.contrib.layers.batch_norm`` there: decay 0.999 (torch momentum 0.001), epsilon 1e-3, scale
1 and shift 0 at the start. Weights: convolutions from a normal of std 0.02 truncated at two std, transposed
convolutions and linear layers from N(0, 0.02), biases 0. TensorFlow's "SAME" padding of these even sizes is
torch's padding 1. Two things stay torch's: the running variance averages the unbiased batch variance (TF's
the biased one, a factor n/(n-1)), and D flattens channels first (TF: channels last; a permutation of the
linear layer's inputs).
"""

from __future__ import annotations

from torch import nn

from ganzoo import DatasetInfo, Divergence, IncompatibleData, Packing
from ganzoo_plugins.variants.noise_gan import NoiseGAN

D_NORMS = ("batch", "layer", "none")
SIDES = (28, 32, 64)  # compare_gan's datasets: MNIST and Fashion-MNIST, CIFAR-10, CelebA
_TF_BN = dict(momentum=0.001, eps=1e-3)  # tf.contrib.layers.batch_norm(decay=0.999, epsilon=0.001)


def generator(z_dim: int, channels: int, side: int, unit_range: bool) -> nn.Sequential:
    q = side // 4
    return nn.Sequential(
        nn.Linear(z_dim, 1024),
        nn.BatchNorm1d(1024, **_TF_BN),
        nn.LeakyReLU(0.2),
        nn.Linear(1024, 128 * q * q),
        nn.BatchNorm1d(128 * q * q, **_TF_BN),
        nn.LeakyReLU(0.2),
        nn.Unflatten(1, (128, q, q)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1),  # -> 64 x s/2 x s/2
        nn.BatchNorm2d(64, **_TF_BN),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(64, channels, 4, 2, 1),  # -> c x s x s
        nn.Sigmoid() if unit_range else nn.Tanh(),
    )


def _norm(kind: str, c: int, conv: bool) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(c, **_TF_BN) if conv else nn.BatchNorm1d(c, **_TF_BN)
    if kind == "layer":
        return nn.GroupNorm(1, c) if conv else nn.LayerNorm(c)
    return nn.Identity()


def discriminator(channels: int, side: int, norm: str) -> list[nn.Module]:
    q = side // 4
    return [
        nn.Conv2d(channels, 64, 4, 2, 1),  # -> 64 x s/2 x s/2
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1),  # -> 128 x s/4 x s/4
        _norm(norm, 128, conv=True),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(128 * q * q, 1024),
        _norm(norm, 1024, conv=False),
        nn.LeakyReLU(0.2),
        nn.Linear(1024, 1),
    ]


def _init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):  # tf.truncated_normal_initializer(stddev=0.02): redrawn beyond two std
        nn.init.trunc_normal_(m.weight, 0.0, 0.02, -0.04, 0.04)
    elif isinstance(m, (nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    else:
        return
    nn.init.zeros_(m.bias)


class LucicGAN(NoiseGAN):
    """compare_gan v1's InfoGAN-style G and D, as Lucic et al. 2018 trained every loss."""

    description = "compare_gan v1's InfoGAN-style G and D (Lucic et al. 2018), z 64 ~ U[-1, 1]; 28, 32, 64 px"
    paper = "Lucic et al. 2018, Are GANs Created Equal? (google/compare_gan v1)"
    default_divergence = "nonsaturating"

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        if not info.is_image:
            raise IncompatibleData(f"lucic-gan needs images, and dataset {name!r} holds {info.describe()}")
        _, h, w = info.shape
        if h != w or h not in SIDES:
            raise IncompatibleData(
                f"lucic-gan is written for the study's 28x28, 32x32 and 64x64 images (MNIST, CIFAR-10, CelebA), got {h}x{w}"
            )

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        z_dim: int = 64,
        lr: float = 1e-4,
        beta1: float = 0.5,
        d_norm: str = "batch",
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.check_data("<given>", info)
        if d_norm not in D_NORMS:
            raise ValueError(f"d_norm must be one of {', '.join(D_NORMS)}, got {d_norm!r}")
        self.z_dim, self.lr, self.beta1, self.d_norm = z_dim, lr, beta1, d_norm
        self.z_dist = "uniform"  # compare_gan's z_generator: U[-1, 1]
        self.packing = Packing()
        channels, side = info.shape[0], info.shape[1]
        self.G = generator(z_dim, channels, side, unit_range=info.value_range == (0.0, 1.0))
        self.D = self.packing.discriminator(discriminator(channels, side, d_norm))
        self.G.apply(_init)
        self.D.apply(_init)

    @property
    def scores_together(self) -> bool:
        return self.d_norm != "batch"
