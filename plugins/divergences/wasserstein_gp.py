"""WGAN-GP (Gulrajani et al. 2017): the Wasserstein critic with a gradient penalty instead of clipping."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo import Recipe, check_scores
from ganzoo_plugins.divergences.wasserstein import Wasserstein


class WassersteinGP(Wasserstein):
    """WGAN-GP (Gulrajani et al. 2017): no clipping; lambda E[(||grad D(x_hat)|| - 1)^2] on random
    interpolates. With a 1-Lipschitz critic, E_P[D] - E_Q[D] is a lower bound of W1: the estimate."""

    description = "WGAN critic loss with gradient penalty (lambda=10); 5 critic steps, Adam(1e-4, (0, 0.9)), no BatchNorm in the critic"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs"
    estimate_unit = "W1(P, Q) lower bound (E_P D - E_Q D)"
    # Algorithm 1: n_critic=5, alpha=1e-4, beta1=0, beta2=0.9; section 4: no batch norm in the critic,
    # layer normalisation as the drop-in replacement
    recipe = Recipe(d_steps=5, optimizer="adam", lr=1e-4, beta1=0.0, beta2=0.9, d_norm="layer", per_sample_critic=True)
    # what a sweep (ganzoo bench --sweep) samples for it: ganzoo's range, four decades around the paper's 10
    search_space = {"gp_weight": ("log", 0.1, 1000.0)}

    def __init__(self, *, gp_weight: float = 10.0) -> None:
        super().__init__()
        self.gp_weight = gp_weight

    def after_d_step(self, discriminators) -> None:
        pass

    def penalty(self, critic, real_x: Tensor, fake_x: Tensor) -> Tensor:
        # one interpolation weight per critic input, the gradient norm per input, and a graph through the
        # gradient (create_graph) so the penalty trains the critic: tests/test_divergences.py checks each.
        # Under packing the inputs are packs (Variant.critic_penalty): epsilon and the norm are per pack.
        eps = torch.rand(real_x.shape[0], *[1] * (real_x.dim() - 1), device=real_x.device)
        x_hat = (eps * real_x.detach() + (1 - eps) * fake_x.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return self.gp_weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def estimate(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = check_scores(real, fake)
        return real.mean() - fake.mean()
