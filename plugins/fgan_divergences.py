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
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, check_scores

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


class FDivergence(Divergence):
    """Base of the f-GAN divergences: subclasses give g_f (``activation``) and f*(g_f(v)) (``fake_term``)."""

    paper = "Nowozin et al. 2016, f-GAN"
    formula: ClassVar[str] = ""  # g_f and f*, as in the paper's Table 2

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        """g_f(v): the critic's output mapped into the domain of f*."""
        raise NotImplementedError

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        """f*(g_f(v)), in a closed form that stays finite wherever its value is."""
        raise NotImplementedError

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
        return self.bound(real, fake)


class KL(FDivergence):
    """f-GAN Kullback-Leibler KL(P||Q): g = v, f*(t) = exp(t - 1)."""

    description = __doc__
    estimate_unit = "KL(P||Q) in nats, lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return v

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return torch.exp(v - 1)


class ReverseKL(FDivergence):
    """f-GAN reverse KL(Q||P): g = -exp(-v), f*(t) = -1 - log(-t); f*(g(v)) = v - 1."""

    description = __doc__
    estimate_unit = "KL(Q||P) in nats, lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return -torch.exp(-v)

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return v - 1


class Pearson(FDivergence):
    """f-GAN Pearson chi^2(P||Q) = int (p - q)^2 / q: g = v, f*(t) = t^2/4 + t."""

    description = __doc__
    estimate_unit = "Pearson chi^2(P||Q), lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return v

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return v * v / 4 + v


class Neyman(FDivergence):
    """f-GAN Neyman chi^2(P||Q) = int (p - q)^2 / p: g = 1 - exp(-v), f*(t) = 2 - 2 sqrt(1 - t); f*(g(v)) = 2 - 2 exp(-v/2)."""

    description = __doc__
    estimate_unit = "Neyman chi^2(P||Q), lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return -torch.expm1(-v)

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return 2 - 2 * torch.exp(-v / 2)


class Hellinger(FDivergence):
    """f-GAN squared Hellinger int (sqrt p - sqrt q)^2: g = 1 - exp(-v), f*(t) = t / (1 - t); f*(g(v)) = exp(v) - 1."""

    description = __doc__
    estimate_unit = "squared Hellinger int (sqrt p - sqrt q)^2, lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return -torch.expm1(-v)

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return torch.expm1(v)


class JensenShannon(FDivergence):
    """f-GAN Jensen-Shannon: g = log 2 - log(1 + exp(-v)), f*(t) = -log(2 - exp(t)); f*(g(v)) = softplus(v) - log 2."""

    description = __doc__
    estimate_unit = "JSD(P||Q) in nats, lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return LOG2 - F.softplus(-v)

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return F.softplus(v) - LOG2

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return self.bound(real, fake) / 2  # the bound is on 2 JSD


class GANDivergence(FDivergence):
    """f-GAN "GAN" divergence 2 JSD - log 4: g = -log(1 + exp(-v)), f*(t) = -log(1 - exp(t)); f*(g(v)) = softplus(v)."""

    description = __doc__
    estimate_unit = "JSD(P||Q) in nats, lower bound"

    @staticmethod
    def activation(v: Tensor) -> Tensor:
        return -F.softplus(-v)

    @staticmethod
    def fake_term(v: Tensor) -> Tensor:
        return F.softplus(v)

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return (self.bound(real, fake) + LOG4) / 2  # the bound is on 2 JSD - log 4
