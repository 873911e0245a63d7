"""What acts around the step: the linear learning-rate decay (Mimicry's) and the moving average of G's weights
that evaluation scores, each against the value computed by hand and the classic wrong version."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from ganzoo import registry
from ganzoo.cli import main
from ganzoo.data import BatchSampler
from ganzoo.factory import VariantSpec, create_variant
from ganzoo.trainer import Trainer


def _trainer(**settings):
    data = registry.datasets.get("digits").load(name="digits", data_dir=None, split="auto", download=False)
    torch.manual_seed(0)
    built = create_variant(VariantSpec("dcgan", "dcgan", "nonsaturating", {"batch_size": 16, **settings}), data.info)
    return built.variant, Trainer(built.variant, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training)


def _lrs(trainer):
    return [g["lr"] for opt in (trainer.d_opt, trainer.g_opt) for g in opt.param_groups]


def test_linear_decay_is_taken_from_the_initial_rate_and_survives_a_checkpoint():
    _, t = _trainer(lr_decay="linear", lr=1e-3)
    t.anneal(0.25)
    assert _lrs(t) == [0.75e-3, 0.75e-3]
    t.anneal(0.5)
    t.anneal(0.5)  # the classic wrong version compounds: 1e-3 x 0.75 x 0.5 x 0.5
    assert _lrs(t) == [0.5e-3, 0.5e-3]
    state = t.state_dict()
    _, resumed = _trainer(lr_decay="linear", lr=1e-3)
    resumed.load_state_dict(state)
    resumed.anneal(0.6)  # from the initial rate the checkpoint kept, not from the decayed one it holds
    assert all(abs(lr - 0.4e-3) < 1e-15 for lr in _lrs(resumed))
    _, plain = _trainer(lr=1e-3)
    plain.anneal(0.9)
    assert _lrs(plain) == [1e-3, 1e-3]


def test_evaluation_scores_the_moving_average_of_gs_weights():
    v, t = _trainer(ema=0.9)
    history = []
    for _ in range(3):
        t.step()
        history.append({k: p.detach().clone() for k, p in v.G.state_dict().items()})
    expected = {}
    for k in history[0]:
        if not history[0][k].is_floating_point():
            continue
        e = history[0][k]  # the average starts at G's weights after the first update
        for h in history[1:]:
            e = 0.9 * e + 0.1 * h[k]
        expected[k] = e
    with t.evaluated():
        shown = v.G.state_dict()
        for k, e in expected.items():
            assert torch.allclose(shown[k], e, atol=1e-6), k
        weight = next(k for k in expected if k.endswith("weight"))
        assert not torch.allclose(shown[weight], history[-1][weight])  # the classic wrong version scores G itself
    assert all(torch.equal(v.G.state_dict()[k], history[-1][k]) for k in expected)  # G's own weights back after


def test_a_run_with_a_moving_average_keeps_both_generators_and_says_so(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["bench", "--dataset", "digits", "--variants", "dcgan", "--budget", "3steps", "--out", str(out)]
        + ["--set", "dcgan.ema=0.5", "--set", "dcgan.lr_decay=linear", "--metrics", "fidelity"],
    )
    assert result.exit_code == 0, result.output
    run = next((out / "runs").iterdir())
    weights = torch.load(run / "weights.pt", weights_only=True)
    g, trained = weights["generators"]["G"], weights["generators_trained"]["G"]
    assert any(not torch.equal(g[k], trained[k]) for k in g if g[k].is_floating_point())
    settings = json.loads((run / "config.json").read_text())["hparams"]
    assert settings["ema"] == 0.5 and settings["lr_decay"] == "linear"


@pytest.mark.parametrize(
    "flags, recorded",
    [
        (["--channels-last"], {"channels_last": True, "compile": False}),
        pytest.param(["--compile"], {"compile": True}, marks=pytest.mark.slow),
    ],
)
def test_speed_options_are_recorded_and_train(tmp_path, flags, recorded):
    """Channels-last and torch.compile train the same variant and say so in config.json; compile's first step (its
    kernels being built) is timed apart from the device seconds."""
    out = tmp_path / "out"
    args = ["bench", "--dataset", "digits", "--variants", "dcgan", "--budget", "3steps", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--metrics", "fidelity", *flags])
    assert result.exit_code == 0, result.output
    config = json.loads(next((out / "runs").iterdir()).joinpath("config.json").read_text())
    assert all(config[k] == v for k, v in recorded.items())
    assert ("compile_warmup_seconds" in config) == ("--compile" in flags)
