"""What plugins declare and the runner honours: a dataset that describes itself from --data-dir (the
built-in image-folder), a metric that says whether it can score a dataset and why not, --set reaching
divergences and metrics, a variant's view of its progress and its own sample sheet, and the values a
metric puts in the summary."""

from __future__ import annotations

import json
import re

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from ganzoo import DataKind, DatasetInfo, Progress, SampleSheet, registry
from ganzoo.cli import main
from ganzoo.config import BenchConfig, BenchInputError
from ganzoo.data import describe_dataset
from ganzoo.factory import create_variant, load_data
from ganzoo.metrics.base import EvalOptions
from ganzoo.plan import choose_metrics, plan
from ganzoo.results import read_results
from ganzoo_plugins.datasets.image_folder import ImageFolder
from ganzoo_plugins.variants.gan import GAN


def _png(path, value: int, size=(12, 10)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, 255 - value, 30)).save(path)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A flat folder of 6 images and a folder of three classes (b: 2 images, a: 3, c: 1; sorted a, b, c)."""
    root = tmp_path_factory.mktemp("images")
    for i in range(6):
        _png(root / "flat" / f"{i}.png", 40 * i)
    for cls, n in (("b", 2), ("a", 3), ("c", 1)):
        for i in range(n):
            _png(root / "classes" / cls / f"{i}.jpg", 20 * i + 100)
    (root / "classes" / "notes.d").mkdir()  # a folder without images is not a class
    return root


def test_image_folder_describes_itself_from_the_folder(folders):
    flat = describe_dataset(ImageFolder, None, folders / "flat")
    assert flat.kind is DataKind.UNCONDITIONAL and flat.shape == (3, 64, 64) and flat.num_classes == 0
    classes = describe_dataset(ImageFolder, "16,gray", folders / "classes")
    assert classes.kind is DataKind.LABELLED and classes.shape == (1, 16, 16) and classes.num_classes == 3
    assert describe_dataset(ImageFolder, "flat", folders / "classes").kind is DataKind.UNCONDITIONAL
    assert describe_dataset(ImageFolder, None, folders / "classes" / "a").kind is DataKind.UNCONDITIONAL


def test_image_folder_loads_resized_images_with_classes_in_sorted_order(folders):
    data = ImageFolder.load(
        name="image-folder:8", data_dir=folders / "classes", split="auto", download=False, argument="8"
    )
    assert tuple(data.x.shape) == (6, 3, 8, 8) and data.x.dtype == torch.float32
    assert data.x.min() >= -1 and data.x.max() <= 1
    assert data.y.tolist() == [0, 0, 0, 1, 1, 2]  # a (3), b (2), c (1): sub-folders sorted, not as created
    # the red channel holds each image's own value: the files were read, in order, not one repeated
    assert data.x[0, 0].mean() < data.x[1, 0].mean() < data.x[2, 0].mean()
    flat = ImageFolder.load(name="f", data_dir=folders / "flat", split="auto", download=False, argument="8,gray")
    assert flat.y is None and tuple(flat.x.shape) == (6, 1, 8, 8)
    assert "a: 3, b: 2, c: 1" in data.source
    from ganzoo.testing import check_data

    check_data(data, describe_dataset(ImageFolder, "8", folders / "classes"))  # the kit's rules for a loaded dataset
    check_data(flat, describe_dataset(ImageFolder, "8,gray", folders / "flat"))


@pytest.mark.parametrize(
    "argument, layout, message",
    [
        ("7", "flat", "outside 8..512"),
        ("64,sepia", "flat", "unknown option 'sepia'"),
        (None, "mixed", "beside sub-folders"),
        (None, "empty", "no images"),
        (None, None, "give the folder of images with --data-dir"),
    ],
)
def test_image_folder_refuses_what_it_cannot_use(folders, tmp_path, argument, layout, message):
    root = None
    if layout == "flat":
        root = folders / "flat"
    elif layout == "mixed":
        root = tmp_path / "mixed"
        _png(root / "top.png", 1)
        _png(root / "cats" / "1.png", 2)
    elif layout == "empty":
        root = tmp_path / "empty"
        (root / "sub").mkdir(parents=True)
        (root / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=message):
        describe_dataset(ImageFolder, argument, root)


def test_a_file_that_does_not_decode_is_named(tmp_path):
    _png(tmp_path / "good.png", 5)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"broken\.png cannot be read as an image"):
        ImageFolder.load(name="x", data_dir=tmp_path, split="auto", download=False)


def test_an_unlabelled_folder_benches_without_the_classifier_metrics_and_says_why(folders, tmp_path):
    out = tmp_path / "out"
    args = [
        "bench",
        "--dataset",
        "image-folder:8",
        "--data-dir",
        str(folders / "flat"),
        "--variants",
        "dcgan",
        "--budget",
        "2steps",
        "--batch-size",
        "4",
    ]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "metric left out: fidelity" in said and "--features inception works without labels" in said
    df = read_results(out)
    assert set(df.query("metric == 'status'")["detail"]) == {"ok"} and "fid" not in set(df["metric"])
    assert (out / "runs" / "dcgan-nonsaturating-s0" / "samples" / "step-0000002.png").is_file()
    assert "fidelity" in json.loads((out / "bench.json").read_text())["metrics_left_out"]
    refused = CliRunner().invoke(main, [*args, "--metrics", "fidelity", "--out", str(tmp_path / "o2")])
    assert refused.exit_code == 2 and "metric 'fidelity' cannot score dataset 'image-folder:8'" in " ".join(
        refused.output.split()
    )
    assert not (tmp_path / "o2").exists()
    no_dir = CliRunner().invoke(
        main, ["bench", "--dataset", "image-folder", "--budget", "2steps", "--out", str(tmp_path / "o3")]
    )
    assert no_dir.exit_code == 2 and "--data-dir" in no_dir.output


def test_fidelity_says_why_it_cannot_score_unlabelled_data():
    unlabelled = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(3, 32, 32))
    labelled = DatasetInfo(kind=DataKind.LABELLED, shape=(3, 32, 32), num_classes=4)
    config = BenchConfig(dataset="image-folder")
    chosen, left_out = choose_metrics(config, unlabelled)
    assert "fidelity" not in chosen and "classifier" in left_out["fidelity"]
    assert "fidelity" in choose_metrics(config, labelled)[0]
    inception = BenchConfig(dataset="image-folder", features="inception")
    assert "fidelity" in choose_metrics(inception, unlabelled)[0]  # Inception features need no labels


def test_set_reaches_a_divergence_and_a_metric(tmp_path):
    config = BenchConfig(
        variants=["gan"],
        dataset="ring8",
        divergences=["wasserstein-gp"],
        budget="2steps",
        metrics=["modes"],
        settings={"wasserstein-gp": {"gp_weight": "2.5"}, "gan": {"d_layers": "1"}},
        out=tmp_path / "o",
    )
    p = plan(config)
    assert p.divergence_params == {"wasserstein-gp": {"gp_weight": 2.5}} and p.settings == {"gan": {"d_layers": 1}}
    built = create_variant(p.runs[0].build, p.info)
    variant, record = built.variant, built.record
    assert variant.divergence.gp_weight == 2.5 and record["divergence_params"] == {"gp_weight": 2.5}
    assert p.runs[0].settings == "d_layers=1;wasserstein-gp.gp_weight=2.5"
    for bad, message in (
        (
            {"wasserstein-gp": {"lambda": "1"}},
            "divergence 'wasserstein-gp' has no parameter 'lambda'; it accepts gp_weight=10.0",
        ),
        ({"wasserstein-gp": {"gp_weight": "ten"}}, "gp_weight=ten: not a float"),
        ({"hinge": {"x": "1"}}, "--set names 'hinge', which this bench does not use"),
        ({"fidelity": {"max_samples": "10"}}, "--set names 'fidelity'"),
    ):  # fidelity is not among --metrics modes
        with pytest.raises(BenchInputError, match=re.escape(message)):
            plan(BenchConfig(**{**config.__dict__, "settings": bad}))


def test_a_metric_parameter_reaches_the_metric(tmp_path):
    from ganzoo.evaluation import prepare_metrics

    data = load_data(BenchConfig(dataset="ring8"))
    options = EvalOptions(metrics=("fidelity",), params={"fidelity": {"max_samples": 300, "kid_subsets": 3}})
    metric = prepare_metrics(data, torch.device("cpu"), tmp_path, options)["fidelity"]
    assert metric.num_samples == 300 and metric.kid_subsets == 3 and metric.provenance()["reference_images"] == 300


class _Watcher(GAN):
    """Records the progress it sees before each step, and draws a sheet of its own: 3 rows of 2."""

    seen: list = []
    sheets = 0

    def generator_loss(self, batch):
        _Watcher.seen.append(self.progress)
        return super().generator_loss(batch)

    @torch.no_grad()
    def sample_sheet(self, *, generator):
        _Watcher.sheets += 1
        return SampleSheet(self.generate(6, generator=generator), nrow=2)


def test_a_variant_sees_its_progress_and_draws_its_own_sheet(fresh_registries, tmp_path):
    registry.variants.register("watcher", _Watcher)
    _Watcher.seen, _Watcher.sheets = [], 0
    out = tmp_path / "o"
    from ganzoo.runner import run_bench

    run_bench(BenchConfig(variants=["watcher"], dataset="ring8", budget="8steps", metrics=["modes"], out=out))
    assert [s.step for s in _Watcher.seen] == list(range(8))
    assert [s.fraction for s in _Watcher.seen] == [i / 8 for i in range(8)]
    assert [s.images for s in _Watcher.seen] == [64 * i for i in range(8)]  # one D batch of 64 per step
    assert isinstance(_Watcher.seen[0], Progress)
    # 2-D points: the variant's sheet is scattered over the data at each of the 5 evaluation points (0, 2, 4, 6, 8)
    assert _Watcher.sheets == 5 and (out / "runs" / "watcher-minimax-s0" / "samples" / "step-0000008.png").is_file()


def test_an_image_sheet_is_laid_out_as_the_variant_says(fresh_registries, folders, tmp_path):
    from ganzoo_plugins.variants.dcgan import DCGAN

    class Sheet(DCGAN):
        @torch.no_grad()
        def sample_sheet(self, *, generator):
            return SampleSheet(self.generate(6, generator=generator), nrow=2)

    registry.variants.register("sheet-dcgan", Sheet)
    out = tmp_path / "o"
    from ganzoo.runner import run_bench

    run_bench(
        BenchConfig(
            variants=["sheet-dcgan"],
            dataset="image-folder:8",
            data_dir=folders / "flat",
            budget="1steps",
            batch_size=4,
            out=out,
        )
    )
    picture = Image.open(out / "runs" / "sheet-dcgan-nonsaturating-s0" / "samples" / "step-0000001.png")
    # 8 px images are shown at 32 px; make_grid pads 2 px: 2 columns x 3 rows, not the default 8 x 8
    assert picture.size == (2 + 2 * 34, 2 + 3 * 34)


def test_a_metric_declares_its_summary_values():
    fidelity, modes = registry.metrics.get("fidelity"), registry.metrics.get("modes")
    assert fidelity.summary_values() == ("fid", "kid", "precision", "recall", "coverage")  # not density
    assert "reverse_kl" not in modes.summary_values()

    class Undeclared(fidelity):
        summary = None

    assert Undeclared.summary_values() == tuple(fidelity.directions)  # default: every value with a direction


def test_a_dataset_written_before_info_for_saw_data_dir_still_describes_itself():
    class Old:
        @classmethod
        def info_for(cls, argument):
            return DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(int(argument),), bounded=False)

    assert describe_dataset(Old, "3", data_dir=None).shape == (3,)


def test_a_resumed_trial_sees_the_progress_it_stopped_at(fresh_registries, tmp_path):
    from ganzoo.trial import StopFlag, run_trial

    stop = StopFlag()

    class Stopper(_Watcher):
        def generator_loss(self, batch):
            if self.progress.step == 3 and not _Watcher.seen[3:]:
                stop.signal = 2  # as Ctrl-C would: the trial checkpoints after this step and returns
            return super().generator_loss(batch)

    registry.variants.register("stopper", Stopper)
    _Watcher.seen = []
    p = plan(BenchConfig(variants=["stopper"], dataset="ring8", budget="8steps", metrics=["modes"], out=tmp_path / "o"))
    data, rows = load_data(p.source), []
    first = run_trial(p.runs[0], data, {}, rows.extend, stop=stop)
    assert first.status == "interrupted" and first.spent.steps == 4
    second = run_trial(p.runs[0], data, {}, rows.extend, stop=StopFlag())
    assert second.status == "ok"
    assert [s.step for s in _Watcher.seen] == list(range(8))  # 0-3, then 4-7 after the resume: not 0 again
    assert [s.fraction for s in _Watcher.seen] == [i / 8 for i in range(8)]


def test_each_run_records_its_plugins_and_a_hash_of_their_whole_package(install_dist, tmp_path):
    from ganzoo.runner import run_bench

    root = install_dist("thirdparty-pkg", {}, {"ganzoo.variants": {"pkggan": "thirdparty_pkg.plugin:PkgGAN"}})
    pkg = root / "thirdparty_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text("HIDDEN = 64\n")
    (pkg / "plugin.py").write_text(
        "from ganzoo_plugins.variants.gan import GAN\nfrom thirdparty_pkg.nets import HIDDEN\n\n\n"
        "class PkgGAN(GAN):\n    description = 'a GAN from a package'\n"
    )
    config = BenchConfig(variants=["pkggan"], dataset="ring8", budget="1steps", metrics=["modes"], out=tmp_path / "a")
    run_bench(config)
    code = json.loads((tmp_path / "a" / "runs" / "pkggan-minimax-s0" / "config.json").read_text())["code"]
    assert set(code["plugins"]) == {"variant:pkggan", "divergence:minimax", "dataset:ring8", "metric:modes"}
    assert code["plugins"]["variant:pkggan"]["package"] == "thirdparty-pkg 1.2.3"
    (pkg / "nets.py").write_text("HIDDEN = 32\n")  # a helper module changed, the plugin's own file did not
    again = plan(BenchConfig(**{**config.__dict__, "out": tmp_path / "b"})).code
    assert again["plugins"]["variant:pkggan"]["source_sha256"] != code["plugins"]["variant:pkggan"]["source_sha256"]
    assert again["plugins"]["divergence:minimax"] == code["plugins"]["divergence:minimax"]
