"""``ganzoo score``: any samples against a dataset, a folder or saved statistics, in the bench's metrics, agreeing with
torch-fidelity on the same images and weights, with an interval that says how sure each number is."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from ganzoo.cli import main
from ganzoo.metrics.fidelity import Reference, fid_from_features
from ganzoo.metrics.intervals import bootstrap, frechet_fast
from ganzoo.score_inputs import ScoreInputError
from ganzoo.scoring import ScoreRequest, run_score


def _pngs(folder: Path, images: np.ndarray) -> Path:
    folder.mkdir(parents=True)
    for i, a in enumerate(images):
        Image.fromarray(a).save(folder / f"{i:03d}.png")
    return folder


def _blobs(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """``n`` 16x16 RGB uint8 images: smooth colour fields, ``shift`` moving the second set away from the first."""
    rng = np.random.default_rng(seed)
    base = rng.normal(128 + shift, 40, size=(n, 4, 4, 3))
    return np.clip(np.kron(base, np.ones((1, 4, 4, 1))), 0, 255).astype(np.uint8)


def test_fid_kid_precision_recall_equal_torch_fidelitys_on_the_same_images_and_weights(
    tmp_path, random_inception_weights
):
    inception_weights = random_inception_weights
    import torch_fidelity

    fake = _pngs(tmp_path / "fake", _blobs(16, 1, shift=30))
    real = _pngs(tmp_path / "real", _blobs(16, 2))
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            str(fake),
            "--reference",
            str(real),
            "--features",
            "inception",
            "--features-weights",
            str(inception_weights),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--bootstrap",
            "0",
            "--out",
            str(out),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    ours = pd.read_csv(out).set_index("metric")["value"]
    theirs = torch_fidelity.calculate_metrics(
        input1=str(fake),
        input2=str(real),
        cuda=False,
        fid=True,
        kid=True,
        prc=True,
        feature_extractor="inception-v3-compat",
        feature_extractor_weights_path=str(inception_weights),
        kid_subsets=10,
        kid_subset_size=16,
        cache=False,
        verbose=False,
    )
    assert ours["fid"] > 1e-3 and abs(ours["kid"]) > 1e-6  # numbers, not round-off: the features are of order 0.1-1
    assert ours["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-4)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-4)
    assert ours["precision"] == pytest.approx(theirs["precision"], abs=1e-9)
    assert ours["recall"] == pytest.approx(theirs["recall"], abs=1e-9)
    # P and Q swapped is a different number: the test would catch a reference passed as the samples
    swapped = torch_fidelity.calculate_metrics(
        input1=str(real),
        input2=str(fake),
        cuda=False,
        prc=True,
        feature_extractor="inception-v3-compat",
        feature_extractor_weights_path=str(inception_weights),
        cache=False,
        verbose=False,
    )
    assert (swapped["precision"], swapped["recall"]) != (theirs["precision"], theirs["recall"])
    rows = pd.read_csv(out)
    assert set(rows["features"]) == {"inception"} and rows["resize"].iloc[0].startswith("bilinear to 299")
    assert set(rows["reference_images"]) == {16} and set(rows["generated_images"]) == {16}


class _StandIn(torch.nn.Module):
    """A small stand-in for a hub extractor: uint8 RGB in, 16 features out, as torch-fidelity's extractors answer."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(3 * 4 * 4, 16)

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.shape[1] == 3
        return (self.proj(torch.nn.functional.adaptive_avg_pool2d(x.float() / 255, 4).flatten(1)),)


@pytest.fixture
def dinov2_stand_in(tmp_path, monkeypatch):
    from ganzoo.metrics import features

    hub = tmp_path / "hub"
    (hub / "facebookresearch_dinov2_main").mkdir(parents=True)
    (hub / "checkpoints").mkdir()
    (hub / "checkpoints" / "dinov2_vitl14_pretrain.pth").write_bytes(b"stand-in weights")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setattr(features, "pretrained_extractor", lambda name, layer, weights: _StandIn())
    return hub


def test_dinov2_space_with_saved_reference_statistics_round_trip(tmp_path, dinov2_stand_in):
    fake = _pngs(tmp_path / "fake", _blobs(40, 1, shift=20))
    real = _pngs(tmp_path / "real", _blobs(50, 2))
    stats = tmp_path / "real.npz"
    common = dict(features="dinov2-vit-l-14", cache_dir=tmp_path / "cache", bootstrap=20)
    rows, _ = run_score(ScoreRequest(str(fake), str(real), save_reference=stats, **common))
    by = {r["metric"]: r for r in rows}
    assert by["fid"]["resize"].startswith("uint8 RGB, bilinear to 224x224") and "ImageNet" in by["fid"]["resize"]
    assert by["fid"]["ci_low"] <= by["fid"]["value"] <= by["fid"]["ci_high"]
    with np.load(stats, allow_pickle=False) as z:
        assert (
            str(z["features"]) == "dinov2-vit-l-14" and z["real_features"].shape == (50, 16) and z["mu"].shape == (16,)
        )
    again, _ = run_score(ScoreRequest(str(fake), str(stats), **common))
    for row in again:
        if row["metric"] in ("fid", "kid", "precision", "recall", "density", "coverage"):
            assert row["value"] == pytest.approx(by[row["metric"]]["value"], rel=1e-9), row["metric"]
    stats_only = tmp_path / "mu-sigma.npz"
    run_score(ScoreRequest(str(fake), str(real), save_reference=stats_only, reference_features=False, **common))
    fid_only, _ = run_score(ScoreRequest(str(fake), str(stats_only), **common))
    assert [r["metric"] for r in fid_only] == ["fid"] and fid_only[0]["value"] == pytest.approx(
        by["fid"]["value"], rel=1e-9
    )
    with pytest.raises(ScoreInputError, match="saved in feature space 'dinov2-vit-l-14'; score in the same one"):
        run_score(ScoreRequest(str(fake), str(stats), features="clip-vit-b-32", cache_dir=tmp_path / "cache"))


def test_dinov2_offline_without_the_hub_cache_says_what_to_download(tmp_path, monkeypatch):
    from ganzoo.metrics import features

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    monkeypatch.setattr(features, "hub_reachable", lambda timeout=3.0: False)
    images = _pngs(tmp_path / "x", _blobs(12, 0))
    result = CliRunner().invoke(
        main, ["score", str(images), "--reference", str(images), "--features", "dinov2-vit-l-14"]
    )
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert (
        "\n" not in line
        and "torch.hub.load('facebookresearch/dinov2', 'dinov2_vitl14')" in line
        and "TORCH_HOME" in line
    )


def test_a_run_folder_scores_as_its_bench_evaluated_it(tmp_path):
    """The run's weights generate the bench's own evaluation samples (same noise seed, same count), so the score of
    its folder equals the fid the bench wrote at its last step."""
    from ganzoo.config import BenchConfig
    from ganzoo.results import read_results
    from ganzoo.runner import run_bench

    out = tmp_path / "b"
    run_bench(
        BenchConfig(variants=["gan"], dataset="digits", budget="3steps", seeds=[2], metrics=["fidelity"], out=out)
    )
    df = read_results(out)
    final = df[(df["metric"] == "fid") & (df["step"] == 3)].iloc[0]
    rows, record = run_score(
        ScoreRequest(
            str(out / "runs" / "gan-minimax-s2"),
            "digits",
            n=int(final["generated_images"]),
            seed=2,
            metrics=["fidelity"],
            bootstrap=0,
        )
    )
    fid = next(r for r in rows if r["metric"] == "fid")
    assert fid["value"] == pytest.approx(final["value"], rel=1e-9) and fid["reference"] == final["reference"]
    assert record["samples"].startswith("run gan-minimax-s2")
    (out / "runs" / "gan-minimax-s2" / "weights.pt").unlink()
    with pytest.raises(ScoreInputError, match="has no weights.pt"):
        run_score(ScoreRequest(str(out / "runs" / "gan-minimax-s2"), "digits"))


GENERATOR = """
import numpy as np

def good(n):
    return np.random.default_rng(0).integers(0, 255, size=(n, 8, 8, 1)).astype(np.uint8)

def broken(n):
    raise RuntimeError("out of ideas")

def short(n):
    return good(n)[: n // 2]
"""


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda t: t.mkdir() or t, "holds no images"),
        (
            lambda t: _pngs(t, _blobs(3, 0)) and (Image.fromarray(np.zeros((8, 8), np.uint8)).save(t / "z.png") or t),
            "mixes image sizes or modes",
        ),
        (lambda t: _pngs(t, _blobs(5, 0)), "holds 5 samples; the metrics need at least 10"),
        (lambda t: _pngs(t, _blobs(12, 0)), "the samples are 3x16x16 images, the reference is 1x8x8 images"),
        (lambda t: "scoremod:broken", "scoremod:broken(10000) raised RuntimeError: out of ideas"),
        (lambda t: "scoremod:short", "returned 5000 images, not 10000"),
        (lambda t: "scoremod:nothing", "cannot be imported"),
    ],
)
def test_bad_samples_are_one_line_and_write_nothing(tmp_path, monkeypatch, make, message):
    (tmp_path / "scoremod.py").write_text(GENERATOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    samples = make(tmp_path / "samples")
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(main, ["score", str(samples), "--reference", "digits", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()


def test_a_callable_and_an_array_score_against_a_dataset(tmp_path, monkeypatch):
    (tmp_path / "scoremod.py").write_text(GENERATOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    rows, record = run_score(
        ScoreRequest("scoremod:good", "digits", n=200, metrics=["fidelity", "classes"], bootstrap=10)
    )
    by = {r["metric"]: r for r in rows}
    assert {"fid", "kid", "precision", "classes_covered"} <= set(by) and record["generated"] == 200
    assert by["fid"]["generated_images"] == 200 and "held out from the feature classifier" in by["fid"]["reference"]
    np.save(tmp_path / "same.npy", __import__("scoremod").good(200))
    again, _ = run_score(
        ScoreRequest(str(tmp_path / "same.npy"), "digits", metrics=["fidelity", "classes"], bootstrap=10)
    )
    assert [r["value"] for r in again] == [r["value"] for r in rows]  # the same images, the same numbers


def test_the_fast_frechet_distance_equals_torch_fidelitys():
    rng = torch.Generator().manual_seed(0)
    real, fake = (
        torch.randn(300, 12, generator=rng, dtype=torch.float64),
        torch.randn(200, 12, generator=rng, dtype=torch.float64) * 1.3 + 0.2,
    )
    ref = Reference.of(real)
    from ganzoo.metrics.intervals import _sqrt_psd

    sigma = torch.as_tensor(ref.stats["sigma"])
    fast = frechet_fast(fake, torch.as_tensor(ref.stats["mu"]), sigma, _sqrt_psd(sigma))
    assert fast == pytest.approx(fid_from_features(fake, ref.stats), rel=1e-9)


def test_the_interval_holds_the_value_where_resampling_with_replacement_drifts_away():
    """Half-samples without replacement, centred: the interval holds the value, and it narrows as samples grow. The
    classic version (resample with replacement, percentile interval) repeats samples, which KID counts as identical
    pairs: its interval lies above KID's own value."""
    from ganzoo.metrics.fidelity import kid_of as _kid

    rng = torch.Generator().manual_seed(0)
    ref = Reference.of(torch.randn(400, 8, generator=rng, dtype=torch.float64))
    fake = torch.randn(400, 8, generator=rng, dtype=torch.float64) + 0.3
    sure = bootstrap(fake, ref, 40)
    kid = _kid(fake, ref)
    assert (
        sure.low["kid"] < kid < sure.high["kid"]
        and sure.low["fid"] < fid_from_features(fake, ref.stats) < sure.high["fid"]
    )
    more = bootstrap(torch.cat([fake, torch.randn(1200, 8, generator=rng, dtype=torch.float64) + 0.3]), ref, 40)
    assert more.high["fid"] - more.low["fid"] < sure.high["fid"] - sure.low["fid"]
    near = torch.randn(200, 8, generator=rng, dtype=torch.float64) + 0.1
    kid = _kid(near, ref)
    halves = np.array([_kid(near[torch.randperm(200, generator=rng)[:100]], ref) for _ in range(60)])
    with_replacement = np.array([_kid(near[torch.randint(200, (200,), generator=rng)], ref) for _ in range(60)])
    se = lambda v: v.std(ddof=1) / np.sqrt(len(v))  # noqa: E731
    assert abs(halves.mean() - kid) < 3 * se(halves)  # KID is unbiased: half-samples centre on it
    assert with_replacement.mean() - kid > 6 * se(with_replacement)  # repeated samples push it up


def test_clip_offline_or_with_a_foreign_file_is_one_line(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    images = _pngs(tmp_path / "x", _blobs(12, 0))
    result = CliRunner().invoke(main, ["score", str(images), "--reference", str(images), "--features", "clip-vit-b-32"])
    assert result.exit_code == 2 and "--features-weights PATH" in result.output and "openaipublic" in result.output, (
        result.output
    )
    foreign = tmp_path / "clip.pt"
    foreign.write_bytes(b"not OpenAI's file")  # TorchScript is code: never opened without the published digest
    result = CliRunner().invoke(
        main,
        [
            "score",
            str(images),
            "--reference",
            str(images),
            "--features",
            "clip-vit-b-32",
            "--features-weights",
            str(foreign),
        ],
    )
    assert result.exit_code == 2 and "is not OpenAI's clip-vit-b-32 weights" in result.output, result.output
    bench = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "dcgan",
            "--features",
            "clip-vit-b-32",
            "--budget",
            "1steps",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert bench.exit_code == 2 and "--features-weights PATH" in bench.output and not (tmp_path / "b").exists(), (
        bench.output
    )


def _bad_inputs(t):
    """(name, SAMPLES, extra options, what the line says): inputs a new user tries, each made under ``t``."""
    import json as _json

    ok = t / "ok.npy"
    np.save(ok, np.random.default_rng(0).integers(0, 255, (12, 8, 8, 1)).astype(np.uint8))
    np.savez(t / "objects.npz", mu=np.array([object()], dtype=object), sigma=np.zeros((1, 1)))
    np.savez(t / "plain.npz", a=np.zeros(3), b=np.zeros(3))
    np.savez(t / "half.npz", mu=np.zeros(3))
    np.save(t / "nan.npy", np.full((12, 1, 8, 8), np.nan, dtype=np.float32))
    (t / "run").mkdir()
    (t / "run" / "weights.pt").write_bytes(b"weights")
    _pngs(t / "run" / "samples", _blobs(4, 0))  # what a run without config.json was read as
    (t / "broken").mkdir()
    (t / "broken" / "weights.pt").write_bytes(b"weights")
    (t / "broken" / "config.json").write_text("{broken")
    (t / "foreign").mkdir()
    (t / "foreign" / "weights.pt").write_bytes(b"weights")
    (t / "foreign" / "config.json").write_text(_json.dumps({"status": "ok"}))
    return [
        (
            "statistics of object arrays",
            ok,
            ["--reference", str(t / "objects.npz")],
            "cannot be read without unpickling",
        ),
        ("an .npz of neither", ok, ["--reference", str(t / "plain.npz")], "neither images nor statistics"),
        ("statistics without sigma", ok, ["--reference", str(t / "half.npz")], "reference statistics without"),
        ("a NaN array", t / "nan.npy", ["--reference", "digits"], "NaN or inf"),
        ("a NaN reference", ok, ["--reference", str(t / "nan.npy")], "NaN or inf"),
        ("a run without config.json", t / "run", ["--reference", "digits"], "config.json is missing"),
        ("a broken config.json", t / "broken", ["--reference", "digits"], "config.json cannot be read"),
        ("a foreign config.json", t / "foreign", ["--reference", "digits"], "not a ganzoo run's record"),
        (
            "--out where nothing can be written",
            ok,
            ["--reference", "digits", "--out", "/proc/x.csv"],
            "cannot be written",
        ),
        ("--out a folder", ok, ["--reference", "digits", "--out", str(t / "run.csv")], None),
        ("a misspelt dataset", ok, ["--reference", "digitz"], "nor an installed dataset"),
        ("no such samples", t / "nowhere", ["--reference", "digits"], "no such folder or file"),
    ]


def test_bad_score_inputs_are_one_line_before_torch_loads_and_write_nothing(tmp_path):
    """Each input above: exit 2, one line naming it, nothing written, and answered before torch is imported (before:
    tracebacks for the first and the /proc --out, run folders read as their 4 sample sheets, numpy's warnings
    before the line, and 4-6 s of imports first)."""
    (tmp_path / "run.csv").mkdir()
    cases = _bad_inputs(tmp_path)
    code = (
        "import atexit, sys; atexit.register(lambda: print('torch imported:', 'torch' in sys.modules, file=sys.stderr)); "
        "from ganzoo.cli import main; main()"
    )
    for name, samples, options, message in cases:
        out = subprocess.run(
            [sys.executable, "-c", code, "score", str(samples), *options], capture_output=True, text=True, cwd=tmp_path
        )
        lines = [line for line in (out.stdout + out.stderr).strip().splitlines() if line]
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        assert lines[-1] == "torch imported: False" and len(lines) == 2, (name, lines)
        assert lines[0].startswith("Error: ") and (message is None or message in lines[0]), (name, lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ok.npy", "objects.npz", "plain.npz", "half.npz", "nan.npy", "run", "broken", "foreign", "run.csv"]
    )


def test_a_pickled_or_foreign_weights_file_is_one_line_without_torchs_warnings(tmp_path):
    np.save(tmp_path / "ok.npy", np.random.default_rng(0).integers(0, 255, (12, 8, 8, 1)).astype(np.uint8))

    class Boom:
        def __reduce__(self):
            return (print, ("unpickled",))

    (tmp_path / "pickled.pth").write_bytes(pickle.dumps({"fc.weight": Boom()}, protocol=2))
    (tmp_path / "foreign.pth").write_bytes(b"not a weights file")
    for weights, said in (("pickled.pth", "Unsupported global"), ("foreign.pth", "not a file torch.load reads")):
        args = ["score", str(tmp_path / "ok.npy"), "--reference", "digits", "--features", "inception"]
        result = CliRunner().invoke(main, [*args, "--features-weights", str(tmp_path / weights)])
        assert result.exit_code == 2 and said in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "unpickled" not in result.output, result.output


def _simulation():
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("interval_simulation", REPO / "benchmarks" / "intervals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_intervals_cover_the_expected_fid_when_both_sides_are_resampled():
    """benchmarks/intervals.py at a small size: Gaussian features whose FID is known. The interval for E[FID_n]
    resamples the reference as well as the generated set; the classic wrong version (the generated side only, as
    ganzoo did before) is narrower than the true spread and covers E[FID_n] less often than it claims."""
    out = _simulation().simulate(d=8, n=300, repeats=60, rounds=30, truth_draws=300, ref_multiple=5)
    assert out["coverage, both sides"] >= 0.88, out
    assert out["width / true, generated side only"] < 0.95 < out["width / true, both sides"], out  # 0.84 and 1.20
    assert out["coverage, generated side only"] < out["coverage, both sides"], out


def test_fid_infinity_is_refused_in_one_line_where_the_samples_are_too_few_for_the_dimension(tmp_path):
    """Chong & Forsyth fit sizes from about 2.4 x the feature dimension up: 100 samples in 64 dimensions cannot be
    extrapolated (before: sizes from 20, a third of the dimension)."""
    from ganzoo.metrics.intervals import fid_infinity

    rng = torch.Generator().manual_seed(0)
    ref = Reference.of(torch.randn(2000, 64, generator=rng, dtype=torch.float64))
    with pytest.raises(ValueError, match="FID∞ needs at least 308 samples in 64-d features"):
        fid_infinity(torch.randn(100, 64, generator=rng, dtype=torch.float64), ref)
    value, note = fid_infinity(torch.randn(400, 64, generator=rng, dtype=torch.float64), ref)
    assert "154.." in note and np.isfinite(value)
