"""ganzoo table / compare / plot, on result files the tests write in ganzoo's own format."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from ganzoo import report
from ganzoo.cli import main
from ganzoo.results import ResultsWriter, Row, atomic_write_json, read_results


def write_bench(
    folder,
    values,
    *,
    budget="3steps",
    features="classifier",
    dataset="digits",
    metric="fid",
    status=None,
    settings=None,
):
    """values: {(variant, seed): [value at step 0, 1, 2, ...]}; status: {(variant, seed): "ok" | "failed" | None (no row)},
    ok by default; settings: {variant: "key=value"}."""
    w = ResultsWriter(folder)
    rows = []
    for (variant, seed), fids in values.items():
        tags = dict(budget=budget, settings=(settings or {}).get(variant, ""))
        run = f"{variant}-ns-s{seed}"
        for step, v in enumerate(fids):
            rows.append(
                Row(
                    run,
                    variant,
                    "nonsaturating",
                    dataset,
                    "all",
                    seed,
                    step,
                    step * 64,
                    step * (1.0 + seed / 10),
                    metric,
                    v,
                    features=features,
                    features_sha256="abc",
                    reference="digits/all",
                    reference_images=1797,
                    generated_images=1797,
                    resize="none",
                    **tags,
                )
            )
            rows.append(
                Row(
                    run,
                    variant,
                    "nonsaturating",
                    dataset,
                    "all",
                    seed,
                    step,
                    step * 64,
                    step * (1.0 + seed / 10),
                    "loss_d",
                    1.0,
                    **tags,
                )
            )
        state = (status or {}).get((variant, seed), "ok")
        if state is not None:
            last = len(fids) - 1
            rows.append(
                Row(
                    run,
                    variant,
                    "nonsaturating",
                    dataset,
                    "all",
                    seed,
                    last,
                    last * 64,
                    last * 1.0,
                    "status",
                    1.0 if state == "ok" else 0.0,
                    "ok" if state == "ok" else "FloatingPointError: nan",
                    **tags,
                )
            )
    w.add(rows)
    atomic_write_json(folder / "bench.json", {"config": {"budget": budget}})
    return folder


@pytest.fixture
def bench_a(tmp_path):
    return write_bench(
        tmp_path / "a",
        {("dcgan", 0): [100, 50, 30, 40], ("dcgan", 1): [100, 60, 35, 45], ("gan", 0): [200, 150, 120, 110]},
    )


def test_table_final_best_and_equal_budget(bench_a):
    t = report.table(read_results(bench_a), ["fid"]).set_index("variant")
    assert t.loc["dcgan", "final_mean"] == 42.5 and t.loc["dcgan", "best_mean"] == 32.5 and t.loc["dcgan", "seeds"] == 2
    assert t.loc["dcgan", "final_std"] == pytest.approx(np.std([40, 45], ddof=1))
    assert t.loc["dcgan", "is_best"] and not t.loc["gan", "is_best"]  # lower FID is better
    assert t.attrs["equal_budget"] == ("steps", 3)  # the benches' own budget measure
    assert "loss_d" not in set(report.table(read_results(bench_a))["metric"])


def test_equal_budget_is_the_largest_point_every_run_reached(tmp_path):
    a = write_bench(tmp_path / "a", {("dcgan", 0): [100, 50, 30, 40], ("gan", 0): [200, 150]})
    t = report.table(read_results(a), ["fid"], measure="steps").set_index("variant")
    assert t.loc["dcgan", "equal_mean"] == 50 and t.loc["gan", "equal_mean"] == 150


@pytest.mark.parametrize(
    "fmt, needle",
    [
        ("markdown", "| digits | dcgan | nonsaturating | fid | 2/2 ok | 42.5 ± 3.5 *"),
        ("latex", r"42.5 $\pm$ 3.5 *"),
        ("csv", "final_mean"),
        ("rich", "42.5 ± 3.5 *"),
    ],
)
def test_table_formats(bench_a, fmt, needle):
    result = CliRunner().invoke(main, ["table", str(bench_a), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert needle in result.output


def test_compare_reports_welch_interval_and_p_value(tmp_path, bench_a):
    b = write_bench(
        tmp_path / "b",
        {("dcgan", 0): [100, 50, 30, 20], ("dcgan", 1): [100, 60, 35, 22], ("gan", 0): [200, 150, 120, 100]},
    )
    c = report.compare(bench_a, b, ["fid"]).set_index("variant")
    x, y = np.array([40.0, 45.0]), np.array([20.0, 22.0])
    assert c.loc["dcgan", "change"] == pytest.approx(y.mean() - x.mean())
    assert c.loc["dcgan", "p_value"] == pytest.approx(stats.ttest_ind(y, x, equal_var=False).pvalue)
    assert c.loc["dcgan", "ci_low"] < c.loc["dcgan", "change"] < c.loc["dcgan", "ci_high"]
    assert np.isnan(c.loc["gan", "p_value"])  # one seed a side: no test
    result = CliRunner().invoke(main, ["compare", str(bench_a), str(b), "--metrics", "fid"])
    assert result.exit_code == 0 and "needs ≥2 seeds each" in result.output


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"dataset": "mnist"}, "datasets differ"),
        ({"features": "inception"}, "features differs"),
        ({"budget": "5s"}, "budgets differ"),
    ],
)
def test_compare_refuses_sets_that_mean_nothing_together(tmp_path, bench_a, kwargs, reason):
    b = write_bench(tmp_path / "b", {("dcgan", 0): [1, 2, 3, 4]}, **kwargs)
    result = CliRunner().invoke(main, ["compare", str(bench_a), str(b)])
    assert result.exit_code == 2 and reason in result.output
    assert len([l for l in result.output.splitlines() if l.strip()]) == 1


def test_plot_writes_a_png(tmp_path, bench_a):
    result = CliRunner().invoke(main, ["plot", str(bench_a), "--metric", "fid", "--out", str(tmp_path / "fig.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(main, ["plot", str(bench_a), "--metric", "fdi", "--out", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "fdi" in bad.output


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda df: df.drop(columns=["metric"]), "missing column(s) metric"),
        (
            lambda df: df.assign(step=df["step"].astype(object).where(df.index != 3, "three")),
            "line 5 (data row 4), column 'step': invalid value 'three'",
        ),
        (
            lambda df: df.assign(value=df["value"].astype(object).where(df.index != 0, "n/a")),
            "line 2 (data row 1), column 'value'",
        ),
        (lambda df: df.assign(seed=df["seed"].where(df.index != 1, -1)), "line 3 (data row 2), column 'seed'"),
    ],
)
def test_malformed_csv_names_file_row_and_column(tmp_path, bench_a, mutate, needle):
    df = pd.read_csv(bench_a / "results.csv")
    mutate(df).to_csv(tmp_path / "bad.csv", index=False)
    result = CliRunner().invoke(main, ["table", str(tmp_path / "bad.csv")])
    assert result.exit_code == 2 and needle in result.output and "bad.csv" in result.output


def test_foreign_file_is_refused(tmp_path):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    result = CliRunner().invoke(main, ["table", str(tmp_path / "other.csv")])
    assert result.exit_code == 2 and "not a ganzoo results file" in result.output


def test_best_over_the_run_leaves_out_the_untrained_generator(tmp_path):
    folder = write_bench(tmp_path / "a", {("dcgan", 0): [10, 50, 30, 40]})  # step 0 scores best by chance
    t = report.table(read_results(folder), ["fid"]).set_index("variant")
    assert t.loc["dcgan", "best_mean"] == 30


@pytest.mark.parametrize("metric, best", [("stacked_kl", "gan"), ("stacked_modes", "dcgan"), ("reverse_kl", "gan")])
def test_tables_rank_by_each_metrics_declared_direction(tmp_path, metric, best):
    folder = write_bench(tmp_path / "a", {("dcgan", 0): [6.9, 3.0, 2.0], ("gan", 0): [6.9, 1.0, 0.5]}, metric=metric)
    t = report.table(read_results(folder)).set_index("variant")
    assert t.loc[best, "is_best"] and t["is_best"].sum() == 1


def test_an_undeclared_metric_is_not_ranked(tmp_path):
    folder = write_bench(tmp_path / "a", {("dcgan", 0): [1.0, 2.0], ("gan", 0): [1.0, 3.0]}, metric="mystery")
    t = report.table(read_results(folder))
    assert not t["is_best"].any() and t["best_mean"].isna().all() and (t["final_mean"] > 0).all()


def test_failed_and_unfinished_runs_are_shown_and_never_counted(tmp_path):
    folder = write_bench(
        tmp_path / "a",
        {
            ("dcgan", 0): [100, 50, 30, 40],
            ("dcgan", 1): [100, 60, 35, 45],
            ("dcgan", 2): [100, 5],
            ("gan", 0): [200, 150, 120, 110],
            ("gan", 1): [200, 1],
        },
        status={("dcgan", 2): "failed", ("gan", 1): None},
    )
    t = report.table(read_results(folder), ["fid"]).set_index("variant")
    assert (
        t.loc["dcgan", "final_mean"] == 42.5 and t.loc["dcgan", "best_mean"] == 32.5
    )  # the failed run's 5 is not a result
    assert t.loc["gan", "final_mean"] == 110
    assert t.attrs["equal_budget"] == ("steps", 3)  # the failed run stopped at step 1 and does not pull it back
    assert t.loc["dcgan", "equal_mean"] == 42.5
    shown = report.display(report.table(read_results(folder), ["fid"])).set_index("variant")
    assert shown.loc["dcgan", "runs"] == "2/3 ok, 1 failed" and shown.loc["gan", "runs"] == "1/2 ok, 1 unfinished"


def test_compare_refuses_cells_whose_runs_did_not_all_finish(tmp_path, bench_a):
    b = write_bench(
        tmp_path / "b",
        {("dcgan", 0): [100, 50, 30, 20], ("dcgan", 1): [100, 60], ("gan", 0): [200, 150, 120, 100]},
        status={("dcgan", 1): "failed"},
    )
    c = report.compare(bench_a, b, ["fid"]).set_index("variant")
    assert np.isnan(c.loc["dcgan", "change"]) and "B: 1 of 2 runs failed" in c.loc["dcgan", "note"]
    assert c.loc["gan", "change"] == -10
    result = CliRunner().invoke(main, ["compare", str(bench_a), str(b), "--metrics", "fid"])
    assert result.exit_code == 0 and "refused" in result.output


def test_table_keeps_runs_with_different_settings_apart(tmp_path):
    a = write_bench(tmp_path / "a", {("gan", 0): [100, 50]}, settings={"gan": "lr=0.001"})
    b = write_bench(tmp_path / "b", {("gan", 0): [100, 70]})
    c = write_bench(tmp_path / "c", {("gan", 0): [100, 90]}, features="inception")
    t = report.table(report.load_many([a, b, c]), ["fid"]).set_index("setting")
    assert (
        t.loc["features=classifier lr=0.001", "final_mean"] == 50 and t.loc["features=classifier", "final_mean"] == 70
    )
    assert t.loc["features=inception", "final_mean"] == 90 and (t["seeds"] == 1).all()
    result = CliRunner().invoke(main, ["table", str(a), str(b), "--format", "markdown"])
    assert "| lr=0.001 |" in result.output


def test_nan_values_round_trip_through_results_csv(tmp_path):
    folder = write_bench(tmp_path / "a", {("gan", 0): [1.0, float("nan"), 2.0]}, metric="reverse_kl")
    df = read_results(folder)
    values = df[df.metric == "reverse_kl"].sort_values("step")["value"].tolist()
    assert values[0] == 1.0 and np.isnan(values[1]) and values[2] == 2.0
    assert "nan" in (folder / "results.csv").read_text()


def test_finished_runs_without_a_value_are_counted_and_said(tmp_path):
    """Three finished runs, one ending with a NaN reverse KL (no high-quality sample): the mean is over two, and
    the table, the paper-style table and the notes say so (before: '2/3 ok' read as one run failing)."""
    folder = write_bench(
        tmp_path / "a",
        {("gan", 0): [1.0, 0.5], ("gan", 1): [1.0, 0.7], ("gan", 2): [1.0, float("nan")]},
        metric="reverse_kl",
    )
    df = report.load_many([folder])
    t = report.table(df, ["reverse_kl"])
    assert (t["seeds"].iloc[0], t["undefined"].iloc[0], t["final_mean"].iloc[0]) == (2, 1, 0.6)
    assert report.display(t)["runs"].iloc[0] == "2/3 with a value, 1 finished without one (NaN)"
    assert report.paper_table(t)["reverse_kl"].iloc[0].endswith("(n=2; 1 NaN) *")
    assert any("1 finished run(s) end without a value of reverse_kl" in n for n in report.notes(df))


def test_kid_is_shown_as_papers_print_it_and_kept_raw(tmp_path):
    """In Inception features KID is printed x 10^3 with the scale in the header (before: 0.0154 with no scale said);
    in the classifier's, where it is of order 1 to 1e3, as it is. The CSVs keep the raw value. The classic wrong
    version scales the value and not the label (or the label only)."""
    plain = write_bench(tmp_path / "c", {("dcgan", 0): [500.0, 154.0]}, metric="kid")
    shown = report.display(report.table(report.load_many([plain]), ["kid"]))
    assert list(shown["metric"]) == ["kid"] and shown["final"].iloc[0].startswith("154")
    folder = write_bench(
        tmp_path / "k", {("dcgan", 0): [0.05, 0.0154], ("dcgan", 1): [0.05, 0.0166]}, metric="kid", features="inception"
    )
    t = report.table(report.load_many([folder]), ["kid"])
    shown = report.display(t)
    assert list(shown["metric"]) == ["kid ×10³"] and shown["final"].iloc[0].startswith("16 ± 0.85")
    wide = report.summary_wide(t)
    assert wide["kid"].iloc[0] == "16*" and wide.attrs["shown"]["kid"] == "kid ×10³"
    paper = report.paper_table(t, ["kid"])
    assert "kid ×10³" in paper.columns and paper["kid ×10³"].iloc[0].startswith("16 ± 0.6")
    raw = CliRunner().invoke(main, ["table", str(folder), "--format", "csv"]).output
    assert "0.016" in raw and "kid ×10³" not in raw
    md = CliRunner().invoke(main, ["table", str(folder), "--format", "markdown"]).output
    assert "kid ×10³" in md and "16 ± 0.85" in md
