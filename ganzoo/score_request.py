"""What ``ganzoo score`` is asked, checked before torch loads: the request, and every check that reads no image and
builds no network (names, numbers, where the rows go, whether SAMPLES and REF exist and are what they claim to be).
A bad input is one :class:`ScoreInputError` line, in a fraction of a second, before anything is computed or written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo import registry
from ganzoo.config import FEATURE_SPACES, BenchInputError, check_writable, split_dataset

MIN_SAMPLES = 10  # fewer, and precision/recall (k=3), density/coverage (k=5) and the covariance mean little
STATS_FORMAT = "ganzoo-reference-1"
# what a --save-reference file holds: its record (text) and its statistics (numbers)
STATS_TEXT = ("format", "features", "features_sha256", "reference")
STATS_NUMBERS = ("mu", "sigma")
RUN_FILES = ("weights.pt", "checkpoint.pt", "error.txt")  # a folder holding one of these is a ganzoo run folder


class ScoreInputError(BenchInputError):
    """A SAMPLES or --reference that cannot be scored; the message names it and says why."""


@dataclass
class ScoreRequest:
    samples: str
    reference: str
    features: str = "classifier"
    features_weights: Path | None = None
    metrics: list[str] | None = None
    n: int = 10_000
    seed: int = 0
    data_dir: Path | None = None
    split: str = "auto"
    download: bool = True
    cache_dir: Path | None = None
    device: str = "auto"
    bootstrap: int = 50
    fid_infinity: bool = False
    save_reference: Path | None = None
    reference_features: bool = True  # --save-reference also stores the features (KID, precision/recall, ...)


def check_request(req: ScoreRequest, out: Path | None = None) -> None:
    """Every check that needs no torch: one line for a bad value, before anything loads or is written."""
    if req.features not in FEATURE_SPACES:
        raise ScoreInputError(f"unknown feature space {req.features!r} (known: {', '.join(FEATURE_SPACES)})")
    if req.n < MIN_SAMPLES:
        raise ScoreInputError(f"--n {req.n}: the metrics need at least {MIN_SAMPLES} samples")
    if req.bootstrap < 0:
        raise ScoreInputError(f"--bootstrap {req.bootstrap}: give a number of rounds, 0 for none")
    for what, path, suffix in (("--save-reference", req.save_reference, ".npz"), ("--out", out, ".csv")):
        if path is None:
            continue
        if Path(path).suffix != suffix:
            raise ScoreInputError(f"{what} {path}: it is written as {suffix}; give a {suffix} path")
        if Path(path).is_dir():
            raise ScoreInputError(f"{what} {path} is a folder; give a {suffix} file")
        try:
            check_writable(what, Path(path).parent)
        except BenchInputError as exc:
            raise ScoreInputError(str(exc)) from None
    check_samples(req.samples)
    check_reference(req.reference)


def check_samples(spec: str) -> None:
    path = Path(spec)
    if not path.exists():
        module, colon, attr = spec.partition(":")
        if colon and module and attr and "/" not in module:
            return  # MODULE:CALLABLE, imported and called later
        raise ScoreInputError(
            f"SAMPLES {spec!r}: no such folder or file, and not MODULE:CALLABLE (a folder or .npy/.npz of images, "
            "a ganzoo run folder, or MODULE:CALLABLE)"
        )
    if path.is_dir():
        check_run_folder(path)
    elif path.suffix not in (".npy", ".npz"):
        raise ScoreInputError(f"{spec}: a file of samples must be .npy or .npz (or give a folder of images)")
    else:
        check_image_file(path, "SAMPLES")


def check_run_folder(path: Path) -> None:
    """A folder that holds a run's files is read as a run, never as a folder of images: its config.json must say
    what ran (before: a run folder without it was read as its 4 sample sheets)."""
    if not any((path / name).is_file() for name in RUN_FILES):
        return  # a folder of images (a ganzoo run's config.json there is read when its samples are drawn)
    config = path / "config.json"
    try:
        record = json.loads(config.read_text())
    except FileNotFoundError:
        raise ScoreInputError(
            f"run folder {path}: config.json is missing, so what ran there cannot be rebuilt"
        ) from None
    except (OSError, ValueError) as exc:
        raise ScoreInputError(
            f"run folder {path}: {config.name} cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("variant_plugin"), str):
        raise ScoreInputError(f"run folder {path}: {config.name} is not a ganzoo run's record (no variant_plugin)")


def check_reference(spec: str) -> None:
    path = Path(spec)
    if path.is_dir():
        return
    if path.is_file():
        if path.suffix not in (".npy", ".npz"):
            raise ScoreInputError(
                f"--reference {spec}: a file must be .npy or .npz of images, or saved statistics (.npz)"
            )
        check_image_file(path, "--reference")
        return
    if split_dataset(spec)[0] not in registry.datasets.names():
        raise ScoreInputError(
            f"--reference {spec!r} is neither a folder, an array, saved statistics (.npz) nor an installed dataset "
            f"({', '.join(registry.datasets.names())})"
        )


def check_npz(path: Path, what: str, *, images: bool = False, statistics: bool = False) -> None:
    """An .npz read without unpickling: reference statistics (any of their keys makes it one, and then all must be
    there, of the right kind) or images (one array, or one named images, x or arr_0)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.keys()}
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ScoreInputError(f"{what} {path} cannot be read without unpickling ({reason})") from None
    keys = set(arrays)
    if keys & {*STATS_TEXT, *STATS_NUMBERS}:
        if not statistics:
            raise ScoreInputError(f"{what} {path} holds reference statistics, not samples; give them as --reference")
        check_statistics(arrays, f"{what} {path}")
    elif images:
        key = images_key(keys)
        if key is None:
            raise ScoreInputError(
                f"{what} {path} holds arrays {sorted(keys)} and neither images nor statistics; name the images "
                "'images', 'x' or 'arr_0', or save statistics with ganzoo score ... --save-reference FILE.npz"
            )
        check_image_array(arrays[key], str(path))


def images_key(keys: set[str] | list[str]) -> str | None:
    """Which array of an .npz holds the images: ``images``, ``x`` or ``arr_0``, or its only array; None otherwise."""
    keys = list(keys)
    return next((k for k in ("images", "x", "arr_0") if k in keys), keys[0] if len(keys) == 1 else None)


def check_statistics(saved: dict[str, Any], what: str) -> None:
    """Saved reference statistics: every key there, text where text belongs, a finite mean and a square covariance
    of its size, and ganzoo's format."""
    import numpy as np

    missing = [k for k in (*STATS_TEXT, *STATS_NUMBERS) if k not in saved]
    if missing:
        raise ScoreInputError(
            f"{what}: reference statistics without {', '.join(missing)}; save them with "
            "ganzoo score ... --save-reference FILE.npz"
        )
    if str(saved["format"]) != STATS_FORMAT:
        raise ScoreInputError(
            f"{what}: statistics of format {str(saved['format'])[:40]!r}, not ganzoo's {STATS_FORMAT!r}; save them with "
            "ganzoo score ... --save-reference FILE.npz"
        )
    for key in STATS_TEXT:
        if np.asarray(saved[key]).dtype.kind not in "US":
            raise ScoreInputError(f"{what}: {key} must be text, got an array of {np.asarray(saved[key]).dtype}")
    mu, sigma = (np.asarray(saved[k]) for k in STATS_NUMBERS)
    if mu.dtype.kind not in "fiu" or sigma.dtype.kind not in "fiu":
        raise ScoreInputError(f"{what}: mu and sigma must be numbers, got {mu.dtype} and {sigma.dtype}")
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ScoreInputError(f"{what}: mu must be d and sigma d x d, got {mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ScoreInputError(f"{what}: mu or sigma holds NaN or inf")
    if "real_features" in saved:
        feats = np.asarray(saved["real_features"])
        if feats.dtype.kind not in "fiu" or feats.ndim != 2 or feats.shape[1] != len(mu):
            raise ScoreInputError(
                f"{what}: real_features must be N x {len(mu)} numbers, got {feats.shape} {feats.dtype}"
            )


def check_image_array(a: Any, what: str) -> None:
    """Images in either form ganzoo reads: N x H x W x C (or N x H x W) uint8, or N x C x H x W float in [-1, 1], finite;
    anything else is a ScoreInputError naming what it got (checked on numpy alone, before torch loads)."""
    import numpy as np

    if not isinstance(a, np.ndarray):
        raise ScoreInputError(f"{what} gave a {type(a).__name__}, not an array of images")
    if a.dtype == np.uint8:
        if not (a.ndim == 3 or (a.ndim == 4 and a.shape[-1] in (1, 3))):
            raise ScoreInputError(
                f"{what}: uint8 arrays must be N x H x W x C with C 1 or 3 (or N x H x W), got shape {a.shape}"
            )
        return
    if not np.issubdtype(a.dtype, np.floating):
        raise ScoreInputError(
            f"{what}: images must be uint8 (N x H x W x C) or float in [-1, 1] (N x C x H x W), got {a.dtype}"
        )
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ScoreInputError(f"{what}: float images must be N x C x H x W with C 1 or 3, got shape {a.shape}")
    bad = int((~np.isfinite(a)).sum())
    if bad:
        raise ScoreInputError(f"{what}: float images must be finite, and {bad} of {a.size} values are NaN or inf")
    if a.min() < -1.001 or a.max() > 1.001:
        raise ScoreInputError(f"{what}: float images must be in [-1, 1], got values in [{a.min():.3g}, {a.max():.3g}]")


def check_image_file(path: Path, what: str) -> None:
    """An .npy or .npz of images, read without unpickling (an .npy mapped, not loaded), checked as images."""
    import numpy as np

    if path.suffix == ".npz":
        check_npz(path, what, images=True, statistics=what == "--reference")
        return
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ScoreInputError(f"{what} {path} cannot be read as a numpy array without unpickling ({reason})") from None
    check_image_array(np.asarray(a), str(path))
