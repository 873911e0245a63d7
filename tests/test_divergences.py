"""Divergences: shapes are checked, the losses are the ones the papers write, and the divergence
estimate that the D objective implies matches the closed form on known distributions."""

import math

import mpmath
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
    D = torch.nn.Sequential(
        torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1)
    )
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
    estimate = fit_discriminator(
        registry.divergences.get(name)(), lambda n: torch.randn(n, 1), lambda n: 1 + 1.5 * torch.randn(n, 1)
    )
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


# Pairs with unequal variances, so that D_f(P || Q) != D_f(Q || P) and a swap of P and Q is caught
# (N(0, 1) vs N(1, 1) is symmetric for KL and chi^2). Q wider where E_Q needs p/q bounded (KL, Pearson,
# Hellinger, JS, GAN); P wider where the reverse ratio must stay bounded (reverse KL, Neyman).
WIDE_Q = (stats.norm(0, 1), stats.norm(1, 1.5))
WIDE_P = (stats.norm(0, 1.5), stats.norm(1, 1))
PAIRS = {name: (WIDE_P if name in ("fgan-reverse-kl", "fgan-neyman") else WIDE_Q) for name in F_DIVERGENCES}
# Each estimate is reported in the unit its estimate_unit names: the JS pair report the JSD.
TO_UNIT = {"fgan-js": lambda d: d / 2, "fgan-gan": lambda d: (d + math.log(4)) / 2}
# The optimal critic's raw output v* with g_f(v*) = f'(p/q), written from log r = log p/q (inverting
# each g_f by hand; independent of the plugin code).
OPTIMAL_V = {
    "fgan-kl": lambda log_r: 1 + log_r,
    "fgan-reverse-kl": lambda log_r: log_r,
    "fgan-pearson": lambda log_r: 2 * (np.exp(log_r) - 1),
    "fgan-neyman": lambda log_r: 2 * log_r,
    "fgan-hellinger": lambda log_r: log_r / 2,
    "fgan-js": lambda log_r: log_r,
    "fgan-gan": lambda log_r: log_r,
}


def truth_in_unit(name: str) -> float:
    p, q = PAIRS[name]
    return TO_UNIT.get(name, lambda d: d)(f_divergence(F_DIVERGENCES[name], p, q))


def optimal_critic_estimate(estimate, name: str, n: int = 400_000) -> float:
    """``estimate(real_scores, fake_scores)`` with the optimal critic on n samples of P and of Q."""
    p, q = PAIRS[name]
    rng = np.random.default_rng(0)
    xp, xq = p.rvs(n, random_state=rng), q.rvs(n, random_state=rng)
    v = lambda x: torch.tensor(OPTIMAL_V[name](p.logpdf(x) - q.logpdf(x)), dtype=torch.float64)
    return float(estimate(v(xp), v(xq)))


def swapped(estimate):
    """The classic bug: P and Q trade places (real scores passed as fake)."""
    return lambda real, fake: estimate(fake, real)


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_f_divergence_estimate_at_the_optimal_critic_is_the_closed_form(name):
    div = registry.divergences.get(name)()
    truth = truth_in_unit(name)
    assert abs(optimal_critic_estimate(div.estimate, name) - truth) < 0.02 * abs(truth), truth
    # the same check fails on a copy that swaps P and Q
    assert abs(optimal_critic_estimate(swapped(div.estimate), name) - truth) > 0.05 * abs(truth)


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_f_divergence_estimate_of_a_trained_critic_matches_the_integral(name):
    p, q = PAIRS[name]
    truth = truth_in_unit(name)
    estimate = fit_discriminator(
        registry.divergences.get(name)(),
        lambda n: p.mean() + p.std() * torch.randn(n, 1),
        lambda n: q.mean() + q.std() * torch.randn(n, 1),
    )
    assert abs(estimate - truth) / abs(truth) < 0.10, (estimate, truth)
    assert estimate <= truth + 0.02 * abs(truth)  # a lower bound, up to sampling noise


# g_f and f* of the paper's Table 2, composed as written, evaluated with 60 significant digits (mpmath,
# which torch installs through sympy): the reference, free of the cancellation that breaks float32
M = mpmath.mp
NAIVE = {
    "fgan-kl": (lambda v: v, lambda t: M.exp(t - 1)),
    "fgan-reverse-kl": (lambda v: -M.exp(-v), lambda t: -1 - M.log(-t)),
    "fgan-pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "fgan-neyman": (lambda v: 1 - M.exp(-v), lambda t: 2 - 2 * M.sqrt(1 - t)),
    "fgan-hellinger": (lambda v: 1 - M.exp(-v), lambda t: t / (1 - t)),
    "fgan-js": (lambda v: M.log(2) - M.log(1 + M.exp(-v)), lambda t: -M.log(2 - M.exp(t))),
    "fgan-gan": (lambda v: -M.log(1 + M.exp(-v)), lambda t: -M.log(1 - M.exp(t))),
}
LOGITS = [-50.0, -30.0, -17.0, -5.0, -0.5, 0.0, 0.7, 5.0, 17.0, 30.0, 50.0]


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_f_divergence_losses_stay_finite_at_extreme_logits(name):
    div = registry.divergences.get(name)()
    g, conj = NAIVE[name]
    for real in LOGITS:
        for fake in LOGITS if real == 0.0 else [0.0]:
            r = torch.tensor([real], requires_grad=True)
            f = torch.tensor([fake], requires_grad=True)
            loss = div.d_loss(r, f)
            loss.backward()
            assert torch.isfinite(loss) and torch.isfinite(r.grad).all() and torch.isfinite(f.grad).all(), (real, fake)
            gen = torch.tensor([fake], requires_grad=True)
            gl = div.g_loss(gen)
            gl.backward()
            assert torch.isfinite(gl) and torch.isfinite(gen.grad).all(), fake
            with mpmath.workdps(60):
                reference = float(-(g(M.mpf(real)) - conj(g(M.mpf(fake)))))
            assert float(loss.detach()) == pytest.approx(reference, rel=1e-5, abs=1e-6), (real, fake)


JSD_ESTIMATORS = ["minimax", "nonsaturating", "fgan-js", "fgan-gan"]


def test_divergences_estimating_the_jsd_agree_on_the_same_scores():
    torch.manual_seed(0)
    real, fake = 1.0 + torch.randn(256), -0.5 + 2 * torch.randn(256)
    values = {n: float(registry.divergences.get(n)().estimate(real, fake)) for n in JSD_ESTIMATORS}
    assert max(values.values()) - min(values.values()) < 1e-5, values
    units = {registry.divergences.get(n).estimate_unit for n in JSD_ESTIMATORS}
    assert len(units) == 1 and "JSD" in units.pop()


@pytest.mark.parametrize("name", registry.divergences.names())
def test_every_estimate_states_its_unit(name):
    cls = registry.divergences.get(name)
    has_estimate = cls().estimate(torch.randn(8), torch.randn(8)) is not None
    assert has_estimate == (cls.estimate_unit is not None)


# G's loss for every built-in divergence, from its paper; scores are asymmetric so a sign or a swap shows
G_LOSS = {
    "minimax": lambda f: np.log(1 - 1 / (1 + np.exp(-f))).mean(),
    "nonsaturating": lambda f: -np.log(1 / (1 + np.exp(-f))).mean(),
    "wasserstein": lambda f: -f.mean(),
    "wasserstein-gp": lambda f: -f.mean(),
    "least-squares": lambda f: 0.5 * ((f - 1) ** 2).mean(),
    "hinge": lambda f: -f.mean(),
    "energy-margin": lambda f: f.mean(),
    **{n: (lambda g: lambda f: -np.mean([float(g(M.mpf(x))) for x in f]))(NAIVE[n][0]) for n in NAIVE},
}


@pytest.mark.parametrize("name", sorted(G_LOSS))
def test_every_g_loss_is_its_formula(name):
    f = np.array([-2.0, -0.3, 0.4, 1.7])
    assert float(registry.divergences.get(name)().g_loss(torch.tensor(f))) == pytest.approx(G_LOSS[name](f), rel=1e-6)


def test_every_builtin_divergence_has_a_g_loss_formula_here():
    builtin = {n for n in registry.divergences.names() if registry.divergences.entry(n).package == "ganzoo"}
    assert builtin <= set(G_LOSS)


def check_gradient_penalty(penalty) -> None:
    """``penalty(critic, real, fake)`` against a per-sample reference on a non-linear critic: its value and
    the gradient it gives the critic's weights (both need a weight and a norm per sample, and the graph)."""
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    real, fake = torch.randn(8, 3), 2 + 0.5 * torch.randn(8, 3)
    torch.manual_seed(1)
    value = penalty(critic, real, fake)
    assert value.requires_grad, "the penalty must train the critic (create_graph=True)"
    params = list(critic.parameters())[:-1]  # the output bias does not change the input gradient
    grads = torch.autograd.grad(value, params)
    torch.manual_seed(1)
    eps = torch.rand(8, 1)  # the draw the penalty makes: one weight per sample
    terms = []
    for i in range(8):
        x = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x[None]).sum(), x, create_graph=True)
        terms.append((g.norm() - 1) ** 2)
    reference = 10 * torch.stack(terms).mean()
    assert torch.allclose(value, reference, rtol=1e-5), (value.item(), reference.item())
    for a, b in zip(grads, torch.autograd.grad(reference, params)):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)


def _broken_penalty(*, one_alpha=False, create_graph=True, batch_norm=False):
    """WGAN-GP's penalty with one classic bug switched on."""

    def penalty(critic, real_x, fake_x):
        eps = torch.rand(1 if one_alpha else real_x.shape[0], 1)
        x_hat = (eps * real_x + (1 - eps) * fake_x).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
        norm = grad.norm() if batch_norm else grad.flatten(1).norm(dim=1)
        return 10 * ((norm - 1) ** 2).mean()

    return penalty


def test_wgan_gp_penalty_is_per_sample_and_trains_the_critic():
    check_gradient_penalty(registry.divergences.get("wasserstein-gp")().penalty)


@pytest.mark.parametrize(
    "bug",
    [{"one_alpha": True}, {"create_graph": False}, {"batch_norm": True}],
    ids=["one-alpha", "no-create-graph", "batch-norm-of-grad"],
)
def test_the_gradient_penalty_check_catches_the_classic_bugs(bug):
    check_gradient_penalty(_broken_penalty())  # with no bug switched on, the copy passes: the bug is what fails it
    with pytest.raises((AssertionError, RuntimeError)):
        check_gradient_penalty(_broken_penalty(**bug))


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
