"""A small study as the search leaves one, with every fate a trial can have: evaluated searched
networks, baselines (one over budget, one failed), a candidate over budget, pruned ones (screened out,
stopped in training), a failure and a trial still running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from nas import count_cost, dump_spec, zoo

STUDY = "mnas-300MFLOPs"
BUDGET = 300e6
CONFIG: dict[str, Any] = {
    "space": "mnas",
    "budget": "300MFLOPs",
    "n_trials": 16,
    "seed": 0,
    "storage": None,
    "study_name": None,
    "evaluator": {"kind": "combined", "score": "synflow", "keep": 0.25, "warmup": 6, "pruning": True},
    "objective": {"kind": "reward", "alpha": -0.07, "beta": -0.07},
    "trainer": {"max_epochs": 3},
    "data": {"name": "digits", "resolution": 32},
}
DISTRIBUTIONS = {
    "act": CategoricalDistribution(["relu", "swish"]),
    "kernel": CategoricalDistribution([3, 5]),
    "width": FloatDistribution(0.5, 1.5),
}
# (zoo network used as the trial's spec, val_acc): the searched networks that were trained.
SEARCHED = [
    ("shufflenet_v2_x1_5", 0.951),
    ("ghostnet", 0.946),
    ("mnasnet0_5", 0.917),
    ("mobilenet_v3_small", 0.903),
    ("mobilenet_v3_large", 0.958),
    ("shufflenet_v2_x1_0", 0.934),
]
ERROR = "FloatingPointError: loss is nan"


def make_study(run_dir: Path, *, with_config: bool = True) -> optuna.Study:
    """The study in ``run_dir/study.db`` (and the run's Hydra config beside it)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        storage=f"sqlite:///{run_dir / 'study.db'}", study_name=STUDY, direction="maximize"
    )
    params = iter(_params(i) for i in range(100))
    study.add_trial(_evaluated("mnasnet_a1", 0.969, next(params), baseline=True))  # over budget
    study.add_trial(_failed("efficientnet_b0", next(params), baseline=True))
    for name, acc in SEARCHED:
        study.add_trial(_evaluated(name, acc, next(params)))
    study.add_trial(_over_budget("mobilenet_v1", next(params)))
    study.add_trial(_pruned("shufflenet_v2_x0_5", next(params), screened=True))
    study.add_trial(_pruned("mnasnet0_5", next(params), screened=False))
    study.add_trial(_failed("ghostnet", next(params)))
    study.add_trial(create_trial(state=TrialState.RUNNING, params=next(params), distributions=DISTRIBUTIONS))
    if with_config:
        (run_dir / ".hydra").mkdir(exist_ok=True)
        (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    return study


def _params(i: int) -> dict[str, Any]:
    return {"act": ["relu", "swish"][i % 2], "kernel": [3, 5][(i // 2) % 2], "width": 0.5 + (i % 7) / 7}


def _attrs(name: str, baseline: bool) -> dict[str, Any]:
    spec = zoo.get(name)
    cost = count_cost(spec)
    attrs: dict[str, Any] = {
        **cost._asdict(),
        "spec": dump_spec(spec),
        "feasible": cost.macs <= BUDGET,
    }
    if baseline:
        attrs["baseline"] = name
    return attrs


def _reward(acc: float, macs: int) -> float:
    return acc * (macs / BUDGET) ** -0.07


def _evaluated(name: str, acc: float, params: dict[str, Any], baseline: bool = False) -> Any:
    attrs = {**_attrs(name, baseline), "val_acc": acc, "quality": acc, "synflow": 1e3 * acc}
    assert attrs["feasible"] or baseline, "the search trains no candidate over budget"
    return create_trial(
        value=_reward(acc, attrs["macs"]), params=params, distributions=DISTRIBUTIONS, user_attrs=attrs
    )


def _over_budget(name: str, params: dict[str, Any]) -> Any:
    attrs = _attrs(name, False)
    assert not attrs["feasible"]
    # As the search records it: the worst accuracy as a placeholder objective, never trained.
    return create_trial(value=0.0, params=params, distributions=DISTRIBUTIONS, user_attrs=attrs)


def _pruned(name: str, params: dict[str, Any], screened: bool) -> Any:
    attrs = {**_attrs(name, False), "synflow": 12.5}
    if screened:
        attrs["screened_out"] = True
    return create_trial(
        state=TrialState.PRUNED,
        params=params,
        distributions=DISTRIBUTIONS,
        user_attrs=attrs,
        intermediate_values={} if screened else {0: 0.31, 1: 0.42},
    )


def _failed(name: str, params: dict[str, Any], baseline: bool = False) -> Any:
    attrs = {**_attrs(name, baseline), "error": ERROR}
    return create_trial(state=TrialState.FAIL, params=params, distributions=DISTRIBUTIONS, user_attrs=attrs)
