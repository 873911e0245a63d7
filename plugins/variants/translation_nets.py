"""The image-to-image networks CycleGAN and StarGAN share, adapted from 256/128-pixel photos to
8-, 28- and 64-pixel images.

- :func:`resnet_generator`: Johnson et al. 2016 as CycleGAN uses it: a wide first convolution, strided
  downsampling, residual blocks, transposed-convolution upsampling, Tanh; InstanceNorm throughout.
  Small images get fewer downsamplings (8 px: one) and blocks (3 below 28 px, else 6).
- :func:`patch_trunk`: the PatchGAN body (Isola et al. 2017): strided 4x4 convolutions that score
  overlapping patches rather than the whole image. 8-px images get a 2x2 patch map, 28 px 5x5.
"""

from __future__ import annotations

from torch import Tensor, nn

from ganzoo import DatasetInfo, IncompatibleData


def downsamplings(side: int) -> int:
    return 1 if side < 16 else 2


def fits(side: int) -> bool:
    """Whether a square image side works with both networks (divisible by the downsampling)."""
    return side >= 8 and side % (2 ** downsamplings(side)) == 0


def check_image_side(variant: str, info: DatasetInfo) -> None:
    """Refuse data both networks cannot take, naming the variant and what fits."""
    if not info.is_image or info.shape[1] != info.shape[2] or not fits(info.shape[1]):
        raise IncompatibleData(
            f"{variant} needs square images of an even side from 8 to 14, or a multiple of 4 from 16, got {info.describe()}"
        )


def _norm(channels: int, side: int) -> nn.Module:
    # InstanceNorm over a 2x2 map normalises 4 values: the statistics are noise, so tiny maps go without
    return nn.InstanceNorm2d(channels) if side >= 4 else nn.Identity()


def _padded_conv(c_in: int, c_out: int, k: int, padding: str) -> list[nn.Module]:
    if padding == "reflect":
        return [nn.ReflectionPad2d(k // 2), nn.Conv2d(c_in, c_out, k)]
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2)]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, side: int, padding: str = "reflect") -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_padded_conv(channels, channels, 3, padding),
            _norm(channels, side),
            nn.ReLU(True),
            *_padded_conv(channels, channels, 3, padding),
            _norm(channels, side),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def resnet_generator(
    in_channels: int,
    out_channels: int,
    side: int,
    *,
    ngf: int = 32,
    blocks: int | None = None,
    padding: str = "reflect",
) -> nn.Sequential:
    """(N, in_channels, side, side) -> (N, out_channels, side, side) in [-1, 1].

    ``padding="zeros"`` is StarGAN's choice and matters there: its target code is constant over the
    image, so the first InstanceNorm subtracts it away everywhere except where zero padding makes the
    border differ (with reflection padding G would never learn which domain it is asked for)."""
    k = 7 if side >= 28 else 3  # the paper's 7x7 would see all of an 8x8 digit at once
    down = downsamplings(side)
    blocks = blocks if blocks is not None else (3 if side < 28 else 6)
    layers: list[nn.Module] = [
        *_padded_conv(in_channels, ngf, k, padding),
        _norm(ngf, side),
        nn.ReLU(True),
    ]  # -> ngf x s x s
    c, s = ngf, side
    for _ in range(down):
        layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), _norm(2 * c, s // 2), nn.ReLU(True)]  # -> 2c x s/2 x s/2
        c, s = 2 * c, s // 2
    layers += [ResidualBlock(c, s, padding) for _ in range(blocks)]  # -> c x s x s
    for _ in range(down):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1),
            _norm(c // 2, 2 * s),
            nn.ReLU(True),
        ]  # -> c/2 x 2s x 2s
        c, s = c // 2, 2 * s
    layers += [*_padded_conv(c, out_channels, k, padding), nn.Tanh()]  # -> out_channels x side x side
    return nn.Sequential(*layers)


def patch_trunk(
    in_channels: int, side: int, *, ndf: int = 32, norm: bool = True, slope: float = 0.2
) -> tuple[nn.Sequential, int, int]:
    """PatchGAN body -> (trunk, its output channels, its output map side). CycleGAN's D normalises
    (``norm=True``); StarGAN's does not, as the gradient penalty needs per-sample gradients."""
    strided = 2 if side < 64 else 3
    layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(slope, True)]  # -> ndf x s/2
    c, s = ndf, side // 2
    for _ in range(strided - 1):
        layers += [
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            _norm(2 * c, s // 2) if norm else nn.Identity(),
            nn.LeakyReLU(slope, True),
        ]  # -> 2c x s/2
        c, s = 2 * c, s // 2
    k = 4 if s >= 5 else 3  # 4x4 with padding 1 shrinks the map by one; tiny maps keep their size with 3x3
    layers += [
        nn.Conv2d(c, 2 * c, k, 1, 1),
        _norm(2 * c, s) if norm else nn.Identity(),
        nn.LeakyReLU(slope, True),
    ]  # -> 2c x s'
    c, s = 2 * c, s - 1 if k == 4 else s
    return nn.Sequential(*layers), c, s


def patch_discriminator(in_channels: int, side: int, *, ndf: int = 32) -> nn.Sequential:
    """CycleGAN's D: (N, C, side, side) -> (N, 1, m, m) patch scores."""
    trunk, c, s = patch_trunk(in_channels, side, ndf=ndf)
    k = 4 if s >= 5 else 3
    return nn.Sequential(trunk, nn.Conv2d(c, 1, k, 1, 1))  # -> 1 x m x m


def init_weights(m: nn.Module) -> None:
    """N(0, 0.02), as both papers' code initialises convolutions."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
