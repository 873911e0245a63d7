"""What the commands share: the one-line input error, option callbacks that check a value before anything loads,
the feature-space options of ``bench`` and ``score``, and the tables they print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from ganzoo import config as configuration
from ganzoo import registry
from ganzoo.config import Settings

if TYPE_CHECKING:
    import pandas as pd


class InputError(click.BadParameter):
    """A bad value: one line naming it, exit code 2, nothing trained or written."""

    def show(self, file=None) -> None:  # type: ignore[override]
        click.echo(f"Error: {self.format_message() if self.param is not None else self.message}", err=True)


def names_arg(kind: str):
    reg = registry.REGISTRIES[kind]

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
        if value is None:
            return None
        names = [v.strip() for v in value.split(",") if v.strip()]
        if not names:
            raise InputError(f"give at least one {kind[:-1]} name", ctx=ctx, param=param)
        if kind == "variants":  # LABEL=VARIANT, or a preset's label: plan() checks them
            return names
        for name in names:
            if name not in reg.names():
                raise InputError(registry.unknown_message(kind[:-1], name, reg.names()), ctx=ctx, param=param)
        return names

    return callback


def one_name_arg(kind: str):
    many = names_arg(kind)

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
        names = many(ctx, param, value)
        if len(names) != 1:
            raise InputError(f"give one {kind[:-1]} name, got {value!r}", ctx=ctx, param=param)
        return names[0]

    return callback


def dataset_arg(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``NAME`` or ``NAME:ARGUMENT``; the name must be installed, the argument is checked by the dataset."""
    name, sep, argument = value.partition(":")
    one_name_arg("datasets")(ctx, param, name)
    if sep and not argument.strip():
        raise InputError(f"nothing after ':' in {value!r}; give NAME or NAME:ARGUMENT", ctx=ctx, param=param)
    return value


def seeds_arg(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    """``5`` -> 0..4; ``0,3,7``; ``10-19`` (inclusive); mixed ``0,5-7``."""
    text = str(value).strip()
    if text.isdigit() and "," not in text:
        if int(text) < 1:
            raise InputError(f"--seeds {text}: a count must be at least 1", ctx=ctx, param=param)
        return list(range(int(text)))
    seeds: list[int] = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()) or (dash and int(hi) < int(lo)):
            raise InputError(
                f"--seeds {value!r}: {part.strip()!r} is not a seed or a range A-B with A <= B "
                "(give a count 5, a list 0,3,7 or a range 10-19)",
                ctx=ctx,
                param=param,
            )
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    duplicates = sorted({s for s in seeds if seeds.count(s) > 1})
    if duplicates:
        raise InputError(
            f"--seeds {value!r}: seed(s) {', '.join(map(str, duplicates))} given twice", ctx=ctx, param=param
        )
    return seeds


def settings_arg(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    try:
        return Settings.parse(values)
    except ValueError as exc:
        raise InputError(str(exc), ctx=ctx, param=param) from None


def metric_list_arg(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    return [m.strip() for m in value.split(",") if m.strip()] if value else None


FEATURES_OPTION = click.option(
    "--features",
    type=click.Choice(configuration.FEATURE_SPACES),
    default="classifier",
    show_default=True,
    help="Feature space of fid/kid/precision/recall/density/coverage: the dataset classifier (offline), inception (comparable with "
    "papers), vgg16 (Kynkäänniemi et al.'s space for precision/recall), or torch-fidelity's CLIP and DINOv2 extractors "
    "(dinov2-vit-l-14 as dgm-eval reports). Input rules: docs/metrics.md.",
)

FEATURES_WEIGHTS_OPTION = click.option(
    "--features-weights",
    "--inception-weights",
    "inception_weights",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Local weights of the --features extractor (Inception: torch-fidelity's file; VGG-16: torchvision's "
    "vgg16-397923af.pth; CLIP: OpenAI's file), for offline use.",
)


def data_source_options(whose: str):  # noqa: ANN201 - a click decorator
    """``--data-dir``, ``--split`` and ``--download``, as bench and score take them (``whose``: the dataset's role)."""

    def apply(fn):  # noqa: ANN001, ANN202
        for option in reversed(
            (
                click.option(
                    "--data-dir",
                    type=click.Path(file_okay=False, path_type=Path),
                    help=f"Where {whose} files are (e.g. MNIST's idx files).",
                ),
                click.option(
                    "--split", default="auto", show_default=True, help="Dataset split; auto uses what is there."
                ),
                click.option(
                    "--download/--no-download",
                    default=True,
                    show_default=True,
                    help="Let a dataset download its files when they are missing.",
                ),
            )
        ):
            fn = option(fn)
        return fn

    return apply


CACHE_DIR_OPTION = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache of classifiers and reference features. [default: $GANZOO_CACHE or ~/.cache/ganzoo]",
)
DEVICE_OPTION = click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")


def report_errors(fn):
    """Errors in result files or metric names: one line, exit code 2."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from ganzoo.report import NotComparable  # here: the decorator runs at import, and report imports pandas
        from ganzoo.results import ResultsFileError

        try:
            return fn(*args, **kwargs)
        except (ResultsFileError, NotComparable, ValueError) as exc:
            raise InputError(str(exc)) from None

    return wrapper


def rich_table(w: pd.DataFrame, title: str, width: int | None = None) -> None:
    rt = Table(title=title)
    for col in w.columns:
        rt.add_column(str(col), overflow="fold")  # a narrow terminal wraps a value, never cuts it
    for row in w.itertuples(index=False):
        rt.add_row(*[str(v) for v in row])
    Console(width=width or (250 if not sys.stdout.isatty() else None)).print(rt)


def sweep_manifest(results: tuple[Path, ...]) -> dict | None:
    """The bench.json of a single sweep folder, or None."""
    from ganzoo.report import sweep_record
    from ganzoo.results import read_manifest

    if len(results) != 1 or not Path(results[0]).is_dir():
        return None
    manifest = read_manifest(Path(results[0]))
    return manifest if sweep_record(manifest) is not None else None


def sweep_display(best: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from ganzoo.report import shown_scale

    k = (
        pd.Series([shown_scale(m, f) for m, f in zip(best["metric"], best.get("features", [None] * len(best)))])
        if len(best)
        else 1.0
    )
    return pd.DataFrame(
        {
            "variant/divergence": best["variant"] + "/" + best["divergence"],
            "samples": best["samples"],
            "best": [f"{v:.4g}" for v in best["best"] * k],
            "median": [f"{v:.4g}" for v in best["median"] * k],
            # a space after each ';' lets a narrow table wrap between settings, never inside a number
            "best settings": best["best settings"].str.replace(";", "; "),
        }
    )


def sweep_judged_by(best: pd.DataFrame) -> str:
    """What a sweep's best settings were chosen by, for a table's title: the metric and which value of each sample."""
    if best.empty:
        return "-"
    from ganzoo.report import shown_name

    features = best["features"].iloc[0] if "features" in best else None
    return f"{shown_name(best['metric'].iloc[0], features)}, each sample's {best['select'].iloc[0]}"
