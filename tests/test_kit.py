"""The conformance kit (ganzoo.testing) over every built-in plugin, over a package `ganzoo new` generates
(which passes its own tests unchanged), and over broken plugins (which fail with the broken rule named)."""

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ganzoo import registry
from ganzoo.cli import main
from ganzoo.scaffold import KINDS, new_plugin
from ganzoo.testing import CHECKS, Configured, parametrize_with_checks, run_checks

# the translation variants' training checks take minutes on 2 cores: slow here (run with -m slow);
# tests/test_translation.py and tests/test_reliability.py check that they learn and resume
TRANSLATION_TRAINING = [
    f"{v}-{c}"
    for v in ("cyclegan", "stargan")
    for c in (
        "learns_on_a_tiny_dataset",
        "training_is_deterministic_under_a_seed",
        "state_restores_the_identical_next_step",
    )
]
# tests/test_learning.py already trains every variant longer on real data: the kit's learning check runs on
# gan here (and on the generated packages below), on the others with -m slow
LEARNING = [f"{v}-learns_on_a_tiny_dataset" for v in registry.variants.names(package="ganzoo") if v != "gan"]


# SNGAN's networks at a sixteenth of their width (ngf 16, ndf 8): the same layers, seconds instead of minutes on 2 cores
NARROW = {"sngan": {"ngf": 16, "ndf": 8}, "cgan-pd": {"ngf": 16, "ndf": 8}}
BUILT_IN = [Configured(v, **NARROW[v]) if v in NARROW else v for v in registry.variants.names(package="ganzoo")]


@parametrize_with_checks("variants", BUILT_IN, slow=TRANSLATION_TRAINING + LEARNING)
def test_built_in_variants_keep_the_contract(plugin, check):
    check(plugin)


@parametrize_with_checks("divergences", registry.divergences.names(package="ganzoo"))
def test_built_in_divergences_keep_the_contract(plugin, check):
    check(plugin)


@parametrize_with_checks("datasets", registry.datasets.names(package="ganzoo"))
def test_built_in_datasets_keep_the_contract(plugin, check):
    check(plugin)


@parametrize_with_checks("metrics", registry.metrics.names(package="ganzoo"))
def test_built_in_metrics_keep_the_contract(plugin, check):
    check(plugin)


def _site(tmp_path, packages):
    """What `pip install -e` gives each generated package: its folder on the path and a dist-info
    carrying its entry points (read from its own pyproject.toml)."""
    import tomllib

    site = tmp_path / "site"
    site.mkdir()
    paths = [str(site)]
    for folder in packages:
        meta = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
        lines = [
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
            for group, eps in meta["entry-points"].items()
        ]
        (info / "entry_points.txt").write_text("".join(lines))
        paths.append(str(folder))
    return paths


def test_generated_packages_pass_their_own_tests_unchanged(tmp_path):
    folders = []
    for kind in KINDS:
        folder = tmp_path / f"ganzoo-my{kind}"
        files = new_plugin(kind, f"my{kind}", folder)
        assert any("CHANGE" in f.read_text() for f in files if f.suffix == ".py")
        folders.append(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(_site(tmp_path, folders) + [os.environ.get("PYTHONPATH", "")])}
    tests = [str(f / "tests") for f in folders]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib", *tests],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|skipped)", run.stdout))
    assert counts.get("passed", 0) + counts.get("skipped", 0) == sum(len(CHECKS[g]) for g in KINDS.values()), (
        run.stdout[-2000:]
    )
    assert (
        counts.get("skipped", 0) <= 2
    )  # AMP where there is no CUDA; the generated variant draws the default sample sheet


BROKEN = """
import torch
from torch import nn
from ganzoo import SampleSheet, StepOutput, Variant, Divergence, check_scores

class GlobalNoise(Variant):
    description = "draws evaluation noise from the global RNG"

    def __init__(self, *, info, divergence, batch_size=64, width=None):
        super().__init__(info=info, divergence=divergence, batch_size=batch_size)
        self.G = nn.Sequential(nn.Linear(4, 2))
        self.D = nn.Sequential(nn.Linear(2, 1))

    def discriminator_loss(self, batch):
        return self.adversarial_d(self.D, batch.x, self.G(torch.randn(len(batch.x), 4)).detach())

    def generator_loss(self, batch):
        return StepOutput(losses={"adv": self.divergence.g_loss(self.D(self.G(torch.randn(self.batch_size, 4))))})

    def generate(self, n, *, generator=None, y=None):
        return self.G(torch.randn(n, 4))

    def sample_sheet(self, *, generator):
        return SampleSheet(self.G(torch.randn(4, 4)), nrow=2)

class FlippedG(Divergence):
    description = "G pushes fakes the wrong way"

    def d_loss(self, real, fake):
        real, fake = check_scores(real, fake)
        return nn.functional.softplus(-real).mean() + nn.functional.softplus(fake).mean()

    def g_loss(self, fake, real=None):
        (fake,) = check_scores(fake)
        return nn.functional.softplus(fake).mean()
"""


def test_broken_plugins_fail_with_the_broken_rule_named(install_dist):
    install_dist(
        "thirdparty-broken-kit",
        {"thirdparty_kit": BROKEN},
        {
            "ganzoo.variants": {"globalnoise": "thirdparty_kit:GlobalNoise"},
            "ganzoo.divergences": {"flippedg": "thirdparty_kit:FlippedG"},
        },
    )
    variant = {r.check: r for r in run_checks("globalnoise")}
    assert variant["generation_uses_the_given_generator_only"].status == "failed"
    assert "global RNG" in variant["generation_uses_the_given_generator_only"].message
    assert (
        variant["hyperparameters"].status == "failed"
        and "'width' defaults to None" in variant["hyperparameters"].message
    )
    assert variant["class_attributes"].status == "passed"
    assert (
        variant["sample_sheet"].status == "failed"
        and "sample_sheet drew from torch's global RNG" in variant["sample_sheet"].message
    )
    divergence = {r.check: r for r in run_checks("flippedg")}
    assert divergence["d_and_g_agree_on_which_way_is_real"].status == "failed"
    assert "sign flipped" in divergence["d_and_g_agree_on_which_way_is_real"].message
    assert divergence["losses_are_finite_scalars_with_gradients"].status == "passed"
    result = CliRunner().invoke(main, ["check", "flippedg"])
    assert result.exit_code == 1 and "sign flipped" in result.output and "thirdparty-broken-kit 1.2.3" in result.output


def test_a_broken_unrelated_plugin_does_not_stop_the_kit(install_dist):
    install_dist(
        "thirdparty-broken",
        {"thirdparty_broken": "raise ImportError('needs libfoo')\n"},
        {"ganzoo.variants": {"broken": "thirdparty_broken:X"}},
    )
    assert {r.status for r in run_checks("nonsaturating")} == {"passed"}
    broken = run_checks("broken")
    assert all(r.status == "failed" and "needs libfoo" in r.message for r in broken), broken


def test_check_and_new_refuse_bad_input_in_one_line(tmp_path):
    for args, needle in (
        (["check", "nosuch"], "unknown plugin 'nosuch'"),
        (["new", "variant", "../x", "--out", str(tmp_path / "x")], "plugin name '../x'"),
        (["new", "sampler", "x"], "Invalid value"),
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and needle in result.output, result.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("")
    result = CliRunner().invoke(main, ["new", "variant", "x", "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2 and "already holds files" in result.output


# the kit checks a plugin with parameters too: PacGAN4 as the 2-D presets run it
PACKED = Configured("gan", pack=4, update="simultaneous")


@parametrize_with_checks(
    "variants", [PACKED], slow=[f"gan-{c.name}" for c in CHECKS["variants"]]
)  # the plain gan runs them by default
def test_a_packed_simultaneous_gan_keeps_the_contract(plugin, check):
    check(plugin)


def test_a_configured_name_is_built_with_its_parameters():
    from ganzoo import testing

    data = testing.stand_in_data(registry.variants.get("gan"))
    packed, plain = testing._build(PACKED, data), testing._build("gan", data)
    assert (packed.variant.hparams()["pack"], packed.training.update) == (
        4,
        "simultaneous",
    ) and plain.variant.hparams()["pack"] == 1
    assert PACKED == "gan" and repr(PACKED) == "gan[pack=4,update=simultaneous]"


def test_check_takes_parameters_and_refuses_unknown_ones_in_one_line():
    ok = CliRunner().invoke(main, ["check", "wasserstein-gp", "--set", "gp_weight=5"])
    assert ok.exit_code == 0 and "wasserstein-gp[gp_weight=5.0]" in ok.output, ok.output  # typed as its default's type
    bad = CliRunner().invoke(main, ["check", "gan", "--set", "packs=2"])
    lines = [line for line in bad.output.splitlines() if line.strip()]
    assert bad.exit_code == 2 and len(lines) == 1 and "no parameter 'packs'" in lines[0], bad.output


def test_a_check_that_cannot_apply_is_reported_skipped_not_passed():
    """The VAE has no discriminator: the simultaneous-update check says it was skipped, and why (it used to return
    early and read as passed)."""
    from ganzoo import testing

    joint = next(c for c in CHECKS["variants"] if "joint_losses" in c.name)
    with pytest.raises(testing.CheckSkipped, match="no discriminator"):
        joint("vae")
