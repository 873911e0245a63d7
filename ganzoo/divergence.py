"""The divergence a GAN minimises, kept apart from the architecture that minimises it.

A divergence turns discriminator scores into the two players' losses. Scores are D's raw outputs
(logits, critic values, energies): each divergence applies its own output activation, which is how
f-GAN's g_f and the sigmoid of the minimax game both fit one signature.

Where theory ties the optimal D objective to a divergence, ``estimate`` returns that value for the
current D (a lower bound, tight at the optimal D): for the minimax game max_D V = -log 4 + 2 JSD.
``estimate_unit`` names the quantity, so one column never mixes units: divergences that estimate the
same quantity (``minimax``, ``nonsaturating``, ``fgan-js``, ``fgan-gan``: the JSD in nats) report the
same number for the same D's scores.

Some papers fix more than the losses: WGAN trains its critic five times per G step with RMSProp, and
WGAN-GP with Adam(1e-4, betas (0, 0.9)) and no BatchNorm in the critic. A divergence states that as its
:class:`Recipe`; the bench applies it to any variant that does not fix its own (``Variant.own_recipe``),
unless the user overrides a value with ``--set``, and records what ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from torch import Tensor, nn

from ganzoo.params import keyword_params


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


@dataclass(frozen=True)
class Recipe:
    """How a divergence's paper trains: each field is a training hyper-parameter a variant takes
    (``d_steps``, ``optimizer``, ``lr``, ``beta1``, ``beta2``, ``d_norm``); None leaves the variant's own.

    ``per_sample_critic``: the loss assumes the critic scores each sample on its own (WGAN-GP's
    penalty is per sample), so a critic with BatchNorm is refused."""

    d_steps: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    d_norm: str | None = None
    per_sample_critic: bool = False

    def settings(self) -> dict[str, Any]:
        """The hyper-parameters this recipe sets (not the flags)."""
        return {k: v for k, v in asdict(self).items() if v is not None and k != "per_sample_critic"}


class Divergence:
    """Base class of divergence plugins (entry-point group ``ganzoo.divergences``)."""

    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    estimate_unit: ClassVar[str | None] = None  # what ``estimate`` returns, e.g. "JSD (nats)"; None: no estimate
    recipe: ClassVar[Recipe | None] = None  # the paper's training recipe, where it fixes one
    # g_loss needs D's scores on real data too (relativistic GANs compare them with the fakes'): variants
    # that pass them declare Variant.real_scores_for_g, and other pairs are refused before training
    needs_real_scores: ClassVar[bool] = False

    @classmethod
    def constructor_params(cls) -> dict[str, Any]:
        """Keyword-only constructor parameters and their defaults (``--set wasserstein-gp.gp_weight=5``)."""
        return keyword_params(cls.__init__)

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
