"""f-divergences by variational divergence minimisation: Nowozin, Cseke & Tomioka 2016, "f-GAN:
Training Generative Neural Samplers using Variational Divergence Minimization".

For a convex f with f(1) = 0, D_f(P || Q) >= sup_T E_P[T(x)] - E_Q[f*(T(x))], with f* the Fenchel
conjugate. The critic's raw output v goes through the output activation g_f, which keeps T = g_f(v)
inside the domain of f*. D maximises the bound, so ``estimate`` is that bound (never above the true
divergence at the optimum, up to sampling noise). G uses the paper's practical update, maximising
E_Q[g_f(v(G(z)))] (their Section 3.2), the f-GAN analogue of the non-saturating loss.

Table 2 of the paper, as (g_f, f*):
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


class FDivergence(Divergence):
    """Base of the f-GAN divergences: subclasses give the activation and the conjugate."""

    paper = "Nowozin et al. 2016, f-GAN"
    activation: ClassVar[Callable[[Tensor], Tensor]]
    conjugate: ClassVar[Callable[[Tensor], Tensor]]

    def bound(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return type(self).activation(real).mean() - type(self).conjugate(type(self).activation(fake)).mean()

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return -self.bound(real, fake)

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -type(self).activation(fake).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return self.bound(real, fake)


def _f(name: str, doc: str, activation: Callable[[Tensor], Tensor], conjugate: Callable[[Tensor], Tensor]) -> type[FDivergence]:
    cls = type(name, (FDivergence,), {"__doc__": doc, "description": doc,
                                      "activation": staticmethod(activation), "conjugate": staticmethod(conjugate)})
    cls.__module__ = __name__
    return cls


KL = _f("KL", "f-GAN Kullback-Leibler KL(P||Q): g=v, f*(t)=exp(t-1)", lambda v: v, lambda t: torch.exp(t - 1))
ReverseKL = _f("ReverseKL", "f-GAN reverse KL(Q||P): g=-exp(-v), f*(t)=-1-log(-t)", lambda v: -torch.exp(-v), lambda t: -1 - torch.log(-t))
Pearson = _f("Pearson", "f-GAN Pearson chi^2: g=v, f*(t)=t^2/4+t", lambda v: v, lambda t: t * t / 4 + t)
Neyman = _f("Neyman", "f-GAN Neyman chi^2: g=1-exp(-v), f*(t)=2-2sqrt(1-t)", lambda v: 1 - torch.exp(-v), lambda t: 2 - 2 * torch.sqrt(1 - t))
Hellinger = _f("Hellinger", "f-GAN squared Hellinger: g=1-exp(-v), f*(t)=t/(1-t)", lambda v: 1 - torch.exp(-v), lambda t: t / (1 - t))
JensenShannon = _f("JensenShannon", "f-GAN Jensen-Shannon: g=log2-log(1+exp(-v)), f*(t)=-log(2-exp(t))",
                   lambda v: LOG2 - F.softplus(-v), lambda t: -torch.log(2 - torch.exp(t)))
GANDivergence = _f("GANDivergence", "f-GAN 'GAN' divergence 2JSD-log4: g=-log(1+exp(-v)), f*(t)=-log(1-exp(t))",
                   lambda v: -F.softplus(-v), lambda t: -torch.log1p(-torch.exp(t)))
