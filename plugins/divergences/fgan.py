"""f-divergences by variational divergence minimisation: Nowozin, Cseke & Tomioka 2016, "f-GAN:
Training Generative Neural Samplers using Variational Divergence Minimization".

For a convex f with f(1) = 0, D_f(P || Q) >= sup_T E_P[T(x)] - E_Q[f*(T(x))], with P the data, Q the
generator and f* the Fenchel conjugate. The critic's raw output v goes through the output activation
g_f, which keeps T = g_f(v) inside the domain of f*. D maximises the bound; G uses the paper's practical
update, maximising E_Q[g_f(v(G(z)))] (their Section 3.2), the f-GAN analogue of the non-saturating loss.

The fake term f*(g_f(v)) is written in closed form for each divergence (Table 2 of the paper, composed
by hand), never as f* applied to g_f(v): the composition cancels in float32 (JS: exp(log 2 - softplus(-v))
rounds to 2 at v ~ 17, and -log(2 - 2) is inf), while the closed form is finite wherever the true value is.

``estimate`` is the bound in the divergence's own unit, stated in ``estimate_unit``. f-GAN's JS
generator f(u) = u log u - (u + 1) log((u + 1)/2) integrates to 2 JSD and its "GAN" f to 2 JSD - log 4,
so both are converted to the JSD in nats, the unit ``minimax`` and ``nonsaturating`` report: on the same
D's scores all four give the same number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, check_scores

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


class FDivergence(Divergence):
    """Base of the f-GAN divergences: subclasses give g_f (``activation``), f*(g_f(v)) (``fake_term``) and,
    where the bound is not in the unit ``estimate_unit`` names, the conversion (``to_unit``)."""

    paper = "Nowozin et al. 2016, f-GAN"
    activation: ClassVar[Callable[[Tensor], Tensor]]  # g_f(v): the critic's output mapped into the domain of f*
    fake_term: ClassVar[Callable[[Tensor], Tensor]]  # f*(g_f(v)), in a closed form finite wherever its value is
    to_unit: ClassVar[Callable[[Tensor], Tensor]] = staticmethod(lambda bound: bound)

    def bound(self, real: Tensor, fake: Tensor) -> Tensor:
        """E_P[g_f(v)] - E_Q[f*(g_f(v))] <= D_f(P || Q)."""
        real, fake = check_scores(real, fake)
        return self.activation(real).mean() - self.fake_term(fake).mean()

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return -self.bound(real, fake)

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -self.activation(fake).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return self.to_unit(self.bound(real, fake))


def _f(
    name: str,
    doc: str,
    unit: str,
    activation: Callable[[Tensor], Tensor],
    fake_term: Callable[[Tensor], Tensor],
    to_unit: Callable[[Tensor], Tensor] | None = None,
) -> type[FDivergence]:
    attrs = {
        "__doc__": doc,
        "description": doc,
        "estimate_unit": unit,
        "activation": staticmethod(activation),
        "fake_term": staticmethod(fake_term),
    }
    if to_unit is not None:
        attrs["to_unit"] = staticmethod(to_unit)
    cls = type(name, (FDivergence,), attrs)
    cls.__module__ = __name__
    return cls


KL = _f(
    "KL",
    "f-GAN Kullback-Leibler KL(P||Q): g = v, f*(t) = exp(t - 1)",
    "KL(P||Q) in nats, lower bound",
    lambda v: v,
    lambda v: torch.exp(v - 1),
)
ReverseKL = _f(
    "ReverseKL",
    "f-GAN reverse KL(Q||P): g = -exp(-v), f*(t) = -1 - log(-t); f*(g(v)) = v - 1",
    "KL(Q||P) in nats, lower bound",
    lambda v: -torch.exp(-v),
    lambda v: v - 1,
)
Pearson = _f(
    "Pearson",
    "f-GAN Pearson chi^2(P||Q) = int (p - q)^2 / q: g = v, f*(t) = t^2/4 + t",
    "Pearson chi^2(P||Q), lower bound",
    lambda v: v,
    lambda v: v * v / 4 + v,
)
Neyman = _f(
    "Neyman",
    "f-GAN Neyman chi^2(P||Q) = int (p - q)^2 / p: g = 1 - exp(-v), f*(t) = 2 - 2 sqrt(1 - t); f*(g(v)) = 2 - 2 exp(-v/2)",
    "Neyman chi^2(P||Q), lower bound",
    lambda v: -torch.expm1(-v),
    lambda v: 2 - 2 * torch.exp(-v / 2),
)
Hellinger = _f(
    "Hellinger",
    "f-GAN squared Hellinger int (sqrt p - sqrt q)^2: g = 1 - exp(-v), f*(t) = t / (1 - t); f*(g(v)) = exp(v) - 1",
    "squared Hellinger int (sqrt p - sqrt q)^2, lower bound",
    lambda v: -torch.expm1(-v),
    torch.expm1,
)
JensenShannon = _f(
    "JensenShannon",
    "f-GAN Jensen-Shannon: g = log 2 - log(1 + exp(-v)), f*(t) = -log(2 - exp(t)); f*(g(v)) = softplus(v) - log 2",
    "JSD(P||Q) in nats, lower bound",
    lambda v: LOG2 - F.softplus(-v),
    lambda v: F.softplus(v) - LOG2,
    to_unit=lambda bound: bound / 2,
)  # the bound is on 2 JSD
GANDivergence = _f(
    "GANDivergence",
    "f-GAN 'GAN' divergence 2 JSD - log 4: g = -log(1 + exp(-v)), f*(t) = -log(1 - exp(t)); f*(g(v)) = softplus(v)",
    "JSD(P||Q) in nats, lower bound",
    lambda v: -F.softplus(-v),
    F.softplus,
    to_unit=lambda bound: (bound + LOG4) / 2,
)  # the bound is on 2 JSD - log 4
