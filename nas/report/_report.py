"""What a report says about a study, gathered from the storage (and the run's config), then drawn."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from matplotlib.figure import Figure
from optuna.importance import FanovaImportanceEvaluator, get_param_importances

from nas.report import _html, _plots
from nas.report._content import Report
from nas.report._source import Source, default_storage, hide_password, plain_config
from nas.study import (
    BUDGET,
    EVALUATION,
    PRESET,
    SPACE_DIGEST,
    SPACE_NAME,
    SPACE_OVERRIDES,
    Budget,
    Metric,
    TrialRecord,
    finalists_of,
    measured_latencies,
    parse_budget,
    trial_records,
)

REPORT = "report.html"
FIGURE = "report.png"
MIN_IMPORTANCE_TRIALS = 5  # fANOVA on fewer evaluated trials says nothing


def write_report(
    study: optuna.Study,
    run_dir: Path,
    *,
    config: Any = None,
    evaluation: Mapping[str, Any] | None = None,
    storage: str | None = None,
) -> list[Path]:
    """Write ``report.html`` and ``report.png`` (the accuracy-MACs plot) into ``run_dir``.

    ``config`` is the run's config (plain data, or an OmegaConf config); ``evaluation`` what the evaluator did
    (``Evaluator.describe()``), kept as a study attribute so that a report regenerated later shows it
    (a resumed study keeps the record of the last run that finished, as its ``summary.md`` does).
    """
    if evaluation is not None and study.user_attrs.get(EVALUATION) != dict(evaluation):
        study.set_user_attr(EVALUATION, dict(evaluation))
    config = plain_config(config)
    storage = storage or (config or {}).get("storage") or default_storage(run_dir)
    source = Source(storage, study.study_name, config, run_dir)
    return write(study, source)


def write(study: optuna.Study, source: Source) -> list[Path]:
    assert source.run_dir is not None
    report = gather(study, source)
    main = accuracy_macs(report)
    report.figures["pareto"] = _plots.svg(main, "pareto")
    _add_latency(report)
    report.figures["history"] = _plots.svg(_plots.history(report.rows, report.objective), "history")
    if isinstance(report.importances, dict):
        report.figures["importances"] = _plots.svg(_plots.importances(report.importances), "importances")
    else:
        report.notes["importances"] = report.importances
    html, png = source.run_dir / REPORT, source.run_dir / FIGURE
    html.write_text(_html.render(report))
    png.write_bytes(_plots.png(main))
    return [html, png]


def gather(study: optuna.Study, source: Source) -> Report:
    config = source.config
    trials = study.get_trials(deepcopy=False)
    quality_key, quality = _quality(config, trials)
    rows = trial_records(trials, quality_key, measured_latencies(study))
    return Report(
        study_name=study.study_name,
        storage=hide_password(source.storage_label()),
        directions=[d.name.lower() for d in study.directions],
        rows=rows,
        config=config,
        evaluation=study.user_attrs.get(EVALUATION),
        budgets=_budgets(config, study.user_attrs.get(BUDGET)),
        quality=quality,
        objective=_objective_label(config, quality, len(study.directions)),
        importances=importances(trials, quality_key),
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        space=space_label(study.user_attrs, config),
        preset=study.user_attrs.get(PRESET),
        finalists=finalists_of(study.user_attrs, rows),
    )


def space_label(attrs: Mapping[str, Any], config: Mapping[str, Any] | None) -> str:
    """``mnas (fingerprint 1a2b...), overrides: space.stages.0.se=[null]``, from what the study recorded;
    a study made before it recorded its space shows the config's ``space`` as it was."""
    name = attrs.get(SPACE_NAME)
    if name is None:
        return str((config or {}).get("space", "unknown (no config in the run directory)"))
    label = f"{name} (fingerprint {attrs.get(SPACE_DIGEST, '?')})"
    overrides = attrs.get(SPACE_OVERRIDES) or []
    return label + (f", overrides: {' '.join(overrides)}" if overrides else "")


def accuracy_macs(report: Report) -> Figure:
    limit = next((b for b in report.budgets if b.metric is Metric.MACS), None)
    x = _plots.macs_axis(limit and limit.limit, str(limit) if limit else "")
    return _plots.accuracy_vs(report.rows, x, report.quality, front=True)


def _add_latency(report: Report) -> None:
    """Accuracy against measured latency, else against the predictor's, else a sentence saying why not."""
    timed = [r for r in report.rows if r.latency_ms is not None]
    measured = [r for r in timed if not r.latency_predicted]
    if not timed:
        report.notes["latency"] = (
            "No latency: this search had no latency budget, so no candidate was timed or predicted."
        )
        return
    kind = "measured" if measured else "predicted"
    limit = next((b for b in report.budgets if b.metric is Metric.LATENCY), None)
    x = _plots.Axis(
        f"latency, ms per image ({kind})",
        lambda r: r.latency_ms if r.latency_predicted == (kind == "predicted") else None,
        limit and limit.limit,
        str(limit) if limit else "",
    )
    figure = _plots.accuracy_vs(report.rows, x, report.quality, front=True)
    report.figures["latency"] = _plots.svg(figure, "latency")


def importances(trials: list[optuna.trial.FrozenTrial], quality_key: str) -> dict[str, float] | str:
    """Which choices mattered for the quality (fANOVA over the evaluated trials), or why it is not known.

    Computed on the quality, not the objective: over-budget candidates carry a placeholder objective and
    were never evaluated, and would otherwise count as the worst networks of the space.
    """
    records = {t.number: TrialRecord.of(t, quality_key) for t in trials}
    evaluated = [t for t in trials if records[t.number].quality is not None and t.distributions]
    if len(evaluated) < MIN_IMPORTANCE_TRIALS:
        return (
            f"Hyper-parameter importances need at least {MIN_IMPORTANCE_TRIALS} evaluated trials; "
            f"this study has {len(evaluated)}."
        )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "new study created" line for this one
    try:
        study = optuna.create_study(direction="maximize")  # in memory: the run's study is only read
    finally:
        optuna.logging.set_verbosity(verbosity)
    for t in evaluated:
        study.add_trial(
            optuna.trial.create_trial(
                params=t.params, distributions=t.distributions, value=records[t.number].quality
            )
        )
    try:
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError) as err:  # e.g. no parameter shared by all trials
        return f"Hyper-parameter importances could not be computed: {err}"
    return found or "Hyper-parameter importances: no parameter varies across the evaluated trials."


def _quality(config: dict[str, Any] | None, trials: list[optuna.trial.FrozenTrial]) -> tuple[str, str]:
    """The attribute that holds the quality, and its axis label."""
    evaluator = (config or {}).get("evaluator") or {}
    if _chosen(evaluator) == "ZeroCostEvaluator":
        score = str(evaluator.get("score", "score"))
        return score, f"{score} (training-free score, higher is better)"
    if config is None and not any("val_acc" in t.user_attrs for t in trials):
        return "quality", "quality"
    return "val_acc", "validation accuracy (proxy task)"


def _objective_label(config: dict[str, Any] | None, quality: str, n_objectives: int) -> str:
    objective = (config or {}).get("objective") or {}
    if n_objectives > 1 or _chosen(objective) == "Pareto":
        return quality
    if _chosen(objective) == "Reward":
        return f"reward ACC x (COST/TARGET)^w, w = {objective.get('alpha')} / {objective.get('beta')}"
    return "objective"


# Studies written before evaluators and objectives were chosen by `_target_` recorded a `kind`.
_KINDS = {
    "train": "TrainEvaluator",
    "zero_cost": "ZeroCostEvaluator",
    "combined": "CombinedEvaluator",
    "reward": "Reward",
    "pareto": "Pareto",
}


def _chosen(group: dict[str, Any]) -> str:
    """The class a config group chose: its ``_target_``'s last name, or the one its ``kind`` meant."""
    target = group.get("_target_")
    if target:
        return str(target).rsplit(".", 1)[-1]
    return _KINDS.get(str(group.get("kind")), "")


def _budgets(config: dict[str, Any] | None, searched: str | None) -> tuple[Budget, ...]:
    """The budgets as the study searched them (a ``latency:NAME`` target resolved on its machine), else as
    the config wrote them."""
    if not config and searched is None:
        return ()
    try:
        if searched is not None:
            return parse_budget(searched if searched != "none" else None)
        return parse_budget((config or {}).get("budget"))
    except Exception:  # a report still shows the trials of a run whose budget text we cannot read
        return ()
