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
