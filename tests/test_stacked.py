import math

import numpy as np
import pytest
import torch
from conftest import SHARED_MNIST
from test_data import write_idx

from ganzoo import Samples, registry
from ganzoo.data import BatchSampler
from ganzoo.metrics.stacked import channel_digits, stacked_mode_stats


def test_stacked_mode_stats_closed_forms():
    all_modes = torch.stack([torch.arange(1000) // 100, torch.arange(1000) // 10 % 10, torch.arange(1000) % 10], 1)
    assert stacked_mode_stats(all_modes) == {"stacked_modes": 1000.0, "stacked_kl": pytest.approx(0.0)}
    one = torch.tensor([[3, 1, 4]] * 50)
    assert stacked_mode_stats(one) == {"stacked_modes": 1.0, "stacked_kl": pytest.approx(math.log(1000))}
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        stacked_mode_stats(torch.zeros(4, 2, dtype=torch.long))


def test_stacked_mnist_is_built_from_the_mnist_split_given(tmp_path):
    labels = np.arange(20) % 10
    images = np.stack([np.full((28, 28), 10 * d + i, np.uint8) for i, d in enumerate(labels)])  # each image unique
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, True)
    data = registry.datasets.get("stacked-mnist").load(
        name="stacked-mnist", data_dir=tmp_path, split="auto", download=False, argument="600"
    )
    assert data.split == "test" and data.x.shape == (600, 3, 28, 28) and data.info.num_classes == 1000
    assert data.base.split == "test" and data.base.held_out is None  # one split: the classifier holds out half itself
    assert data.x.dtype == torch.uint8  # 128k triples: 0.3 GB as pixels, 1.2 GB as float32
    pixel = data.x[:, :, 0, 0].long()  # which source image each channel came from
    source = {int(v): int(d) for v, d in zip(images[:, 0, 0], labels)}
    digits = pixel.apply_(lambda v: source[v])
    assert torch.equal(data.y, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    channels = channel_digits(data)
    assert channels.x.shape == (3 * len(data), 1, 28, 28) and torch.equal(channels.y.reshape(-1, 3), digits)


def _write_split(folder, split, labels, offset):
    images = np.stack([np.full((28, 28), offset + i, np.uint8) for i in range(len(labels))])
    stem = "train" if split == "train" else "t10k"
    write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images, True)
    write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", np.asarray(labels, np.uint8), True)


def test_stacked_mnist_uses_both_splits_and_holds_out_the_test_digits(tmp_path):
    _write_split(tmp_path, "train", np.arange(30) % 10, 0)
    _write_split(tmp_path, "test", np.arange(20) % 10, 100)
    data = registry.datasets.get("stacked-mnist").load(
        name="stacked-mnist", data_dir=tmp_path, split="auto", download=False, argument="3000"
    )
    assert data.split == "train+test" and len(data.base) == 50
    assert torch.equal(data.base.held_out, torch.arange(30, 50))  # the test digits
    pixel = data.x[:, :, 0, 0].long()
    assert (pixel >= 100).any() and (pixel < 100).any()  # triples draw from both splits
    from ganzoo.metrics.classifier import classifier_split

    train, held = classifier_split(data.base)
    assert set(train.tolist()) == set(range(30)) and set(held.tolist()) == set(range(30, 50))


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="needs the shared MNIST test split")
def test_the_channel_classifier_is_scored_on_digits_it_never_saw(tmp_path):
    from ganzoo.metrics.classifier import load_classifier

    data = registry.datasets.get("stacked-mnist").load(
        name="stacked-mnist", data_dir=SHARED_MNIST, split="auto", download=False, argument="2000"
    )
    metric = registry.metrics.get("stacked")(data=data, device=torch.device("cpu"), cache_dir=tmp_path)
    assert not set(metric.train_idx.tolist()) & set(metric.held_out.tolist()) and len(metric.held_out) == 5000
    model, _ = load_classifier(next((tmp_path / "classifiers").iterdir()))
    x, y = data.base.floats(metric.held_out), data.base.y[metric.held_out]
    with torch.no_grad():
        acc = float((model(x).argmax(1) == y).float().mean())
    assert metric.accuracy == pytest.approx(acc, abs=1e-6) and 0.9 < acc < 0.995  # a real held-out figure, not 99.9%
    assert f"accuracy {acc:.4f} on 5000 held-out digits" in metric.provenance()["reference"]


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="needs the shared MNIST test split")
def test_real_stacked_mnist_scores_nearly_all_modes():
    data = registry.datasets.get("stacked-mnist").load(
        name="stacked-mnist", data_dir=SHARED_MNIST, split="auto", download=False
    )
    from ganzoo.config import default_cache_dir

    metric = registry.metrics.get("stacked")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())
    out = metric.compute(
        Samples(data.floats(torch.randint(len(data), (26_000,), generator=torch.Generator().manual_seed(1))))
    )
    assert out["stacked_modes"] > 950 and out["stacked_kl"] < 0.2


def test_stacked_fid_reference_is_held_out_by_digit(tmp_path):
    """No digit of a reference triple is in a triple the feature classifier trains on; held out by triple
    (the old rule: a seeded half of the triples), nearly every reference triple shares a digit with one."""
    _write_split(tmp_path, "test", np.arange(200) % 10, 0)
    data = registry.datasets.get("stacked-mnist").load(
        name="stacked-mnist", data_dir=tmp_path, split="auto", download=False, argument="4000"
    )
    from ganzoo.metrics.classifier import classifier_split

    train, held = classifier_split(data)
    idx = torch.randint(len(data.base), (4000, 3), generator=torch.Generator().manual_seed(0))  # the triples' digits
    assert torch.equal(data.x[5].reshape(3, -1), data.base.x[idx[5]].reshape(3, -1))  # the same draw as the dataset's

    def shares_a_digit(train_idx, held_idx):
        seen = set(idx[train_idx].flatten().tolist())
        return float(np.mean([bool(seen & set(t)) for t in idx[held_idx].tolist()]))

    assert len(held) > 300 and len(train) > 300 and not set(train.tolist()) & set(held.tolist())
    assert shares_a_digit(train, held) == 0.0
    perm = torch.randperm(4000, generator=torch.Generator().manual_seed(0))
    assert shares_a_digit(perm[2000:], perm[:2000]) > 0.95  # the wrong version leaks


def test_unit_range_reads_the_triples_as_pacgans_released_code_feeds_them(tmp_path):
    """PacGAN's released code feeds D pixels / 255 (G still ends in tanh) and trains its classifier on digits in
    [0, 1]. ganzoo's default reads the same pixels in [-1, 1]; the wrong version of the option would keep the
    classifier (cached by content) that learned [-1, 1] digits."""
    from ganzoo.config import DataSource
    from ganzoo.factory import dataset_info, load_data

    _write_split(tmp_path, "test", np.arange(40) % 10, 50)

    def load(spec):
        return load_data(DataSource(spec, tmp_path, "auto", False))

    plain, released = load("stacked-mnist:600"), load("stacked-mnist:600,unit-range")
    assert torch.equal(plain.x, released.x) and released.name == "stacked-mnist:600,unit-range"
    assert dataset_info("stacked-mnist:unit-range").value_range == (0.0, 1.0) == released.base.info.value_range
    batch = BatchSampler(released, seed=0, device=torch.device("cpu")).sample(64)
    idx = BatchSampler(released, seed=0, device=torch.device("cpu")).indices(64)
    assert torch.equal(batch.x, released.x[idx].float() / 255)  # pixels / 255, as the released code
    plain_batch = BatchSampler(plain, seed=0, device=torch.device("cpu")).sample(64).x
    assert torch.allclose(plain_batch, batch.x * 2 - 1, atol=1e-6)
    assert released.content_hash != plain.content_hash and released.base.content_hash != plain.base.content_hash
    digits = released.base.floats()
    assert torch.equal(digits, released.base.x.float() / 255)  # what the channel classifier learns


def test_the_stacked_preset_runs_the_released_input_range():
    from ganzoo import presets

    preset = presets.get("pacgan-stacked-mnist")
    assert preset.options["dataset"] == "stacked-mnist:unit-range"
    assert "in [0, 1] while G ends in tanh" in preset.protocol and "[0, 1]" not in preset.deviations
