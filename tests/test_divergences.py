"""Divergences: shapes are checked, the losses are the ones the papers write, and the divergence
estimate that the D objective implies matches the closed form on known distributions."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from ganzoo import registry


@pytest.mark.parametrize("name", registry.divergences.names())
def test_every_divergence_checks_score_shapes(name):
    div = registry.divergences.get(name)()
    with pytest.raises(ValueError, match="shape"):
        div.d_loss(torch.zeros(4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="shape"):
        div.g_loss(torch.zeros(4, 3, 1))
    # (N,) and (N, 1) are the same scores
    r, f = torch.randn(8), torch.randn(8)
    assert torch.allclose(div.d_loss(r, f), div.d_loss(r[:, None], f[:, None]))


def test_minimax_is_the_paper_game_not_the_nonsaturating_loss():
    minimax, ns = registry.divergences.get("minimax")(), registry.divergences.get("nonsaturating")()
    fake = torch.tensor([-3.0, 0.5, 2.0])
    d = torch.sigmoid(fake)
    assert torch.allclose(minimax.g_loss(fake), torch.log(1 - d).mean())
    assert torch.allclose(ns.g_loss(fake), -torch.log(d).mean())
    real = torch.tensor([1.0, -0.2, 0.3])
    expected = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - d).mean())
    assert torch.allclose(minimax.d_loss(real, fake), expected) and torch.allclose(ns.d_loss(real, fake), expected)


def test_minimax_optimum_is_minus_log4_at_equal_distributions():
    # D = 1/2 everywhere (logit 0) is optimal when p_data = p_g: V = -log 4, JSD = 0
    div = registry.divergences.get("minimax")()
    zeros = torch.zeros(16)
    assert torch.allclose(-div.d_loss(zeros, zeros), torch.tensor(-math.log(4.0)))
    assert abs(float(div.estimate(zeros, zeros))) < 1e-7


def jsd_closed_form(p, q) -> float:
    def integrand(x):
        a, b = p.pdf(x), q.pdf(x)
        m = (a + b) / 2
        return 0.5 * (a * np.log(a / m) + b * np.log(b / m)) if a > 0 and b > 0 else 0.0

    return integrate.quad(integrand, -15, 15, limit=200)[0]


def fit_discriminator(div, p_sample, q_sample, steps=1500, seed=0):
    """Train only D (the 'generator' is a fixed distribution) and return the estimate on fresh samples."""
    torch.manual_seed(seed)
    D = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(D.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = div.d_loss(D(p_sample(512)), D(q_sample(512)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(div.estimate(D(p_sample(200_000)), D(q_sample(200_000))))


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_minimax_estimate_matches_jsd_of_two_gaussians(name):
    p, q = stats.norm(0, 1), stats.norm(1, 1.5)
    truth = jsd_closed_form(p, q)
    estimate = fit_discriminator(registry.divergences.get(name)(),
                                 lambda n: torch.randn(n, 1), lambda n: 1 + 1.5 * torch.randn(n, 1))
    assert abs(estimate - truth) / truth < 0.10, (estimate, truth)
    assert estimate <= truth * 1.02  # a lower bound, up to sampling noise


F_DIVERGENCES = {  # f with f(1) = 0, as in Table 1 of Nowozin et al. 2016
    "fgan-kl": lambda u: u * np.log(u),
    "fgan-reverse-kl": lambda u: -np.log(u),
    "fgan-pearson": lambda u: (u - 1) ** 2,
    "fgan-neyman": lambda u: (1 - u) ** 2 / u,
    "fgan-hellinger": lambda u: (np.sqrt(u) - 1) ** 2,
    "fgan-js": lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u),
    "fgan-gan": lambda u: u * np.log(u) - (u + 1) * np.log(u + 1),
}


def f_divergence(f, p, q) -> float:
    """D_f(P || Q) = integral of q f(p/q), by scipy quadrature."""
    return integrate.quad(lambda x: q.pdf(x) * f(p.pdf(x) / q.pdf(x)), -20, 20, limit=400)[0]


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_f_divergence_estimate_matches_the_integral(name):
    # equal variances keep every one of the seven finite (Neyman and Pearson diverge when tails differ)
    p, q = stats.norm(0, 1), stats.norm(1, 1)
    truth = f_divergence(F_DIVERGENCES[name], p, q)
    estimate = fit_discriminator(registry.divergences.get(name)(), lambda n: torch.randn(n, 1), lambda n: 1 + torch.randn(n, 1))
    assert abs(estimate - truth) / abs(truth) < 0.10, (estimate, truth)
    assert estimate <= truth + 0.02 * abs(truth)  # a lower bound, up to sampling noise


def test_wgan_gp_penalty_is_zero_for_a_unit_slope_critic_and_clipping_clips():
    gp = registry.divergences.get("wasserstein-gp")()
    x = torch.randn(16, 3)
    assert float(gp.penalty(lambda v: v.sum(1) / math.sqrt(3), x, x + 1)) == pytest.approx(0.0, abs=1e-6)
    assert float(gp.penalty(lambda v: 3 * v.sum(1) / math.sqrt(3), x, x + 1)) == pytest.approx(10 * 4.0)
    net = torch.nn.Linear(3, 1)
    torch.nn.init.constant_(net.weight, 5.0)
    registry.divergences.get("wasserstein")().after_d_step([net])
    assert net.weight.abs().max() <= 0.01


def test_simple_losses_are_the_papers():
    r, f = torch.tensor([2.0, 0.5]), torch.tensor([-0.5, 1.5])
    ls, hinge, ebm = (registry.divergences.get(n)() for n in ("least-squares", "hinge", "energy-margin"))
    assert float(ls.d_loss(r, f)) == pytest.approx(0.5 * ((1 + 0.25) / 2) + 0.5 * ((0.25 + 2.25) / 2))
    assert float(hinge.d_loss(r, f)) == pytest.approx((0 + 0.5) / 2 + (0.5 + 2.5) / 2)
    assert float(ebm.d_loss(r, f)) == pytest.approx(1.25 + (1.5 + 0.0) / 2)
    assert float(hinge.g_loss(f)) == pytest.approx(-0.5)
