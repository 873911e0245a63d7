"""PacGAN's packing (Lin et al. 2018) in one place: D judges ``m`` samples at once, and G, run on m noise
batches, keeps BatchNorm statistics per noise batch as PacGAN's released code does.

A variant takes a :class:`Packing` from its ``pack`` (and ``g_per_noise_batch``) settings and uses it at
three points: :meth:`Packing.discriminator` puts :class:`Pack` in front of D's layers,
:meth:`Packing.generator` makes G's :class:`SplitBatchNorm` layers split their statistics, and
:meth:`Packing.fake` lays G's output out so that each pack takes one sample of every noise batch. The
gradient penalty's per-pack rule is :meth:`ganzoo.variant.Variant.critic_penalty`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


def pack_samples(x: Tensor, m: int) -> Tensor:
    """PacGAN's packing (Lin et al. 2018): ``m`` consecutive samples joined along their first feature axis,
    (n, C, ...) -> (n / m, m * C, ...), so D judges m samples at once and sees a collapsed G's lack of
    variety. Real and fake batches are packed separately: every pack is all real or all fake."""
    if m == 1:
        return x
    if x.shape[0] % m:
        raise ValueError(f"a batch of {x.shape[0]} samples cannot be packed in groups of {m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


def unpack_samples(x: Tensor, m: int) -> Tensor:
    """The inverse of :func:`pack_samples`: (n / m, m * C, ...) -> (n, C, ...)."""
    if m == 1:
        return x
    return x.reshape(x.shape[0] * m, x.shape[1] // m, *x.shape[2:])


class Pack(nn.Module):
    """Put in front of a D built for ``m`` times the input channels (or features): packs its input."""

    def __init__(self, m: int) -> None:
        super().__init__()
        if not isinstance(m, int) or m < 1:
            raise ValueError(f"pack must be a positive integer, got {m!r}")
        self.m = m

    def forward(self, x: Tensor) -> Tensor:
        return pack_samples(x, self.m)


class SplitBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm (1-D or 2-D input alike) whose training statistics come from each of ``groups``
    consecutive equal slices of the batch on its own, with the running averages moved once per call by
    the mean of the slices' statistics: G run separately on each of a PacGAN step's m noise batches
    (PacGAN's released code calls G once per noise batch and averages the m BatchNorm updates), in one
    forward pass.

    ``groups`` is 1 (exactly torch's BatchNorm) unless the owner sets it; evaluation uses the running
    averages either way. Parameters and buffers are torch's BatchNorm's, so earlier weights load."""

    def __init__(self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5) -> None:
        if not 0 < momentum <= 1:
            raise ValueError(f"BatchNorm momentum must be in (0, 1], got {momentum!r}")
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.groups = 1

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"expected 2-D, 3-D or 4-D input, got {x.dim()}-D")

    def forward(self, x: Tensor) -> Tensor:
        m = self.groups
        if m == 1 or not self.training:
            return super().forward(x)
        if x.shape[0] % m:
            raise ValueError(f"a batch of {x.shape[0]} cannot be split into {m} noise batches for G's BatchNorm")
        xs = x.reshape(m, x.shape[0] // m, *x.shape[1:])  # -> groups x n x C (x H x W)
        dims = (1, *range(3, xs.dim()))  # each group's samples (and positions), per channel
        mean = xs.mean(dim=dims, keepdim=True)
        var = xs.var(dim=dims, unbiased=False, keepdim=True)
        shape = (1, 1, -1, *[1] * (xs.dim() - 3))
        y = (xs - mean) / torch.sqrt(var + self.eps) * self.weight.reshape(shape) + self.bias.reshape(shape)
        with torch.no_grad():
            count = xs[0].numel() // xs.shape[2]
            momentum = float(self.momentum)  # type: ignore[arg-type]
            self.running_mean.mul_(1 - momentum).add_(mean.flatten(1).mean(0), alpha=momentum)
            unbiased = var.flatten(1) * count / max(count - 1, 1)
            self.running_var.mul_(1 - momentum).add_(unbiased.mean(0), alpha=momentum)
            self.num_batches_tracked.add_(1)
        return y.reshape(x.shape)


def split_noise_batches(net: nn.Module, m: int) -> None:
    """Make every :class:`SplitBatchNorm` in ``net`` take its statistics per noise batch (``m`` of them)."""
    for module in net.modules():
        if isinstance(module, SplitBatchNorm):
            module.groups = m


def interleave_packs(x: Tensor, m: int) -> Tensor:
    """G's output for ``m`` noise batches laid end to end (batch 0, batch 1, ...) reordered so that each pack
    of ``m`` consecutive samples takes one sample from every noise batch, as PacGAN joins its m generator
    outputs: pack j = (G(z_1)_j, ..., G(z_m)_j)."""
    if m == 1:
        return x
    return x.reshape(m, x.shape[0] // m, *x.shape[1:]).transpose(0, 1).reshape(x.shape)


@dataclass(frozen=True)
class Packing:
    """How one variant packs: ``m`` samples per D input, and whether G runs once per noise batch (its
    BatchNorm statistics per batch of ``batch_size``; the running averages' momentum is G's own setting,
    ``g_bn_momentum``, which PacGAN's blocks code pins at 0.05)."""

    m: int = 1
    per_noise_batch: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.m, int) or self.m < 1:
            raise ValueError(f"pack must be a positive integer, got {self.m!r}")

    def discriminator(self, layers: list[nn.Module]) -> nn.Sequential:
        """D's layers, built for ``m`` times the input channels, behind :class:`Pack` (none at m = 1, so
        the weights of an unpacked D keep their keys)."""
        return nn.Sequential(*([Pack(self.m)] if self.m != 1 else []), *layers)

    def generator(self, net: nn.Module) -> nn.Module:
        """G, its :class:`SplitBatchNorm` layers splitting their statistics per noise batch where asked."""
        if self.per_noise_batch:
            split_noise_batches(net, self.m)
        return net

    def fake(self, net: nn.Module, z: Tensor) -> Tensor:
        """G's samples for noise ``z``; when G runs per noise batch and trains, reordered so that each pack of
        m consecutive samples takes one sample from every noise batch (evaluation draws are left in order)."""
        x = net(z)
        return interleave_packs(x, self.m) if self.per_noise_batch and net.training else x
