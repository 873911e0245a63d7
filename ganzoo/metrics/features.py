"""Feature spaces for distribution metrics: the dataset classifier (offline, seconds on CPU),
torch-fidelity's ``inception-v3-compat`` (the one papers report, comparable with them), its ``vgg16``
(where Kynkäänniemi et al. took precision and recall), and its CLIP and DINOv2 extractors (the spaces
Stein et al. 2023 showed to rank models as people do; dgm-eval reports DINOv2 ViT-L/14).

A feature space knows its torch-fidelity extractor, the sha256 of its weights and how samples are
turned into its input; its provenance goes into every row it scores. Real-data features are computed
once per (dataset, split, sample count, feature space) and cached as plain tensors.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import Tensor
from torch_fidelity.utils import create_feature_extractor

from ganzoo.config import FEATURE_SPACES
from ganzoo.data import Data
from ganzoo.metrics.classifier import (
    EXTRACTOR_NAME,
    CacheWarning,
    classifier_split,
    ensure_classifier,
    file_sha256,
    safe_name,
)
from ganzoo.results import atomic_torch_save, torch_load_reason

INCEPTION_EXTRACTOR = "inception-v3-compat"
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_FILE = INCEPTION_URL.rsplit("/", 1)[1]
# torchvision's ImageNet VGG-16 (IMAGENET1K_V1), which torch-fidelity's ``vgg16`` extractor loads: Kynkäänniemi et
# al.'s space for precision and recall (fc2 after its ReLU, 4,096-d). torch.hub names the file by its sha256 prefix.
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_FILE = VGG16_URL.rsplit("/", 1)[1]


class FeatureSpaceError(ValueError):
    """A feature space cannot be set up (missing weights offline, a foreign weights file)."""


@dataclass
class FeatureSpace:
    name: str
    extractor: str
    weights: Path
    weights_sha256: str
    layer: str  # what fid/kid/prc/density use
    resize: str
    # indices of the data that reference sets may come from: the images the classifier never saw (None: all)
    reference_pool: Tensor | None = field(default=None, repr=False)
    # the extractor's class logits, where it has them (Inception's 1,008 "unbiased" logits: the Inception Score)
    logits_layer: str | None = None
    # the floats samples come in (the dataset's): pixel 0 is ``low``, 255 is ``high``
    value_range: tuple[float, float] = (-1.0, 1.0)
    _extractor: torch.nn.Module | None = field(default=None, repr=False)

    def reference_note(self, data: Data, n: int) -> str:
        """What the reference set is, for the ``reference`` provenance column."""
        where = f"{data.name}/{data.split}"
        if self.reference_pool is None:
            return f"{where}, {n} of {len(data)} (seed 0)"
        if data.classifier_pool is None:
            return f"{where}, {n} held out from the feature classifier (trained on the other {len(data) - len(self.reference_pool)})"
        return f"{where}, {n} held out from the feature classifier (trained on {len(data.classifier_pool)} others the dataset names)"

    def prepare(self, x: Tensor) -> Tensor:
        """Samples in the dataset's range (``value_range``, any channel count) to this extractor's input."""
        if self.name == "classifier":
            return x.float()
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise FeatureSpaceError(
                f"{self.name} features need grey or RGB images, got samples of shape {tuple(x.shape[1:])}"
            )
        low, high = self.value_range
        if (low, high) != (-1.0, 1.0):
            x = (x - low) * (2.0 / (high - low)) - 1.0
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def extract(self, x: Tensor, device: torch.device, batch_size: int = 250) -> Tensor:
        return self.extract_with_logits(x, device, batch_size)[0]

    def extract_with_logits(
        self, x: Tensor, device: torch.device, batch_size: int = 250
    ) -> tuple[Tensor, Tensor | None]:
        """The features (float64) and, where the space has them, the class logits, from one pass."""
        if self._extractor is None:  # built once per bench: Inception's weights are 95 MB
            self._extractor = self._build_extractor().to(device)
        fx = self._extractor
        feats, logits = [], []
        with torch.no_grad():
            for chunk in x.split(batch_size):
                out = fx(self.prepare(chunk).to(device))
                feats.append(out[0].double().cpu())
                if self.logits_layer is not None:
                    logits.append(out[1].float().cpu())
        return torch.cat(feats), (torch.cat(logits) if logits else None)

    def _build_extractor(self) -> torch.nn.Module:
        """torch-fidelity's extractor. Its Inception loader unpickles its weights file without
        ``weights_only``, so it never gets a file from the cache (which anyone with write access could
        have replaced): the weights are read here with ``weights_only=True`` and handed over as a fresh
        copy in a private temporary folder."""
        if self.name == "classifier":
            return create_feature_extractor(
                self.extractor,
                [self.layer],
                cuda=False,
                feature_extractor_weights_path=str(self.weights),
                verbose=False,
            )
        if self.name not in ("inception", "vgg16"):
            return pretrained_extractor(self.name, self.layer, self.weights)
        state = _check_state(self.weights, *_EXPECTED[self.name])
        layers = [self.layer] + ([self.logits_layer] if self.logits_layer else [])
        with tempfile.TemporaryDirectory(prefix=f"ganzoo-{self.name}-") as private:  # mode 0700
            path = Path(private) / "weights.pt"
            torch.save(state, path)
            return create_feature_extractor(
                self.extractor, layers, cuda=False, feature_extractor_weights_path=str(path), verbose=False
            )

    def provenance(self) -> dict[str, object]:
        return {"features": self.name, "features_sha256": self.weights_sha256[:16], "resize": self.resize}


def classifier_space(data: Data, cache_dir: Path, device: torch.device) -> FeatureSpace:
    train, held_out = classifier_split(data)
    path, _ = ensure_classifier(data, cache_dir, device, (train, held_out))
    return FeatureSpace(
        "classifier", EXTRACTOR_NAME, path, file_sha256(path), "features", "none", reference_pool=held_out
    )


# per weights file torch-fidelity unpickles: a tensor that only the right network has, its shape, and what it is
_EXPECTED = {
    "inception": ("fc.weight", (1008, 2048), "torch-fidelity's inception-v3-compat weights"),
    "vgg16": ("classifier.3.weight", (4096, 4096), "torchvision's VGG-16 weights"),
}


def _check_state(path: Path, key: str, shape: tuple[int, ...], what: str) -> dict[str, Tensor]:
    try:
        with warnings.catch_warnings():  # torch's own account of a refused pickle: the one line below says it
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = torch_load_reason(exc)
        raise FeatureSpaceError(
            f"{path} is not a weights file ganzoo can load safely (weights_only=True): {type(exc).__name__}: {first}"
        ) from None
    if not isinstance(state, dict) or key not in state or tuple(getattr(state[key], "shape", ())) != shape:
        raise FeatureSpaceError(f"{path} does not hold {what} (no {key} of shape {'x'.join(map(str, shape))})")
    return state


def inception_space(weights: Path | None, cache_dir: Path) -> FeatureSpace:
    """Inception weights from ``weights``, torch's hub cache, or a download; checked and re-saved as
    plain tensors, because torch-fidelity itself loads the file with ``weights_only=False``."""
    safe, sha = _checked_copy(
        "inception", weights, INCEPTION_URL, cache_dir, "--features inception needs the Inception weights"
    )
    return FeatureSpace(
        "inception",
        INCEPTION_EXTRACTOR,
        safe,
        sha,
        "2048",
        "bilinear to 299x299 (torch-fidelity, TF1-compatible)",
        logits_layer="logits_unbiased",
    )


def vgg16_space(weights: Path | None, cache_dir: Path) -> FeatureSpace:
    """torchvision's ImageNet VGG-16 as torch-fidelity's ``vgg16`` extractor uses it (fc2 after ReLU, 4,096-d):
    the space Kynkäänniemi et al. took precision and recall in. Checked and re-saved as Inception's are."""
    safe, sha = _checked_copy(
        "vgg16", weights, VGG16_URL, cache_dir, "--features vgg16 needs torchvision's VGG-16 weights"
    )
    return FeatureSpace("vgg16", "vgg16", safe, sha, "fc2_relu", INPUT_RULES["vgg16"])


def _checked_copy(name: str, weights: Path | None, url: str, cache_dir: Path, needs: str) -> tuple[Path, str]:
    """The weights file of ``name`` (given, in torch.hub's cache, or downloaded there), read with
    ``weights_only=True``, checked to be that network's, and saved as plain tensors in the cache: the path of
    that copy, and the sha256 of the file it came from."""
    filename = url.rsplit("/", 1)[1]
    flag = "--inception-weights" if name == "inception" else "--features-weights"
    source = Path(weights) if weights is not None else Path(torch.hub.get_dir()) / "checkpoints" / filename
    if weights is not None and not source.is_file():
        raise FeatureSpaceError(f"{flag} {str(source)!r} does not exist")
    if not source.is_file():
        source.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                torch.hub.download_url_to_file(url, str(Path(tmp) / filename), progress=False)
                shutil.move(str(Path(tmp) / filename), source)
        except Exception as exc:
            raise FeatureSpaceError(
                f"{needs}, which are not in {source.parent} and could not be downloaded ({type(exc).__name__}). On a "
                f"machine with internet, download {url} and pass {flag} PATH (or copy it to {source}); or "
                "use --features classifier, which works offline."
            ) from None
    sha = file_sha256(source)
    safe = cache_dir / name / f"{sha[:16]}.pt"
    if safe.exists():
        try:
            _check_state(safe, *_EXPECTED[name])
        except FeatureSpaceError as exc:
            warnings.warn(
                f"cached {name} weights cannot be used ({exc}); copying them again from {source}",
                CacheWarning,
                stacklevel=3,
            )
            safe.unlink()
    if not safe.exists():
        atomic_torch_save(_check_state(source, *_EXPECTED[name]), safe)
    return safe, sha


# what each pretrained extractor does to a sample before it (torch-fidelity's code): written beside every value
INPUT_RULES = {
    "clip": "uint8 RGB, bilinear to 224x224 (torch-fidelity, TF1-compatible), CLIP mean/std",
    "dinov2": "uint8 RGB, bilinear to 224x224 (torch-fidelity, TF1-compatible), ImageNet mean/std",
    "vgg16": "uint8 RGB, bilinear to 224x224 (torch-fidelity, TF1-compatible), ImageNet mean/std",
}
CLIP_DOWNLOAD = "https://openaipublic.azureedge.net/clip/models/{hash}/{filename}.pt"


def _family(name: str) -> str:
    return name.split("-", 1)[0]


def pretrained_space(name: str, weights: Path | None, cache_dir: Path) -> FeatureSpace:
    """A torch-fidelity extractor by name, its weights found (or, offline, one line saying which option and
    what to download) before anything is computed."""
    if name == "inception":
        return inception_space(weights, cache_dir)
    if name == "vgg16":
        return vgg16_space(weights, cache_dir)
    if name not in FEATURE_SPACES or name == "classifier":
        raise FeatureSpaceError(f"unknown feature space {name!r} (known: {', '.join(FEATURE_SPACES)})")
    family = _family(name)
    if family == "clip":
        from torch_fidelity.feature_extractor_clip import MODEL_METADATA

        meta = MODEL_METADATA[name]
        url = CLIP_DOWNLOAD.format(**meta)
        source = (
            Path(weights)
            if weights is not None
            else Path(torch.hub.get_dir()) / "checkpoints" / f"{name}-{meta['hash']}.pt"
        )
        if weights is not None and not source.is_file():
            raise FeatureSpaceError(f"--features-weights {str(source)!r} does not exist")
        if not source.is_file():
            try:
                source.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(url, str(source), hash_prefix=meta["hash"], progress=False)
            except Exception as exc:
                raise FeatureSpaceError(
                    f"--features {name} needs OpenAI's CLIP weights, which are not in {source.parent} and could not be downloaded "
                    f"({type(exc).__name__}); on a machine with internet download {url} and pass --features-weights PATH"
                ) from None
        sha = file_sha256(source)
        if (
            sha != meta["hash"]
        ):  # torch-fidelity opens it with torch.jit.load: only the published file, checked by digest
            raise FeatureSpaceError(
                f"{source} is not OpenAI's {name} weights (sha256 {sha[:16]}..., expected {meta['hash'][:16]}...)"
            )
        return FeatureSpace(name, name, source, sha, "clip", INPUT_RULES["clip"])
    # DINOv2: torch-fidelity builds it through torch.hub (the facebookresearch/dinov2 code and its weights)
    if weights is not None:
        raise FeatureSpaceError(
            f"--features-weights: torch-fidelity loads {name} only through torch.hub, not from a file; leave "
            "it out (torch.hub's cache, TORCH_HOME, serves it offline once it has been downloaded)"
        )
    hub = Path(torch.hub.get_dir())
    code = hub / "facebookresearch_dinov2_main"
    arch = name.replace("dinov2-vit-", "").replace("-", "")  # s14, b14, l14, g14
    checkpoint = hub / "checkpoints" / f"dinov2_vit{arch}_pretrain.pth"
    if not (code.is_dir() and checkpoint.is_file()) and not hub_reachable():
        raise FeatureSpaceError(
            f"--features {name} needs torch.hub's facebookresearch/dinov2 code and its weights ({checkpoint.name}), which are not "
            f'in {hub} and cannot be downloaded here; on a machine with internet run: python -c "import torch; '
            f"torch.hub.load('facebookresearch/dinov2', 'dinov2_vit{arch}')\" and copy {hub} (or set TORCH_HOME)"
        )
    return FeatureSpace(
        name,
        name,
        checkpoint,
        file_sha256(checkpoint) if checkpoint.is_file() else f"hub:dinov2_vit{arch}",
        "dinov2",
        INPUT_RULES["dinov2"],
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether GitHub answers: torch.hub fetches DINOv2's code and weights from there."""
    import socket

    try:
        socket.create_connection(("github.com", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def pretrained_extractor(name: str, layer: str, weights: Path) -> torch.nn.Module:
    """torch-fidelity's extractor ``name`` (CLIP: from the checked weights file; DINOv2: through torch.hub)."""
    path = str(weights) if _family(name) == "clip" else None
    return create_feature_extractor(name, [layer], cuda=False, feature_extractor_weights_path=path, verbose=False)


def feature_space(
    name: str, data: Data, cache_dir: Path, device: torch.device, inception_weights: Path | None = None
) -> FeatureSpace:
    """The feature space ``name`` for ``data`` (``inception_weights``: the pretrained extractor's weights file)."""
    if name == "classifier":
        return classifier_space(data, cache_dir, device)
    if not data.info.is_image:
        raise FeatureSpaceError(f"--features {name} needs images; dataset {data.name!r} holds {data.info.describe()}")
    return replace(pretrained_space(name, inception_weights, cache_dir), value_range=data.info.value_range)


def real_features(
    space: FeatureSpace, data: Data, n: int, cache_dir: Path, device: torch.device, among: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """(indices, features) of ``n`` real samples drawn with a fixed seed from ``among`` (indices into
    ``data``; default all), cached per dataset content, pool and space."""
    pool = torch.arange(len(data)) if among is None else among
    if n > len(pool):
        raise ValueError(f"{n} reference samples asked of a pool of {len(pool)}")
    idx = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(0))[:n]]
    pool_key = hashlib.sha256(pool.numpy().tobytes()).hexdigest()[:16]
    key = hashlib.sha256(
        f"{data.name}|{data.split}|{data.content_hash}|{n}|{pool_key}|{space.name}|{space.weights_sha256}".encode()
    ).hexdigest()[:24]
    path = cache_dir / "features" / f"{safe_name(data.name)}-{data.split}-{space.name}-n{n}-{key}.pt"
    if path.exists():
        try:
            feats = torch.load(path, map_location="cpu", weights_only=True)
            if (
                isinstance(feats, Tensor)
                and feats.dim() == 2
                and len(feats) == n
                and feats.dtype == torch.float64
                and torch.isfinite(feats).all()
            ):
                return idx, feats
            problem = f"holds {type(feats).__name__} {tuple(getattr(feats, 'shape', ()))}, not {n} feature rows"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        warnings.warn(
            f"cached features {path} cannot be used ({problem}); computing them again", CacheWarning, stacklevel=2
        )
    feats = space.extract(data.floats(idx), device)
    atomic_torch_save(feats, path)
    return idx, feats
