"""The training settings the trainer owns: the optimizers and their parameters, D and G updates per step,
the update scheme and whether G reuses D's batch. A trial resolves them once, from the same layers as
every other setting (``--set``, a divergence's recipe, a preset, the variant's declared defaults), and hands
them to :class:`~ganzoo.trainer.Trainer`; nothing reads them back from the variant.

A variant declares its own defaults where they differ from ganzoo's: a constructor argument of the same
name (``lr: float = 2e-4``) or a class attribute (StarGAN's ``d_steps = 5``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads when optimizers are built, not when the CLI checks a setting's name
    import torch
    from torch import nn

OPTIMIZERS = ("adam", "rmsprop")
# alternating: Goodfellow et al.'s Algorithm 1 (fix G, update D; then fix D, update G); simultaneous: both
# players' gradients at the same parameters from one batch and one z, then both optimizer steps (the
# update of ALI's and PacGAN's 2-D code)
UPDATES = ("alternating", "simultaneous")
NOISE = ("normal", "uniform")
# none, or linear: each player's learning rate falls linearly from lr to 0 over the budget (Mimicry's and SNGAN's
# ResNet runs), set before every step from the budget spent, so a resumed trial continues on the same line
LR_DECAYS = ("none", "linear")  # z ~ N(0, I), or U[-1, 1] (DCGAN's and PacGAN's Stacked MNIST protocol)


@dataclass(frozen=True)
class Training:
    """How one trial trains, checked when made (a bad value is a ValueError naming it and what is allowed)."""

    optimizer: str = "adam"  # Adam(lr, (beta1, beta2)) per player, the DCGAN recipe; or RMSProp(lr), WGAN's
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1  # D updates per step; 0 for a variant without D
    g_steps: int = 1  # G updates per step (PacGAN's Stacked MNIST protocol takes 2)
    update: str = "alternating"
    same_z: bool = False  # G's updates reuse the batch, and so the noise, of the step's last D update
    lr_decay: str = "none"
    # an exponential moving average of G's weights with this decay (0: none), kept beside G after every G update;
    # evaluation scores the average, and weights.pt holds it as the generators (the trained ones beside it)
    ema: float = 0.0
    adversarial: bool = True  # whether the variant has a D (d_steps >= 1) or not (d_steps >= 0)

    def __post_init__(self) -> None:
        least = 1 if self.adversarial else 0
        if isinstance(self.d_steps, bool) or int(self.d_steps) != self.d_steps or self.d_steps < least:
            raise ValueError(f"d_steps must be an integer of at least {least}, got {self.d_steps!r}")
        if isinstance(self.g_steps, bool) or int(self.g_steps) != self.g_steps or self.g_steps < 1:
            raise ValueError(f"g_steps must be an integer of at least 1, got {self.g_steps!r}")
        if self.update not in UPDATES:
            raise ValueError(f"update must be one of {', '.join(UPDATES)}, got {self.update!r}")
        if not isinstance(self.same_z, bool):
            raise ValueError(f"same_z must be true or false, got {self.same_z!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        for key in ("beta1", "beta2"):
            if not 0 <= getattr(self, key) < 1:
                raise ValueError(f"{key} must be in [0, 1), got {getattr(self, key)!r}")
        if self.lr_decay not in LR_DECAYS:
            raise ValueError(f"lr_decay must be one of {', '.join(LR_DECAYS)}, got {self.lr_decay!r}")
        if isinstance(self.ema, bool) or not 0 <= self.ema < 1:
            raise ValueError(f"ema must be 0 (off) or a decay in (0, 1) such as 0.9999, got {self.ema!r}")

    @property
    def scheme(self) -> str:
        """The update the trainer runs: ``alternating``, ``simultaneous`` or ``generator-only`` (no D)."""
        return "generator-only" if self.d_steps == 0 else self.update

    def optimizer_for(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        import torch

        if self.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, self.lr)
        return torch.optim.Adam(params, self.lr, betas=(self.beta1, self.beta2))

    def record(self) -> dict[str, Any]:
        """The settings as config.json records them among a run's settings."""
        return {k: v for k, v in asdict(self).items() if k != "adversarial"}


# settings every variant takes, whether or not its constructor names them, and their types: the trainer's,
# and the noise a variant draws (``z_dist``, the variant's own)
TRAINING_PARAMS: dict[str, type] = {
    **{f.name: type(f.default) for f in fields(Training) if f.name != "adversarial"},
    "z_dist": str,
}


def check_z_dist(value: Any) -> str:
    if value not in NOISE:
        raise ValueError(f"z_dist must be one of {', '.join(NOISE)}, got {value!r}")
    return value
