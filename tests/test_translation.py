"""Translation: digit domains with known ground truth, the translation metrics, CycleGAN's image
buffer, and the photo datasets' loading code on tiny files the tests write."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED_MNIST
from PIL import Image

from ganzoo import Data, DataKind, DatasetInfo, Samples, registry
from ganzoo.config import default_cache_dir
from ganzoo.translation import translate_sources, translation_sheet
from ganzoo_plugins.datasets.digit_domains import DOMAINS, make_domains, render, true_translation, unrender
from ganzoo_plugins.variants.cyclegan import ImageBuffer


@pytest.fixture(scope="module")
def domains():
    return registry.datasets.get("digits-domains").load(
        name="digits-domains", data_dir=None, split="auto", download=False
    )


@pytest.fixture(scope="module")
def metric(domains):
    return registry.metrics.get("translation")(data=domains, device=torch.device("cpu"), cache_dir=default_cache_dir())


class Fixed:
    """A translator given as a function: the oracle, the identity, a digit-swapper."""

    device = torch.device("cpu")

    def __init__(self, pairs, fn):
        self.pairs, self.fn = pairs, fn

    def translation_pairs(self):
        return self.pairs

    def translate(self, x, *, source, target):
        return self.fn(x, source, target)


ALL_PAIRS = [(s, t) for s in range(4) for t in range(4) if s != t]


def test_render_and_unrender_are_inverse_and_differ_between_domains():
    grey = torch.rand(6, 1, 8, 8) * 2 - 1
    drawn = [render(grey, d) for d in range(len(DOMAINS))]
    for d, x in enumerate(drawn):
        assert x.shape == (6, 3, 8, 8) and x.min() >= -1 and x.max() <= 1
        torch.testing.assert_close(unrender(x, d), grey)
        for t in range(len(DOMAINS)):
            torch.testing.assert_close(true_translation(x, d, t), drawn[t])
    for a in range(len(drawn)):
        for b in range(a + 1, len(drawn)):
            assert (drawn[a] - drawn[b]).abs().mean() > 0.3


def test_domains_are_unpaired_and_keep_the_content_label():
    n = 103
    grey = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 4, 4) / n  # image i is the constant i/n
    info = DatasetInfo(kind=DataKind.DOMAINS, shape=(3, 4, 4), num_classes=4, domains=DOMAINS, content_classes=10)
    base = Data(
        name="b",
        info=DatasetInfo(kind=DataKind.LABELLED, shape=(1, 4, 4), num_classes=10),
        x=grey,
        y=torch.arange(n) % 10,
        split="all",
        source="test",
    )
    data = make_domains(base, name="d", info=info)
    ids = torch.stack([unrender(data.x[i : i + 1], int(data.y[i]))[0, 0, 0, 0] for i in range(n)]) * n
    ids = ids.round().long()
    assert sorted(ids.tolist()) == list(range(n))  # every base image once, in exactly one domain
    assert torch.equal(data.content, ids % 10)
    counts = torch.bincount(data.y, minlength=4)
    assert counts.max() - counts.min() <= 1


def test_metrics_tell_the_oracle_from_identity_noise_and_digit_swaps(domains, metric):
    gen = lambda: torch.Generator().manual_seed(0)
    oracle = metric.compute(translate_sources(Fixed(ALL_PAIRS, true_translation), domains, 2000, gen()))
    identity = metric.compute(translate_sources(Fixed(ALL_PAIRS, lambda x, s, t: x), domains, 2000, gen()))
    noise = metric.compute(
        translate_sources(Fixed([(0, 1), (1, 0)], lambda x, s, t: torch.rand_like(x) * 2 - 1), domains, 2000, gen())
    )
    assert oracle["domain_accuracy"] > 0.95 and oracle["content_accuracy"] > 0.9
    assert oracle["truth_error"] < 1e-6 and oracle["cycle_error"] < 1e-6
    assert identity["domain_accuracy"] < 0.05 and identity["content_accuracy"] > 0.9 and identity["truth_error"] > 0.5
    assert noise["content_accuracy"] < 0.25 and noise["cycle_error"] > 0.5
    assert oracle["fid"] * 20 < min(identity["fid"], noise["fid"])
    assert {f"fid/{d}" for d in DOMAINS} <= set(oracle) and {f"domain_accuracy/{d}" for d in DOMAINS} <= set(oracle)
    assert (
        identity["truth_error/plain>inverted"] > 1.2
        and identity["truth_error/plain>tinted"] < identity["truth_error/plain>inverted"]
    )
    assert (
        sum(k.startswith("content_accuracy/") for k in oracle) == 12 and oracle["content_accuracy/rotated>plain"] > 0.85
    )
    # a translator that lands in the right domain but draws another digit: domain right, content wrong
    t_images = domains.x[domains.y == 1][:300]
    swapped = Samples(
        x=t_images,
        y=torch.ones(300, dtype=torch.long),
        source=true_translation(t_images, 1, 0),
        source_y=torch.zeros(300, dtype=torch.long),
        source_content=(domains.content[domains.y == 1][:300] + 1) % 10,
    )
    out = metric.compute(swapped)
    assert out["domain_accuracy"] > 0.95 and out["content_accuracy"] < 0.1


@pytest.mark.parametrize("variant, steps", [("cyclegan", 100), ("stargan", 200)])
def test_short_run_reaches_the_target_domain_and_closes_the_cycle(variant, steps, domains, metric):
    from ganzoo.data import BatchSampler
    from ganzoo.factory import VariantSpec, create_variant
    from ganzoo.trainer import Trainer

    torch.manual_seed(0)
    built = create_variant(
        VariantSpec(variant, variant, registry.variants.get(variant).default_divergence), domains.info
    )
    v = built.variant
    trainer = Trainer(v, BatchSampler(domains, seed=0, device=torch.device("cpu")), built.training)

    def scores():
        v.train(False)
        out = metric.compute(translate_sources(v, domains, 2000, torch.Generator().manual_seed(1)))
        v.train(True)
        return out

    before = scores()
    for _ in range(steps):
        trainer.step()
    after = scores()
    assert before["domain_accuracy"] < 0.6 and after["domain_accuracy"] > 0.8, (before, after)
    assert after["cycle_error"] < 0.5 * before["cycle_error"], (before, after)
    assert after["truth_error"] < 0.8 * before["truth_error"], (before, after)
    assert after["fid"] < 0.3 * before["fid"], (before, after)


def test_each_target_gets_as_many_translations_as_it_has_real_images(domains):
    counts = torch.bincount(domains.y)
    for pairs in ([(0, 1), (1, 0)], ALL_PAIRS):
        s = translate_sources(Fixed(pairs, true_translation), domains, 2000, torch.Generator().manual_seed(0))
        for t in {t for _, t in pairs}:
            sources = [a for a, b in pairs if b == t]
            assert int((s.y == t).sum()) == min(int(counts[t]), sum(int(counts[a]) for a in sources))
            for a in sources:  # spread evenly over the source domains
                assert abs(int(((s.y == t) & (s.source_y == a)).sum()) - int(counts[t]) // len(sources)) <= 1
        looked_up = [int(domains.content[(domains.x == im).flatten(1).all(1)][0]) for im in s.source[:50]]
        assert s.source_content[:50].tolist() == looked_up  # each source carries its own digit
        images, nrow, labels = translation_sheet(s, domains.info.domains)
        assert len(labels) == len(pairs) and labels[0] == f"{DOMAINS[pairs[0][0]]} > {DOMAINS[pairs[0][1]]}"
        assert len(images) == nrow * len(pairs) and nrow == 3 * min(4, 24 // len(pairs))
        torch.testing.assert_close(
            images[1], true_translation(images[0:1], *pairs[0])[0]
        )  # source, then its translation


def test_image_buffer_passes_through_while_filling_then_mixes_old_and_new():
    torch.manual_seed(0)
    buf = ImageBuffer(size=8)
    first = torch.arange(6.0).view(6, 1)
    assert torch.equal(buf(first), first)
    second = torch.arange(6.0, 12.0).view(6, 1)
    out = buf(second)
    assert torch.equal(out[:2], second[:2]) and len(buf.images) == 8  # two fill the pool, four may be swapped
    for _ in range(20):
        out = buf(torch.arange(100.0, 116.0).view(16, 1))
        assert len(buf.images) == 8 and len(out) == 16
    values = set(out.flatten().tolist())
    assert values & set(range(100, 116))  # half the new images pass
    assert all(v in set(range(100, 116)) | set(range(12)) for v in values)  # the rest come from the pool
    assert torch.equal(ImageBuffer(0)(second), second)


def test_image_buffer_follows_the_sequential_rule_even_when_slots_repeat():
    torch.manual_seed(3)
    buf = ImageBuffer(size=2)
    buf(torch.tensor([[0.0], [1.0]]))  # full
    new = torch.arange(10.0, 30.0).view(20, 1)  # 20 draws into 2 slots: slots repeat
    pool = [0.0, 1.0]
    state = torch.random.get_rng_state()
    swap, slots = (torch.rand(20) < 0.5).tolist(), torch.randint(2, (20,)).tolist()
    expected = []
    for value, flip, slot in zip(new.flatten().tolist(), swap, slots):
        if flip:
            expected.append(pool[slot])
            pool[slot] = value
        else:
            expected.append(value)
    torch.random.set_rng_state(state)
    assert buf(new).flatten().tolist() == expected
    assert buf.images.flatten().tolist() == pool


def _png(path: Path, size, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), colour, dtype=np.uint8)).save(path)


def test_image_folders_read_the_cyclegan_layout(tmp_path):
    for i in range(3):
        _png(tmp_path / "trainA" / f"a{i}.png", (80 + 10 * i, 64), (200, 0, 0))
    for i in range(2):
        _png(tmp_path / "trainB" / f"b{i}.jpg", (64, 100), (0, 0, 200))
    _png(tmp_path / "testA" / "t.png", (64, 64), (0, 255, 0))
    cls = registry.datasets.get("image-folders")
    data = cls.load(name="image-folders", data_dir=tmp_path, split="auto", download=False)
    assert data.split == "train" and data.x.shape == (5, 3, 64, 64) and data.y.tolist() == [0, 0, 0, 1, 1]
    assert data.x[0, 0].mean() > 0.5 and data.x[0, 2].mean() < -0.9  # red in A, scaled to [-1, 1]
    assert data.x[4, 2].mean() > 0.5
    with pytest.raises(FileNotFoundError, match="testB"):
        cls.load(name="image-folders", data_dir=tmp_path, split="test", download=False)
    with pytest.raises(FileNotFoundError, match="trainA/ or testA/"):
        cls.load(name="image-folders", data_dir=tmp_path / "empty", split="auto", download=False)
    with pytest.raises(ValueError, match="unknown CycleGAN dataset"):
        cls.info_for("horse2cat")


def test_image_folders_download_a_named_cyclegan_dataset_once(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    calls = []

    def fake_download(url, download_root):  # what the real archive unpacks to: <root>/horse2zebra/trainA ...
        calls.append(url)
        for side, colour in (("A", (200, 0, 0)), ("B", (0, 0, 200))):
            _png(Path(download_root) / "horse2zebra" / f"train{side}" / "x.png", (64, 64), colour)

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    cls = registry.datasets.get("image-folders")
    data = cls.load(
        name="image-folders:horse2zebra", data_dir=tmp_path, split="auto", download=True, argument="horse2zebra"
    )
    assert calls == ["https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"] and len(data) == 2
    cls.load(name="image-folders:horse2zebra", data_dir=tmp_path, split="auto", download=True, argument="horse2zebra")
    assert len(calls) == 1  # found on disk the second time

    def offline(url, download_root):
        raise OSError("network unreachable")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", offline)
    with pytest.raises(FileNotFoundError, match="apple2orange.zip into .* failed .*pass --data-dir"):
        cls.load(
            name="image-folders:apple2orange",
            data_dir=tmp_path / "other",
            split="auto",
            download=True,
            argument="apple2orange",
        )
    with pytest.raises(FileNotFoundError, match="--no-download"):
        cls.load(
            name="image-folders:apple2orange",
            data_dir=tmp_path / "other",
            split="auto",
            download=False,
            argument="apple2orange",
        )


def _celeba(root: Path, attrs: dict[str, list[int]], partition: list[int]):
    from ganzoo_plugins.datasets.celeba import ATTRIBUTES

    base = root / "celeba"
    names = [f"{i:06d}.jpg" for i in range(1, len(partition) + 1)]
    for i, name in enumerate(names):
        _png(base / "img_align_celeba" / name, (178, 218), (20 * i, 100, 50))
    rows = [[attrs.get(a, [0] * len(names))[i] * 2 - 1 for a in ATTRIBUTES] for i in range(len(names))]
    (base / "list_attr_celeba.txt").write_text(
        f"{len(names)}\n"
        + " ".join(ATTRIBUTES)
        + "\n"
        + "".join(f"{n} " + " ".join(f"{v:2d}" for v in r) + "\n" for n, r in zip(names, rows))
    )
    (base / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, partition)))
    (base / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    (base / "list_bbox_celeba.txt").write_text(
        f"{len(names)}\nimage_id x_1 y_1 width height\n" + "".join(f"{n} 1 2 3 4\n" for n in names)
    )
    (base / "list_landmarks_align_celeba.txt").write_text(
        f"{len(names)}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
        + "".join(f"{n} " + " ".join(["1"] * 10) + "\n" for n in names)
    )


def test_celeba_domains_are_the_named_attributes(tmp_path, monkeypatch):
    from torchvision.datasets import CelebA

    # the files here are tiny stand-ins, so their md5 cannot match the real ones torchvision checks
    monkeypatch.setattr(CelebA, "_check_integrity", lambda self: True)
    _celeba(
        tmp_path,
        {"Black_Hair": [1, 0, 0, 1, 0, 1], "Blond_Hair": [0, 1, 0, 1, 0, 0], "Eyeglasses": [1, 1, 0, 0, 0, 0]},
        partition=[0, 0, 0, 0, 0, 2],
    )
    cls = registry.datasets.get("celeba")
    data = cls.load(
        name="celeba:Black_Hair,Blond_Hair",
        data_dir=tmp_path,
        split="train",
        download=False,
        argument="Black_Hair,Blond_Hair",
    )
    # image 4 has both hair colours and image 3 neither: left out; image 6 is in the test split
    assert data.info.domains == ("Black_Hair", "Blond_Hair") and data.y.tolist() == [0, 1]
    assert data.x.shape == (2, 3, 64, 64) and data.x[1, 0].mean() > data.x[0, 0].mean()
    glasses = cls.load(
        name="celeba:Eyeglasses", data_dir=tmp_path, split="train", download=False, argument="Eyeglasses"
    )
    assert glasses.info.domains == ("Eyeglasses", "not Eyeglasses") and glasses.y.tolist() == [0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="unknown CelebA attribute.*Purple_Hair"):
        cls.info_for("Black_Hair,Purple_Hair")
    with pytest.raises(FileNotFoundError, match="CelebA is not in"):
        cls.load(name="celeba", data_dir=tmp_path / "nowhere", split="train", download=False)


def _bench(tmp_path, *args):
    from click.testing import CliRunner

    from ganzoo.cli import main

    return CliRunner().invoke(main, ["bench", "--out", str(tmp_path / "out"), *args])


def test_bench_translates_records_translation_metrics_and_draws_sheets(tmp_path):
    import json

    from ganzoo.results import read_results

    result = _bench(
        tmp_path,
        "--variants",
        "cyclegan,stargan",
        "--dataset",
        "digits-domains",
        "--budget",
        "2steps",
        "--eval-every",
        "2steps",
        "--set",
        "cyclegan.identity_weight=0.5",
        "--set",
        "cyclegan.domain_b=3",
    )
    assert result.exit_code == 0, result.output
    df = read_results(tmp_path / "out")
    final = df[df.step == 2].pivot_table(index="metric", columns="variant", values="value")
    for m in ("fid", "domain_accuracy", "content_accuracy", "cycle_error", "truth_error"):
        assert final.loc[m].notna().all(), m
    assert final.loc["fid/rotated"].notna().all() and math.isnan(
        final.loc["fid/tinted", "cyclegan"]
    )  # cyclegan: plain <-> rotated only
    assert final.loc["fid/tinted", "stargan"] > 0
    config = json.loads((tmp_path / "out" / "runs" / "cyclegan-least-squares-s0" / "config.json").read_text())
    assert config["hparams"]["identity_weight"] == 0.5 and config["hparams"]["domain_b"] == 3
    assert "loss_g_identity" in set(df[df.variant == "cyclegan"].metric)
    sheet = Image.open(tmp_path / "out" / "runs" / "stargan-wasserstein-gp-s0" / "samples" / "step-0000002.png")
    tile, margin = 32 + 2, 8 + 6 * len("inverted > rotated")  # 8-px images upscaled to 32, 2-px padding; labels
    assert sheet.size == (margin + 6 * tile + 2, 12 * tile + 2)  # a row per pair: 2 triples each
    assert "domain_accuracy" in result.output  # the end-of-bench summary shows the translation metrics


@pytest.mark.parametrize(
    "args, message",
    [
        (["--variants", "gan", "--dataset", "digits-domains"], "variant 'gan' cannot run on dataset 'digits-domains'"),
        (["--variants", "cyclegan", "--dataset", "digits"], "needs domains data"),
        (
            ["--variants", "cyclegan", "--dataset", "digits-domains", "--set", "cyclegan.nope=1"],
            "no parameter 'nope'; it accepts",
        ),
        (
            ["--variants", "cyclegan", "--dataset", "digits-domains", "--set", "cyclegan.domain_a=9"],
            "two different domains in 0..3",
        ),
        (["--variants", "cyclegan", "--dataset", "digits-domains", "--set", "cyclegan.lr=fast"], "not a float"),
        (
            ["--variants", "cyclegan", "--dataset", "digits-domains", "--set", "stargan.lr=1"],
            "which this bench does not use",
        ),
        (["--variants", "cyclegan", "--dataset", "digits-domains", "--set", "lr=1"], "NAME.PARAM=VALUE"),
        (
            ["--variants", "stargan", "--dataset", "celeba:Purple_Hair"],
            "unknown CelebA attribute(s) Purple_Hair; the 40 attributes are",
        ),
        (["--dataset", "digits:extra"], "takes no argument"),
        (["--dataset", "celeba:"], "nothing after ':'"),
    ],
)
def test_bench_refuses_bad_translation_input_before_anything_is_written(tmp_path, args, message):
    result = _bench(tmp_path, "--budget", "2steps", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="the shared MNIST test split is not next to this checkout")
def test_mnist_domains_deal_the_real_test_split_into_four_unpaired_domains():
    data = registry.datasets.get("mnist-domains").load(
        name="mnist-domains", data_dir=SHARED_MNIST, split="auto", download=False
    )
    assert data.x.shape == (10_000, 3, 28, 28) and data.split == "test"
    assert torch.bincount(data.y).tolist() == [2500] * 4
    assert torch.bincount(data.content, minlength=10).min() > 800  # every digit in every split of MNIST test
    plain = data.x[data.y == 0][:50]
    torch.testing.assert_close(true_translation(true_translation(plain, 0, 3), 3, 0), plain)


@pytest.mark.parametrize("variant", ["cyclegan", "stargan"])
@pytest.mark.parametrize("side", [28, 64])
def test_translation_variants_fit_mnist_and_photo_sizes(variant, side):
    from ganzoo.data import BatchSampler
    from ganzoo.factory import VariantSpec, create_variant
    from ganzoo.trainer import Trainer

    info = DatasetInfo(kind=DataKind.DOMAINS, shape=(3, side, side), num_classes=3, domains=("a", "b", "c"))
    data = Data(
        name="t", info=info, x=torch.rand(12, 3, side, side) * 2 - 1, y=torch.arange(12) % 3, split="all", source="test"
    )
    torch.manual_seed(0)
    divergence = registry.variants.get(variant).default_divergence
    built = create_variant(
        VariantSpec(variant, variant, divergence, {"batch_size": 2, "ngf": 8, "ndf": 8}), info
    )  # narrow: shapes only
    v = built.variant
    d_out, g_out, _ = Trainer(v, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training).step()
    assert torch.isfinite(d_out.total) and torch.isfinite(g_out.total)
    for s, t in v.translation_pairs():
        assert v.translate(data.x[:2], source=s, target=t).shape == (2, 3, side, side)


def test_a_metric_that_raises_on_translations_is_its_own_row_and_the_others_go_on(domains, metric, tmp_path):
    from ganzoo import Metric
    from ganzoo.evaluation import evaluate
    from ganzoo.factory import VariantSpec, create_variant

    class Boom(Metric):
        def compute(self, samples):
            raise RuntimeError("boom on translations")

    variant = create_variant(VariantSpec("cyclegan", "cyclegan", "least-squares"), domains.info).variant
    metrics = {"boom": Boom(data=domains, device=torch.device("cpu"), cache_dir=tmp_path), "translation": metric}
    values = evaluate(variant, domains, metrics, seed=0, run_dir=tmp_path, step=0, title="t")
    value, record = values["error_boom"]
    assert math.isnan(value) and "RuntimeError: boom on translations" in record["detail"]
    assert any(k.startswith("fid/") for k in values) and (tmp_path / "samples" / "step-0000000.png").is_file()
