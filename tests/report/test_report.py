"""The report: every trial shown as what became of it, the plots inline, the networks block by block."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest
import yaml

from nas import zoo
from nas.report import regenerate, structure, write_report
from tests.report._study import CONFIG, ERROR, make_study


class _Tables(HTMLParser):
    """The cells of the all-trials table by trial number, and the ids of the elements with an <svg>."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, list[str]] = {}
        self.svg_in: set[str] = set()
        self._trial: int | None = None
        self._cell: list[str] | None = None
        self._ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-trial") is not None:
            self._trial = int(a["data-trial"])
            self.rows[self._trial] = []
        elif tag == "td" and self._trial is not None:
            self._cell = []
        elif tag == "figure":
            self._ids.append(a.get("id") or "")
        elif tag == "svg" and self._ids:
            self.svg_in.add(self._ids[-1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._trial is not None:
            self.rows[self._trial].append("".join(self._cell))
            self._cell = None
        elif tag == "tr":
            self._trial = None
        elif tag == "figure":
            self._ids.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


COLUMNS = ["trial", "status", "network", "macs", "params", "latency", "quality", "objective", "note"]


def parse(html: str) -> _Tables:
    tables = _Tables()
    tables.feed(html)
    return tables


def cells(tables: _Tables, number: int) -> dict[str, str]:
    return dict(zip(COLUMNS, tables.rows[number], strict=True))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run_dir = tmp_path_factory.mktemp("run")
    make_study(run_dir)
    files = regenerate(run_dir)
    assert files == [run_dir / "report.html", run_dir / "report.png"]
    return run_dir, (run_dir / "report.html").read_text()


def test_failed_pruned_and_over_budget_trials_are_shown_as_such_never_as_zeros(report) -> None:
    _, html = report
    tables = parse(html)
    assert len(tables.rows) == 13
    expected = {
        1: ("failed", "efficientnet_b0 (over budget)", ERROR),
        8: ("over budget", "searched", "rejected from its spec, never built or trained"),
        9: ("pruned", "searched", "screened out (synflow 12.5)"),
        10: ("pruned", "searched", "stopped after epoch 2"),
        11: ("failed", "searched", ERROR),
        12: ("running", "searched", "still being evaluated"),
    }
    for number, (status, network, note) in expected.items():
        row = cells(tables, number)
        assert (row["status"], row["network"], row["note"]) == (status, network, note)
        assert row["quality"] == status  # the state, not a number
        assert row["objective"] == "-"  # the over-budget placeholder (0.0) is not shown either
    evaluated = [cells(tables, n) for n in range(8) if n != 1]
    assert all(r["status"] == "complete" and 0.9 < float(r["quality"]) < 1 for r in evaluated)
    assert not any(re.fullmatch(r"0(\.0*)?", c) for row in tables.rows.values() for c in row[1:])
    assert "6 complete" not in html and "7 complete, 1 over budget, 2 pruned, 2 failed, 1 running" in html
    assert "The study is still running" in html


def test_plots_are_inline_svg_and_the_main_one_a_png_beside_the_page(report) -> None:
    run_dir, html = report
    tables = parse(html)
    assert {"pareto", "history", "importances"} <= tables.svg_in
    assert 'id="latency-missing"' in html  # no latency in this study: a sentence says why
    pareto = html[html.index('<figure id="pareto">') :]
    pareto = pareto[: pareto.index("</figure>")]
    for label in ("mnasnet_a1 (over budget)", "efficientnet_b0", "Pareto front (searched)", "failed (2)"):
        assert label in pareto
    assert "over budget, never trained (1)" in pareto and "pruned (screened out or stopped) (2)" in pareto
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing to fetch
    assert "<script" not in html
    png = (run_dir / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_best_networks_block_by_block_then_every_baseline(report) -> None:
    _, html = report
    headings = re.findall(r"<h3>Trial (\d+): ([\w]+)</h3>", html)
    # Top five by reward among the trials within budget, then the two baselines whatever their fate.
    assert headings == [("5", "searched"), ("3", "searched"), ("4", "searched"), ("7", "searched"),
                        ("6", "searched"), ("0", "mnasnet_a1"), ("1", "efficientnet_b0")]  # fmt: skip
    mnasnet = html[html.index("<h3>Trial 0: mnasnet_a1</h3>") : html.index("<h3>Trial 1:")]
    assert "status: complete (over budget, evaluated as a baseline)" in mnasnet
    rows = re.findall(r"<tr>(.*?)</tr>", mnasnet)[1:]
    assert len(rows) == 8  # stem conv + MnasNet-A1's seven stages
    third = re.findall(r"<td[^>]*>(.*?)</td>", rows[3])
    assert third == ["3", "mbconv", "5", "x3", "0.25 of input, sigmoid gate", "relu", "40", "3", "2"]
    failed = html[html.index("<h3>Trial 1: efficientnet_b0</h3>") : html.index("<h2>All trials")]
    assert "status: failed (over budget, evaluated as a baseline); 385.8M MACs, 5.29M params; " in failed
    assert ERROR in failed


def test_the_evaluation_settings_are_the_run_s_config(report) -> None:
    _, html = report
    settings = html[html.index("<h2>Evaluation settings</h2>") :]
    shown = yaml.safe_load(re.search(r"<pre>(.*?)</pre>", settings, re.S)[1])
    assert shown == CONFIG


def test_structure_has_every_stage_with_its_width() -> None:
    rows = structure(zoo.get("densenet121"))
    assert [(r.stage, r.block, r.width, r.repeats) for r in rows[:4]] == [
        ("stem 0", "conv", 64, 1),
        ("stem 1", "pool", 64, 1),
        ("1", "dense_layer", 256, 6),  # derived width: 64 + 6 x 32
        ("2", "transition", 128, 1),
    ]


def _small_study(run_dir: Path, n: int, **attrs: object) -> optuna.Study:
    study = optuna.create_study(storage=f"sqlite:///{run_dir / 'study.db'}", study_name="s")
    spec = zoo.get("mobilenet_v3_small")
    from nas import count_cost, dump_spec

    for i in range(n):
        user = {
            **count_cost(spec)._asdict(),
            "spec": dump_spec(spec),
            "feasible": True,
            "quality": 0.5 + i / 100,
            **{k: v + i if isinstance(v, float) else v for k, v in attrs.items()},
        }
        study.add_trial(
            optuna.trial.create_trial(
                value=0.5 + i / 100,
                params={"x": i},
                distributions={"x": optuna.distributions.IntDistribution(0, 10)},
                user_attrs=user,
            )
        )
    return study


def test_latency_plot_from_measurements_else_from_predictions(tmp_path: Path) -> None:
    predicted = tmp_path / "predicted"
    predicted.mkdir()
    write_report(_small_study(predicted, 3, latency_predicted_ms=4.0), predicted)
    html = (predicted / "report.html").read_text()
    assert 'id="latency"' in html and "latency, ms per image (predicted)" in html
    measured = tmp_path / "measured"
    measured.mkdir()
    study = _small_study(measured, 3, latency_predicted_ms=4.0)
    study.set_user_attr("latency_measured_ms", {str(t.number): 9.0 + t.number for t in study.trials})
    write_report(study, measured)  # the search keeps its finalists' measurements in the study
    html = (measured / "report.html").read_text()
    assert "latency, ms per image (measured)" in html and "(predicted)" not in html
    assert "11.00" in html  # trial 2's measurement


def test_too_few_trials_for_importances_is_said_not_raised(tmp_path: Path) -> None:
    write_report(_small_study(tmp_path, 2), tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert 'id="importances-missing"' in html
    assert "need at least 5 evaluated trials; this study has 2" in html
    assert 'id="pareto"' in html and "No configuration found" in html


def test_the_search_writes_its_report_before_the_summary(tmp_path: Path) -> None:
    from nas.search import run
    from tests.search.test_search import config

    files = run(config(tmp_path, "n_trials=3", "budget=400MFLOPs"), tmp_path)
    names = [f.name for f in files]
    assert names[-1] == "summary.md" and {"report.html", "report.png"} <= set(names)
    html = (tmp_path / "report.html").read_text()
    assert "mnasnet_a1" in html and "efficientnet_b0" in html  # the mnas space's baselines
    study = optuna.load_study(study_name="mnas-400MFLOPs", storage=f"sqlite:///{tmp_path / 'study.db'}")
    evaluation = study.user_attrs["evaluation"]
    assert evaluation["evaluator"] == "zero_cost" and evaluation["batch"] == 8
    assert '"evaluator": "zero_cost"' in unescape(html)
    assert "synflow (training-free score, higher is better)" in html


def _report_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.report", *args], capture_output=True, text=True, timeout=120
    )


def test_the_command_regenerates_a_report_from_the_storage_alone(tmp_path: Path) -> None:
    make_study(tmp_path, with_config=False)
    result = _report_cli(str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "report.html"), str(tmp_path / "report.png")]
    html = (tmp_path / "report.html").read_text()
    assert "7 complete, 1 over budget, 2 pruned, 2 failed, 1 running" in html


def test_the_config_s_storage_is_the_one_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    make_study(elsewhere, with_config=False)
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    config = {**CONFIG, "storage": f"sqlite:///{elsewhere / 'study.db'}"}
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    assert regenerate(run_dir)[0] == run_dir / "report.html"
    assert "13 of 16 planned" in (run_dir / "report.html").read_text()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "error: {d}/missing: no such directory"),
        (
            "empty",
            "error: {d}: no study here (no study.db, no storage in .hydra/config.yaml, and no sweep.yaml)",
        ),
        ("unreachable", "error: storage: cannot open 'postgresql://nobody@127.0.0.1:9/none'"),
        ("no_study", "error: storage: no study in 'sqlite:///{d}/study.db'"),
        ("wrong_name", "error: study: no study 'other' in 'sqlite:///{d}/study.db'; it holds mnas-300MFLOPs"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path
    if setup == "missing":
        target = tmp_path / "missing"
    elif setup in ("unreachable", "wrong_name"):
        storage = "postgresql://nobody@127.0.0.1:9/none" if setup == "unreachable" else None
        if setup == "wrong_name":
            make_study(tmp_path, with_config=False)
        (tmp_path / ".hydra").mkdir()
        study_name = "other" if setup == "wrong_name" else None
        (tmp_path / ".hydra" / "config.yaml").write_text(
            yaml.safe_dump({**CONFIG, "storage": storage, "study_name": study_name})
        )
    elif setup == "no_study":
        optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")  # tables, no study
    result = _report_cli(str(target))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message.format(d=tmp_path)), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (target / "report.html").exists()


def test_structure_shows_mixconv_kernels_per_group() -> None:
    kernels = {r.kernel for r in structure(zoo.get("mixnet_m"))}
    assert "3/5/7" in kernels and not any("(" in k for k in kernels)
