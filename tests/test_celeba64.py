"""CelebA 64x64 as the cited rows cut it, held as uint8, read from files the tests write in CelebA's layout."""

import hashlib
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo import registry
from ganzoo.data import BatchSampler
from ganzoo_plugins.datasets import celeba64
from ganzoo_plugins.datasets.celeba64 import RULES, crop_and_resize


def _face(i: int) -> np.ndarray:
    """218 x 178 RGB: red is the column, green the row, blue the image's number (ramps a resize keeps linear)."""
    rows, cols = np.mgrid[0:218, 0:178]
    return np.stack([cols, rows % 256, np.full_like(cols, 10 * i)], -1).astype(np.uint8)


def _celeba(root, partition, *, fmt="PNG"):
    base = root / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(partition))]
    for i, name in enumerate(names):  # lossless PNG bytes under CelebA's .jpg names: exact pixels to check
        Image.fromarray(_face(i)).save(base / "img_align_celeba" / name, format=fmt)
    (base / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, partition)))
    return base, names


def _load(root, argument=None, split="auto"):
    return registry.datasets.get("celeba64").load(
        name="celeba64", data_dir=root, split=split, download=False, argument=argument
    )


def test_each_rule_takes_its_rows_split_and_holds_uint8(tmp_path):
    _celeba(tmp_path, [0, 0, 1, 2, 0])
    lucic = _load(tmp_path)  # compare_gan's rule: the training partition
    assert lucic.split == "train" and lucic.x.shape == (3, 3, 64, 64) and lucic.x.dtype == torch.uint8
    assert lucic.x[:, 2, 0, 0].tolist() == [0, 10, 40]  # images 1, 2 and 5
    assert "central 160x160" in lucic.source and "differs from the published file" in lucic.source
    mimicry = _load(tmp_path, "mimicry")
    assert mimicry.split == "all" and len(mimicry) == 5
    assert _load(tmp_path, "mimicry", split="test").x[:, 2, 0, 0].tolist() == [30]
    batch = BatchSampler(lucic, seed=0, device=torch.device("cpu")).sample(2)
    assert batch.x.dtype == torch.float32 and batch.x.min() >= -1 and batch.x.max() <= 1


def test_compare_gans_resize_is_tf1s_legacy_bilinear():
    """TF1's resize_images samples source pixel i * in/out (no half-pixel centres): on the column ramp the 64
    columns read 9 + 2.5 j exactly (the crop starts at column 9, row 29). Torch's and PIL's half-pixel rule, the
    usual port, reads 0.75 higher."""
    out = crop_and_resize(_face(0), RULES["compare-gan"]).astype(float)
    j = np.arange(64)
    assert np.abs(out[0, 0] - np.round(9 + 2.5 * j)).max() == 0
    assert np.abs(out[1, :, 0] - np.round(29 + 2.5 * j)).max() == 0
    half_pixel = torch.nn.functional.interpolate(
        torch.from_numpy(_face(0)[29:189, 9:169].astype(np.float32)).permute(2, 0, 1)[None], size=64, mode="bilinear"
    )[0].round()
    assert np.abs(out[0, 0] - half_pixel[0, 0].numpy()).max() >= 1


def test_mimicrys_crop_is_torchvisions_centre_crop_then_pils_resize():
    out = crop_and_resize(_face(0), RULES["mimicry"])
    cropped = Image.fromarray(_face(0)[20:198, 0:178])  # torchvision: top round((218 - 178) / 2) = 20
    expected = np.asarray(cropped.resize((64, 64), Image.BILINEAR)).transpose(2, 0, 1)
    assert np.array_equal(out, expected)
    centres = (np.arange(64) + 0.5) * 178 / 64 - 0.5  # an antialiased linear ramp keeps its centre values
    assert np.abs(out[0, 0].astype(float) - centres).max() <= 1.0
    assert np.abs(out[1, :, 0].astype(float) - (20 + centres)).max() <= 1.0


def test_decoded_faces_are_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    base, names = _celeba(tmp_path, [0, 0])
    first = _load(tmp_path)
    cached = list((tmp_path / "cache" / "datasets").glob("celeba64-*.npy"))
    assert len(cached) == 1 and "decoded faces from" not in first.source
    again = _load(tmp_path)
    assert "decoded faces from" in again.source and torch.equal(again.x, first.x)
    Image.fromarray(_face(7)).save(base / "img_align_celeba" / names[0], format="BMP")  # other bytes, other size
    changed = _load(tmp_path)
    assert "decoded faces from" not in changed.source and changed.x[0, 2, 0, 0] == 70


@pytest.mark.parametrize(
    "spoil, error, match",
    [
        (
            lambda b, n: (b / "img_align_celeba" / n[1]).write_bytes(b"\x89PNG\r\n"),
            ValueError,
            "000002.jpg: not a readable image",
        ),
        (
            lambda b, n: Image.new("RGB", (64, 64)).save(b / "img_align_celeba" / n[0], format="PNG"),
            ValueError,
            "000001.jpg: 64x64 pixels, expected CelebA's aligned 178x218",
        ),
        (lambda b, n: (b / "img_align_celeba" / n[1]).unlink(), FileNotFoundError, "000002.jpg: listed in"),
        (
            lambda b, n: (b / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg train\n"),
            ValueError,
            "list_eval_partition.txt: line 2",
        ),
    ],
)
def test_bad_files_are_named_in_one_line(tmp_path, spoil, error, match):
    base, names = _celeba(tmp_path, [0, 0])
    spoil(base, names)
    with pytest.raises(error, match=match) as info:
        _load(tmp_path)
    assert "\n" not in str(info.value)


def test_an_archive_is_read_only_when_its_md5_is_the_published_one(tmp_path, monkeypatch):
    base, names = _celeba(tmp_path, [0, 0])
    with zipfile.ZipFile(base / "img_align_celeba.zip", "w") as zf:
        for n in names:
            zf.write(base / "img_align_celeba" / n, f"img_align_celeba/{n}")
    folder = _load(tmp_path).x
    for n in names:
        (base / "img_align_celeba" / n).unlink()
    (base / "img_align_celeba").rmdir()
    with pytest.raises(ValueError, match=r"img_align_celeba.zip: md5 [0-9a-f]{32}, expected 00d2c5bc"):
        _load(tmp_path)
    digest = hashlib.md5((base / "img_align_celeba.zip").read_bytes()).hexdigest()
    real = celeba64.published_md5
    monkeypatch.setattr(celeba64, "published_md5", lambda f: digest if f.endswith(".zip") else real(f))
    assert torch.equal(_load(tmp_path).x, folder)


def test_missing_folder_and_unknown_rule_are_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CelebA in .*list_eval_partition.txt and img_align_celeba/"):
        _load(tmp_path)
    with pytest.raises(ValueError, match="unknown CelebA 64x64 rule 'stylegan'; known: compare-gan, mimicry"):
        registry.datasets.get("celeba64").info_for("stylegan")
