"""The networks SNGAN standardised (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks"), and the conditional pair of cGAN-PD (Miyato & Koyama 2018, "cGANs with
Projection Discriminator"), as Mimicry trained them for its CIFAR-10 baselines.

- ``cnn``: the standard CNN of the paper's Table 3. G: z (128) -> dense to M_g x M_g x 512 -> three 4x4
  stride-2 transposed convolutions (256, 128, 64; BatchNorm, ReLU) -> 3x3 convolution to RGB, tanh
  (M_g = 4 for 32x32, 6 for 48x48). D: 3x3/4x4 convolutions 64, 64, 128, 128, 256, 256, 512 (the 4x4
  ones stride 2), LeakyReLU(0.1), dense to one score.
- ``resnet``: the ResNet of Table 4 at 32x32 (Mimicry's SNGAN 32). G: dense to 4 x 4 x 256, three
  up-sampling residual blocks of 256, BatchNorm, ReLU, 3x3 convolution to RGB, tanh. D: two down-sampling
  residual blocks of 128 (the first "optimised": convolution before activation, as the code has it), two
  of 128 without down-sampling, ReLU, the sum over positions, dense to one score.

Spectral normalisation is torch's parametrisation (``torch.nn.utils.parametrizations.spectral_norm``): σ
of each weight reshaped to (out channels, everything else), one power iteration per D forward in training
mode with its vectors kept across steps, as Mimicry's SNConv2d counts it. So one D update that scores the
real and the fake batch in two calls runs two iterations, and a gradient-penalty pass is a forward too.
The paper's Algorithm 1 runs one per update; the difference is in how fresh the estimate is, not in what
it converges to.

The conditional pair: G's BatchNorms become class-conditional (affine parameters looked up per class,
initialised at γ = 1, β = 0), and D adds the projection <embed(y), φ(x)> to its linear score, the
embedding spectrally normalised too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

ARCHS = ("resnet", "cnn")
CNN_SIDES = {32: 4, 48: 6}  # image side -> M_g (Table 3: 4 for CIFAR-10, 6 for STL-10 at 48x48)
RESNET_SIDES = (32,)


def _sn(module: nn.Module, on: bool, gain: float = 1.0) -> nn.Module:
    """``module`` with Xavier-uniform weights (Mimicry's init), spectrally normalised where ``on``."""
    nn.init.xavier_uniform_(module.weight, gain)
    return spectral_norm(module) if on else module


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine parameters, then γ_y x + β_y looked up for each sample's class."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.channels = channels
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.embed = nn.Embedding(num_classes, 2 * channels)
        with torch.no_grad():
            self.embed.weight[:, :channels].normal_(1.0, 0.02)
            self.embed.weight[:, channels:].zero_()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        gamma, beta = self.embed(y).chunk(2, dim=1)
        return gamma[:, :, None, None] * self.bn(x) + beta[:, :, None, None]


class _Norm(nn.Module):
    """A BatchNorm that ignores the class, or a class-conditional one, behind one call signature."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = ConditionalBatchNorm2d(channels, num_classes) if num_classes else nn.BatchNorm2d(channels)

    def forward(self, x: Tensor, y: Tensor | None) -> Tensor:
        return self.norm(x, y) if isinstance(self.norm, ConditionalBatchNorm2d) else self.norm(x)


class GBlock(nn.Module):
    """BN, ReLU, 2x up-sampling, 3x3 conv, BN, ReLU, 3x3 conv; shortcut: up-sampling, 1x1 conv. Up-sampling is
    bilinear, as Mimicry's (the Chainer SNGAN code unpools, i.e. nearest)."""

    def __init__(self, c_in: int, c_out: int, num_classes: int = 0) -> None:
        super().__init__()
        self.b1, self.b2 = _Norm(c_in, num_classes), _Norm(c_out, num_classes)
        self.c1, self.c2 = nn.Conv2d(c_in, c_out, 3, 1, 1), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.c_sc = nn.Conv2d(c_in, c_out, 1, 1, 0)
        for conv in (self.c1, self.c2):
            nn.init.xavier_uniform_(conv.weight, math.sqrt(2))
        nn.init.xavier_uniform_(self.c_sc.weight, 1.0)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.c2(F.relu(self.b2(self.c1(_up(F.relu(self.b1(x, y)))), y)))
        return h + self.c_sc(_up(x))


def _up(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class DBlock(nn.Module):
    """ReLU, 3x3 conv, ReLU, 3x3 conv, 2x2 average pooling (``down``); shortcut: 1x1 conv and pooling where the
    block changes the shape. ``first``: the optimised first block (no ReLU before the first convolution, and the
    shortcut pools before its convolution), as the SNGAN code builds it."""

    def __init__(self, c_in: int, c_out: int, *, down: bool, first: bool = False, sn: bool = True) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.c1 = _sn(nn.Conv2d(c_in, c_out, 3, 1, 1), sn, math.sqrt(2))
        self.c2 = _sn(nn.Conv2d(c_out, c_out, 3, 1, 1), sn, math.sqrt(2))
        self.c_sc = _sn(nn.Conv2d(c_in, c_out, 1, 1, 0), sn) if (down or c_in != c_out) else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.c2(F.relu(self.c1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.c_sc is None:
            return h + x
        if self.first:
            return h + self.c_sc(F.avg_pool2d(x, 2))
        sc = self.c_sc(x)
        return h + (F.avg_pool2d(sc, 2) if self.down else sc)


class ResNetGenerator(nn.Module):
    """Table 4's G at 32x32: z -> 4x4x``ngf`` -> 3 up-sampling blocks -> BN, ReLU, conv to RGB, tanh."""

    def __init__(self, z_dim: int = 128, ngf: int = 256, channels: int = 3, num_classes: int = 0) -> None:
        super().__init__()
        self.ngf, self.bottom = ngf, 4
        self.l1 = nn.Linear(z_dim, self.bottom**2 * ngf)
        self.blocks = nn.ModuleList([GBlock(ngf, ngf, num_classes) for _ in range(3)])
        self.b_out = nn.BatchNorm2d(ngf)
        self.c_out = nn.Conv2d(ngf, channels, 3, 1, 1)
        nn.init.xavier_uniform_(self.l1.weight, 1.0)
        nn.init.xavier_uniform_(self.c_out.weight, 1.0)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.l1(z).view(len(z), self.ngf, self.bottom, self.bottom)
        for block in self.blocks:
            h = block(h, y)
        return torch.tanh(self.c_out(F.relu(self.b_out(h))))


class ResNetDiscriminator(nn.Module):
    """Table 4's D at 32x32: 2 down-sampling blocks and 2 plain ones of ``ndf``, ReLU, sum over positions, a linear
    score; with ``num_classes``, plus the projection <embed(y), φ(x)> (cGAN-PD)."""

    def __init__(self, ndf: int = 128, channels: int = 3, *, sn: bool = True, num_classes: int = 0) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            DBlock(channels, ndf, down=True, first=True, sn=sn),
            DBlock(ndf, ndf, down=True, sn=sn),
            DBlock(ndf, ndf, down=False, sn=sn),
            DBlock(ndf, ndf, down=False, sn=sn),
        )
        self.l_out = _sn(nn.Linear(ndf, 1), sn)
        self.l_y = _sn(nn.Embedding(num_classes, ndf), sn) if num_classes else None

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        out = self.l_out(h)
        if self.l_y is not None:
            out = out + (self.l_y(y) * h).sum(dim=1, keepdim=True)
        return out


class CNNGenerator(nn.Module):
    """Table 3(a): z -> dense to M_g x M_g x 512 -> deconv 256, 128, 64 (4x4 stride 2, BN, ReLU) -> 3x3 conv, tanh."""

    def __init__(self, z_dim: int = 128, side: int = 32, channels: int = 3) -> None:
        super().__init__()
        self.m = CNN_SIDES[side]
        self.l1 = nn.Linear(z_dim, self.m**2 * 512)
        layers: list[nn.Module] = []
        for c_in, c_out in ((512, 256), (256, 128), (128, 64)):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        self.body = nn.Sequential(*layers, nn.Conv2d(64, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.body(self.l1(z).view(len(z), 512, self.m, self.m))


class CNNDiscriminator(nn.Module):
    """Table 3(b): convolutions 3x3 64, 4x4/2 64, 3x3 128, 4x4/2 128, 3x3 256, 4x4/2 256, 3x3 512, LeakyReLU(0.1)
    after each, a dense score."""

    WIDTHS = ((3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256), (3, 1, 512))

    def __init__(self, side: int = 32, channels: int = 3, *, sn: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for k, stride, c_out in self.WIDTHS:
            layers += [_sn(nn.Conv2d(c_in, c_out, k, stride, 1), sn), nn.LeakyReLU(0.1, True)]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.l_out = _sn(nn.Linear(512 * (side // 8) ** 2, 1), sn)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.l_out(self.body(x))


def supported_sides(arch: str) -> tuple[int, ...]:
    return tuple(CNN_SIDES) if arch == "cnn" else RESNET_SIDES


def build(
    arch: str, side: int, channels: int, *, z_dim: int, ngf: int, ndf: int, sn: bool, num_classes: int = 0
) -> tuple[nn.Module, nn.Module]:
    """(G, D) of ``arch`` for ``side``-pixel images; ``num_classes`` > 0 builds cGAN-PD's conditional pair."""
    if arch == "cnn":
        if num_classes:
            raise ValueError("the projection discriminator is built on the ResNet (arch=resnet), as cGAN-PD's")
        return CNNGenerator(z_dim, side, channels), CNNDiscriminator(side, channels, sn=sn)
    return (
        ResNetGenerator(z_dim, ngf, channels, num_classes),
        ResNetDiscriminator(ndf, channels, sn=sn, num_classes=num_classes),
    )
