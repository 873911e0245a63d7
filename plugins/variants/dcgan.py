"""DCGAN: Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks".

The paper's recipe: strided (transposed) convolutions instead of pooling, BatchNorm in both players
except G's output and D's input layer, ReLU in G with Tanh output, LeakyReLU(0.2) in D, weights from
N(0, 0.02), Adam(2e-4, beta1=0.5). The paper's 64x64 stack is adapted to the dataset: G starts from a
4x4 (or 7x7, for 28x28 MNIST) map and doubles it until the image size; D mirrors it.

``d_norm`` switches D's normalisation: ``batch`` (the paper), ``layer`` (per-sample, over channels and
positions; what WGAN-GP's recipe selects, since its penalty needs a critic that scores each sample on
its own) or ``none``. ``d_layers`` > 0 builds D as that many 5x5 stride-2 convolutions (ndf, 2 ndf, ...)
and a linear score instead, the D of the DCGAN code PacGAN and VEEGAN ran on Stacked MNIST (4 layers,
64-512 channels); ``pack`` > 1 makes it PacDCGAN (D judges that many images at once). ``g_layers`` > 0
builds G the same way, as DCGAN-tensorflow's G that PacGAN ran on Stacked MNIST: a linear layer to an
(8 ngf) x s x s map (s: the image side halved ``g_layers`` times, rounded up; 2 for 28 and 4 layers),
then ``g_layers`` 5x5 stride-2 transposed convolutions halving the channels (256, 128, 64) to the
image, BatchNorm and ReLU, tanh (about 4.5M parameters for Stacked MNIST, against 0.76M for the 7x7
stack). ``g_per_noise_batch`` and ``g_bn_momentum`` are GAN's (G once per noise batch under packing).
"""

from __future__ import annotations

import math

from torch import nn

from ganzoo import DatasetInfo, Divergence, IncompatibleData, Packing, SplitBatchNorm
from ganzoo_plugins.variants.noise_gan import NoiseGAN


def _layout(size: int) -> tuple[int, int] | None:
    """(base map size, number of doublings) for an image side, or None if the side does not fit."""
    for base in (4, 7):
        n = size // base
        if size % base == 0 and n >= 2 and n & (n - 1) == 0:
            return base, int(math.log2(n))
    return None


def _generator(z_dim: int, ngf: int, channels: int, base: int, doublings: int, momentum: float = 0.1) -> nn.Sequential:
    c = ngf * 2 ** (doublings - 1)
    layers: list[nn.Module] = [
        nn.Unflatten(1, (z_dim, 1, 1)),  # -> z_dim x 1 x 1
        nn.ConvTranspose2d(z_dim, c, base, 1, 0, bias=False),
        SplitBatchNorm(c, momentum=momentum),
        nn.ReLU(True),  # -> c x base x base
    ]
    for _ in range(doublings - 1):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
            SplitBatchNorm(c // 2, momentum=momentum),
            nn.ReLU(True),
        ]  # -> c/2 x 2s x 2s
        c //= 2
    layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]  # -> channels x size x size
    return nn.Sequential(*layers)


D_NORMS = ("batch", "layer", "none")


def _norm(kind: str, c: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(c)
    if kind == "layer":
        return nn.GroupNorm(1, c)  # one group: each sample normalised over all its channels and positions
    return nn.Identity()


def _discriminator(ndf: int, channels: int, base: int, doublings: int, norm: str = "batch") -> nn.Sequential:
    c = ndf
    layers: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]  # -> ndf x size/2
    for _ in range(doublings - 1):
        layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), _norm(norm, c * 2), nn.LeakyReLU(0.2, True)]  # -> 2c x s/2
        c *= 2
    layers += [nn.Conv2d(c, 1, base, 1, 0, bias=False), nn.Flatten()]  # -> one score
    return nn.Sequential(*layers)


def _strided_generator(
    z_dim: int, ngf: int, channels: int, size: int, layers: int, momentum: float = 0.1
) -> nn.Sequential:
    """A linear map to (ngf 2^(layers-1)) x s x s, then ``layers`` 5x5 stride-2 transposed convolutions
    (each doubling the side, one pixel less where the image side is odd there: 2, 4, 7, 14, 28), with
    BatchNorm and ReLU between, tanh out (the DCGAN-tensorflow G)."""
    sides = [size]
    for _ in range(layers):
        sides.append((sides[-1] + 1) // 2)
    sides.reverse()  # smallest first: 2, 4, 7, 14, 28
    c = ngf * 2 ** (layers - 1)
    body: list[nn.Module] = [
        nn.Linear(z_dim, c * sides[0] ** 2),
        nn.Unflatten(1, (c, sides[0], sides[0])),
        SplitBatchNorm(c, momentum=momentum),
        nn.ReLU(True),
    ]  # -> c x s x s
    for i in range(layers):
        last = i == layers - 1
        c_out = channels if last else c // 2
        pad_out = sides[i + 1] - 2 * sides[i] + 1  # 1 where the side doubles exactly, 0 for 4 -> 7
        body.append(nn.ConvTranspose2d(c, c_out, 5, 2, 2, output_padding=pad_out))  # -> c_out x next side
        body += [nn.Tanh()] if last else [SplitBatchNorm(c_out, momentum=momentum), nn.ReLU(True)]
        c = c_out
    return nn.Sequential(*body)


def _strided_discriminator(ndf: int, channels: int, size: int, layers: int, norm: str = "batch") -> nn.Sequential:
    """``layers`` 5x5 stride-2 convolutions, ndf doubling each time, BatchNorm from the second, then a
    linear score (the DCGAN-tensorflow D)."""
    c_in, c, s = channels, ndf, size
    body: list[nn.Module] = []
    for i in range(layers):
        body += [
            nn.Conv2d(c_in, c, 5, 2, 2),
            _norm(norm, c) if i else nn.Identity(),
            nn.LeakyReLU(0.2, True),
        ]  # -> c x ceil(s/2)
        c_in, c, s = c, c * 2, (s + 1) // 2
    return nn.Sequential(*body, nn.Flatten(), nn.Linear(c_in * s * s, 1))  # -> one score


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.Linear):  # DCGAN-tensorflow's linear layers: N(0, 0.02), zero bias
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DCGAN(NoiseGAN):
    """Convolutional G and D with BatchNorm (Radford et al. 2016)."""

    description = "conv G and D with BatchNorm, adapted to 8/16/28/32/64-pixel images"
    paper = "Radford et al. 2016, Unsupervised Representation Learning with DCGANs"
    default_divergence = "nonsaturating"

    @classmethod
    def check_data(cls, name: str, info: DatasetInfo) -> None:
        super().check_data(name, info)
        if not info.is_image:
            raise IncompatibleData(f"DCGAN needs images, and dataset {name!r} holds {info.describe()}")
        _, h, w = info.shape
        if h != w or _layout(h) is None:
            raise IncompatibleData(
                f"DCGAN needs square images whose side is 4 or 7 times a power of 2 (8, 16, 28, 32, 64, ...), got {h}x{w}"
            )

    def __init__(
        self,
        *,
        info: DatasetInfo,
        divergence: Divergence,
        batch_size: int = 64,
        z_dim: int = 100,
        ngf: int = 64,
        ndf: int = 64,
        lr: float = 2e-4,
        beta1: float = 0.5,
        d_norm: str = "batch",
        d_layers: int = 0,
        pack: int = 1,
        g_layers: int = 0,
        g_per_noise_batch: bool = False,
        g_bn_momentum: float = 0.1,
    ) -> None:
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.check_data("<given>", info)
        if d_norm not in D_NORMS:
            raise ValueError(f"d_norm must be one of {', '.join(D_NORMS)}, got {d_norm!r}")
        if d_layers < 0:
            raise ValueError(f"d_layers must be 0 (D mirrors G) or a number of conv layers, got {d_layers}")
        if g_layers < 0:
            raise ValueError(
                f"g_layers must be 0 (the 4x4/7x7 stack) or a number of transposed conv layers, got {g_layers}"
            )
        self.z_dim, self.ngf, self.ndf, self.lr, self.beta1, self.d_norm = z_dim, ngf, ndf, lr, beta1, d_norm
        self.d_layers, self.pack, self.g_layers = d_layers, pack, g_layers
        self.g_per_noise_batch, self.g_bn_momentum = g_per_noise_batch, g_bn_momentum
        self.packing = Packing(pack, g_per_noise_batch)
        base, doublings = _layout(info.shape[1])  # type: ignore[misc]
        G = (
            _strided_generator(z_dim, ngf, info.shape[0], info.shape[1], g_layers, g_bn_momentum)
            if g_layers
            else _generator(z_dim, ngf, info.shape[0], base, doublings, g_bn_momentum)
        )
        self.G = self.packing.generator(G)
        channels = info.shape[0] * pack
        D = (
            _strided_discriminator(ndf, channels, info.shape[1], d_layers, d_norm)
            if d_layers
            else _discriminator(ndf, channels, base, doublings, d_norm)
        )
        self.D = self.packing.discriminator(list(D))
        self.G.apply(_init_weights)
        self.D.apply(_init_weights)

    @property
    def scores_together(self) -> bool:
        return self.d_norm != "batch"
