"""The configuration and the plan: ``--set`` values in their one form (parsed, rendered as flags and as the
settings column, read back), and the checks that refuse a bad bench before torch or a plugin loads."""

from __future__ import annotations

import json

import pytest

from ganzoo import config as configuration
from ganzoo.config import BenchConfig, BenchInputError, Settings
from ganzoo.presets import PRESETS


def test_settings_parse_render_and_read_back():
    items = ["pacgan4.pack=4", "pacgan4.lr=1e-4", "wasserstein-gp.gp_weight=5", "x.url=a=b"]
    values = Settings.parse(items)
    assert values == {"pacgan4": {"pack": "4", "lr": "1e-4"}, "wasserstein-gp": {"gp_weight": "5"}, "x": {"url": "a=b"}}
    assert (
        Settings.parse([f.removeprefix("--set ") for f in Settings.flags(values)]) == values
    )  # flags give the same values
    column = Settings.column({"pack": 4, "lr": 1e-4, "wasserstein-gp.gp_weight": 5})
    assert column == "lr=0.0001;pack=4;wasserstein-gp.gp_weight=5"  # sorted, so equal settings are equal text
    assert Settings.read_column(column) == {"lr": "0.0001", "pack": "4", "wasserstein-gp.gp_weight": "5"}
    assert Settings.read_column("") == {}


@pytest.mark.parametrize("item", ["pack=4", "gan.pack", ".pack=4", "gan.=4"])
def test_settings_refuse_an_item_not_of_the_form(item):
    with pytest.raises(ValueError, match="is not NAME.PARAM=VALUE"):
        Settings.parse([item])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"budget": "10parsecs"}, "invalid budget"),
        ({"eval_every": "nope"}, "invalid budget"),
        ({"seeds": []}, "seeds must be"),
        ({"features": "dino"}, "unknown feature space 'dino'"),
        ({"workers": 0}, "--workers must be at least 1"),
        ({"threads": 0}, "--threads must be at least 1"),
        ({"executor": "slurm"}, "unknown executor 'slurm'"),
        ({"metrics": []}, "--metrics names no metric"),
    ],
)
def test_the_torch_free_checks_name_the_bad_value(change, message):
    with pytest.raises(BenchInputError, match=message):
        configuration.check(BenchConfig(**change))


def test_the_torch_free_checks_pass_a_good_config_and_parse_its_budgets():
    budget, every, checkpoint = configuration.check(BenchConfig(budget="2000steps", checkpoint_every="100steps"))
    assert (budget.amount, every.amount, checkpoint.amount) == (2000, 500, 100)


def test_every_preset_passes_the_torch_free_checks():
    for preset in PRESETS.values():
        configuration.check(preset.config())


def test_a_trial_spec_is_self_contained(tmp_path):
    """A trial runs from its spec alone, pickled as a worker receives it: no config, no planner. Labels, every
    settings layer and the folder are resolved in it."""
    import pickle

    from ganzoo.factory import load_data
    from ganzoo.plan import plan
    from ganzoo.trial import run_trial

    p = plan(
        BenchConfig(
            variants=["narrow=gan"],
            dataset="ring8",
            budget="4steps",
            seeds=[3],
            batch_size=16,
            metrics=["modes"],
            settings={"narrow": {"d_layers": "1"}},
            out=tmp_path / "o",
        )
    )
    spec = pickle.loads(pickle.dumps(p.runs[0]))
    assert (spec.run_id, spec.plugin, spec.settings) == ("narrow-minimax-s3", "gan", "batch_size=16;d_layers=1")
    assert spec.folder == tmp_path / "o" / "runs" / "narrow-minimax-s3" and spec.budget.text == "4steps"
    assert spec.packages["variant"].startswith("ganzoo") and set(spec.code["plugins"]) == {
        "variant:gan",
        "divergence:minimax",
        "dataset:ring8",
        "metric:modes",
    }
    del p
    rows = []
    assert run_trial(spec, load_data(spec.source), {}, rows.extend).status == "ok"
    record = json.loads((spec.folder / "config.json").read_text())
    assert (
        record["variant_plugin"] == "gan" and record["hparams"]["d_layers"] == 1 and record["settings"] == spec.settings
    )
    assert {r.settings for r in rows} == {spec.settings} and rows[-1].metric == "status" and rows[-1].step == 4
