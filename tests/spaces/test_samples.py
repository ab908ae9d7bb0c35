"""1,000 samples of every shipped space: all valid, all build, all counted exactly."""

from __future__ import annotations

import optuna
import pytest
import torch

from nas import build_model, count_cost, measure_cost, spaces

N = 1000
MEASURE_EVERY = 50  # FlopCounterMode on the meta device for these; parameters are checked for all


@pytest.mark.parametrize("name", spaces.names())
def test_samples_are_valid_build_and_count_exactly(name: str) -> None:
    space = spaces.load(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for i in range(N):
        trial = study.ask()
        spec = space.sample(trial)  # ArchSpec validates on construction: channel flow, map sizes
        study.tell(trial, 0.0)
        seen.add(spec.to_yaml())
        cost = count_cost(spec)
        with torch.device("meta"):
            model = build_model(spec)
        assert sum(p.numel() for p in model.parameters()) == cost.params
        if i % MEASURE_EVERY == 0:
            assert measure_cost(model, (1, 3, spec.resolution, spec.resolution)) == cost
    assert len(seen) > 0.95 * N  # the samples differ: the space is explored, not one network


@pytest.mark.parametrize("name", spaces.names())
def test_every_shared_and_scale_choice_appears(name: str) -> None:
    space = spaces.load(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    values: dict[str, set] = {}
    for _ in range(60):
        trial = study.ask()
        space.sample(trial)
        study.tell(trial, 0.0)
        for key, value in trial.params.items():
            if "." not in key:
                values.setdefault(key, set()).add(value)
    for key, node in [*space.shared.items(), *space.scale.items()]:
        if len(getattr(node, "labels", ())) > 1:  # a single option is fixed, not a parameter
            assert values[key] == set(node.labels)
