"""The divergence a GAN minimises, kept apart from the architecture that minimises it.

A divergence turns discriminator scores into the two players' losses. Scores are D's raw outputs
(logits, critic values, energies): each divergence applies its own output activation, which is how
f-GAN's g_f and the sigmoid of the minimax game both fit one signature.

Where theory ties the optimal D objective to a divergence, ``estimate`` returns that value for the
current D (a lower bound, tight at the optimal D): for the minimax game max_D V = -log 4 + 2 JSD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from torch import Tensor, nn


def check_scores(*scores: Tensor) -> list[Tensor]:
    """Flatten per-sample scores of shape ``(N,)`` or ``(N, 1)``; anything else is a wiring error."""
    out = []
    for s in scores:
        if s.dim() == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if s.dim() != 1:
            raise ValueError(f"discriminator scores must have shape (N,) or (N, 1), got {tuple(s.shape)}")
        out.append(s)
    return out


class Divergence:
    """Base class of divergence plugins (entry-point group ``ganzoo.divergences``)."""

    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """The loss D minimises, from scores on a real and a generated batch."""
        raise NotImplementedError

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        """The loss G minimises, from D's scores on generated samples (``real`` for relativistic losses)."""
        raise NotImplementedError

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor | None:
        """The divergence value the D objective implies, or None where theory gives none."""
        return None

    def penalty(self, critic: Callable[[Tensor], Tensor], real_x: Tensor, fake_x: Tensor) -> Tensor | None:
        """An extra D term that needs D itself (gradient penalties); None when there is none."""
        return None

    def after_d_step(self, discriminators: Iterable[nn.Module]) -> None:
        """Called after each D update (weight clipping); nothing by default."""
