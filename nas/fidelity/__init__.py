"""How well each evaluator ranks networks: ``python -m nas.fidelity space=mnas data=fashion_mnist n=24``.

A seeded sample of a space, spread over the costs a budget allows, is trained with a reference protocol
(longer than any proxy, several seeds: their agreement is the noise ceiling) and scored by every
evaluator a search can use: parameter and MAC counts, the zero-cost scores, the proxy training at
several epoch counts, the search's ``combined`` screen, and with ``supernet.ckpt=PATH`` the accuracy with a
trained supernet's weights (``supernet``). Each evaluator's Kendall tau and Spearman rho
against the reference, with bootstrap intervals, its top-quartile recall and its seconds per candidate go
to ``results/fidelity_<space>_<data>.{json,md,png}``; every value to ``..._runs.csv``, which a rerun
resumes from.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from nas.cli import exits_on_usage_error, hydra_argv
from nas.errors import UsageError
from nas.fidelity._jobs import Job
from nas.fidelity._outputs import write
from nas.fidelity._run import Inherited, Study, execute, plan, prepare
from nas.fidelity._sample import Candidate, sample_networks
from nas.fidelity._settings import Combined, FidelitySettings, Reference, SupernetSettings, Training
from nas.fidelity._stats import (
    Agreement,
    Noise,
    agreement,
    bootstrap_interval,
    kendall,
    paired_interval,
    seed_noise,
    top_quartile_recall,
)
from nas.fidelity._summary import Summary, summarise
from nas.paths import CONF

COMMAND = "python -m nas.fidelity"


def settings_from(cfg: DictConfig) -> tuple[FidelitySettings, dict]:
    """The typed settings and the data module's config as plain data: all this package takes."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    data = plain.pop("data")
    return FidelitySettings.from_data(plain), data


@exits_on_usage_error
def run(settings: FidelitySettings, data: dict, command: str = COMMAND) -> list[Path]:
    """The whole study; returns the output files (the Markdown summary second)."""
    study = prepare(settings, data, Path(settings.out))
    jobs = plan(study)
    execute(study, jobs)
    summary = summarise(study)
    if summary is None:
        raise UsageError("fidelity: fewer than 4 networks have their reference trainings; nothing to rank")
    return write(study, summary, command, study_seconds(study, jobs) / settings.workers)


def study_seconds(study: Study, jobs: list[Job]) -> float:
    """The seconds of this study's values: its jobs' rows only, not those a journal keeps of other
    settings (an earlier protocol)."""
    rows = [study.journal.value(key) for job in jobs for key in study.keys(job).values()]
    return sum(r["seconds"] for r in rows if r is not None and r["seconds"] == r["seconds"])


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="fidelity")
def _main(cfg: DictConfig) -> None:
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    command = " ".join([COMMAND, *HydraConfig.get().overrides.task])
    settings, data = exits_on_usage_error(settings_from)(cfg)
    start = time.perf_counter()
    files = run(settings, data, command)
    print(files[1].read_text(), file=sys.stdout)
    print(
        f"({time.perf_counter() - start:.0f} s this run) wrote {', '.join(map(str, files))}", file=sys.stderr
    )


def main() -> None:
    hydra_argv("fidelity")
    _main()


__all__ = [
    "Agreement",
    "Candidate",
    "Combined",
    "FidelitySettings",
    "Inherited",
    "Noise",
    "Reference",
    "Study",
    "Summary",
    "SupernetSettings",
    "Training",
    "agreement",
    "bootstrap_interval",
    "kendall",
    "main",
    "paired_interval",
    "plan",
    "prepare",
    "run",
    "sample_networks",
    "seed_noise",
    "settings_from",
    "study_seconds",
    "summarise",
    "top_quartile_recall",
]
