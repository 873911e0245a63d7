"""The two losses of Goodfellow et al. 2014, "Generative Adversarial Nets".

Both train D the same way, maximising V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))] with
D = sigmoid(score). They differ in G's loss:

- ``minimax`` is the game as written: G minimises E_g[log(1 - D(G(z)))]. It saturates when D wins
  early, which is the paper's own reason to propose the alternative. (Mimicry and StudioGAN call the
  non-saturating loss "minimax"; ganzoo does not.)
- ``nonsaturating``: G maximises E_g[log D(G(z))] instead, same fixed point, stronger early gradients.

At the optimal D, V = -log 4 + 2 JSD(p_data || p_g), so (V + log 4) / 2 estimates the Jensen-Shannon
divergence from below; ``estimate`` reports it in nats.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import Divergence, Recipe, check_scores

LOG4 = math.log(4.0)


def minimax_value(real: Tensor, fake: Tensor) -> Tensor:
    """V(D, G) from logits: log sigmoid(r) = -softplus(-r), log(1 - sigmoid(f)) = -softplus(f)."""
    real, fake = check_scores(real, fake)
    return -F.softplus(-real).mean() - F.softplus(fake).mean()


class Minimax(Divergence):
    """Goodfellow's minimax game: D maximises V, G minimises log(1 - D(G(z)))."""

    description = "GAN minimax game; G minimises log(1 - D(G(z)))"
    paper = "Goodfellow et al. 2014"
    estimate_unit = "JSD(P||Q) in nats, lower bound"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return -minimax_value(real, fake)

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -F.softplus(fake).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        return (minimax_value(real, fake) + LOG4) / 2


class NonSaturating(Minimax):
    """D as in the minimax game; G maximises log D(G(z)) (the paper's practical alternative)."""

    description = "GAN with the non-saturating G loss -log D(G(z))"

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return F.softplus(-fake).mean()


class _CriticScoreG(Divergence):
    """G maximises the critic's score on its samples: shared by the Wasserstein and hinge losses."""

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return -fake.mean()


class Wasserstein(_CriticScoreG):
    """WGAN (Arjovsky et al. 2017): critic maximises E_P[D] - E_Q[D]; weights clipped to [-c, c]."""

    description = "WGAN critic loss with weight clipping (c=0.01); 5 critic steps, RMSProp(5e-5)"
    paper = "Arjovsky, Chintala & Bottou 2017, Wasserstein GAN"
    recipe = Recipe(d_steps=5, optimizer="rmsprop", lr=5e-5)  # Algorithm 1: n_critic=5, alpha=5e-5, RMSProp

    def __init__(self, *, clip: float = 0.01) -> None:
        self.clip = clip

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return fake.mean() - real.mean()

    def after_d_step(self, discriminators) -> None:
        with torch.no_grad():
            for net in discriminators:
                for p in net.parameters():
                    p.clamp_(-self.clip, self.clip)


class WassersteinGP(Wasserstein):
    """WGAN-GP (Gulrajani et al. 2017): no clipping; lambda E[(||grad D(x_hat)|| - 1)^2] on random
    interpolates. With a 1-Lipschitz critic, E_P[D] - E_Q[D] is a lower bound of W1: the estimate."""

    description = "WGAN critic loss with gradient penalty (lambda=10); 5 critic steps, Adam(1e-4, (0, 0.9)), no BatchNorm in the critic"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs"
    estimate_unit = "W1(P, Q) lower bound (E_P D - E_Q D)"
    # Algorithm 1: n_critic=5, alpha=1e-4, beta1=0, beta2=0.9; section 4: no batch norm in the critic,
    # layer normalisation as the drop-in replacement
    recipe = Recipe(d_steps=5, optimizer="adam", lr=1e-4, beta1=0.0, beta2=0.9, d_norm="layer", per_sample_critic=True)

    def __init__(self, *, gp_weight: float = 10.0) -> None:
        super().__init__()
        self.gp_weight = gp_weight

    def after_d_step(self, discriminators) -> None:
        pass

    def penalty(self, critic, real_x: Tensor, fake_x: Tensor) -> Tensor:
        # one interpolation weight per sample, the gradient norm per sample, and a graph through the
        # gradient (create_graph) so the penalty trains the critic: tests/test_divergences.py checks each
        eps = torch.rand(real_x.shape[0], *[1] * (real_x.dim() - 1), device=real_x.device)
        x_hat = (eps * real_x.detach() + (1 - eps) * fake_x.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return self.gp_weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return real.mean() - fake.mean()


class LeastSquares(Divergence):
    """LSGAN (Mao et al. 2017), 0-1 coding: D minimises (D(x)-1)^2 + D(G(z))^2, G minimises (D(G(z))-1)^2, halved."""

    description = "least-squares GAN loss (0-1 coding)"
    paper = "Mao et al. 2017, Least Squares Generative Adversarial Networks"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return 0.5 * ((fake - 1) ** 2).mean()


class Hinge(_CriticScoreG):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D minimises relu(1-D(x)) + relu(1+D(G(z))), G minimises -D(G(z))."""

    description = "hinge loss"
    paper = "Lim & Ye 2017, Geometric GAN"

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


class EnergyMargin(Divergence):
    """EBGAN's margin loss (Zhao et al. 2017) on energies (D's scores are reconstruction errors):
    D minimises E(x) + max(0, m - E(G(z))); G minimises E(G(z))."""

    description = "EBGAN margin loss on energies (m=1)"
    paper = "Zhao, Mathieu & LeCun 2017, Energy-based GAN"

    def __init__(self, *, margin: float = 1.0) -> None:
        self.margin = margin

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return real.mean() + F.relu(self.margin - fake).mean()

    def g_loss(self, fake: Tensor, real: Tensor | None = None) -> Tensor:
        (fake,) = check_scores(fake)
        return fake.mean()
