"""``python -m nas.latency build|validate space=NAME device=cpu threads=1 backend=eager``: lookup tables and
their proof."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from nas import spaces
from nas.cli import exits_on_usage_error, hydra_argv
from nas.errors import UsageError
from nas.latency._build_table import build_table
from nas.latency._config import open_table, setting_from_config, table_path
from nas.latency._validate import results_name, validate, write_results
from nas.paths import CONF, RESULTS

COMMANDS = ("build", "validate")
USAGE = "usage: python -m nas.latency build|validate [space=NAME device=cpu threads=1 backend=eager n=50 ...]"


@exits_on_usage_error
def run(cfg: DictConfig) -> str:
    """Build or validate; returns the last line printed."""
    setting = setting_from_config(cfg)
    space = spaces.from_config(cfg.space)
    path = table_path(cfg, space.name, setting)
    if cfg.command == "build":
        table = open_table(path, setting, create=True)
        try:
            report = build_table(
                space,
                table,
                path,
                num_classes=cfg.num_classes,
                calibration_networks=cfg.calibration,
                part_time_s=cfg.part_time_s,
                passes=cfg.passes,
            )
        except KeyboardInterrupt:
            print(f"interrupted: {path} keeps {len(table)} parts; the same command resumes", file=sys.stderr)
            raise SystemExit(130) from None
        cal = table.calibration
        assert cal is not None
        line = (
            f"{path}: {report.parts} parts of {space.name} "
            f"({report.measured} timed now, {report.seconds:.0f} s); "
            f"overhead {cal.overhead_ms:.2f} ms per network, fit MAPE {100 * cal.mape:.1f}% on {cal.networks}"
        )
    else:
        if not isinstance(cfg.n, int) or cfg.n < 2:
            raise UsageError(f"n: expected an integer >= 2; got {cfg.n!r}")
        table = open_table(path, setting, create=False)
        result = validate(space, table, cfg.n, cfg.seed, cfg.num_classes)
        table.save(path)  # with the parts the drawn networks added
        backend = "" if setting.backend == "eager" else f" backend={setting.backend}"
        command = (
            f"python -m nas.latency validate space={space.name} device={cfg.device} "
            f"threads={cfg.threads}{backend} n={cfg.n}"
        )
        markdown = (
            Path(cfg.results) if cfg.results else RESULTS / results_name(setting.device, setting.backend)
        )
        files = write_results(result, table, command, markdown)
        print(f"wrote {', '.join(map(str, files))}")
        line = result.line()
    print(line)
    return line


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="latency")
def _main(cfg: DictConfig) -> None:
    run(cfg)


def main() -> None:
    """The first word is the command; the rest are Hydra overrides."""
    args = sys.argv[1:]
    if not args or args[0] not in COMMANDS:
        print(f"error: {USAGE}", file=sys.stderr)
        raise SystemExit(2)
    sys.argv[1:] = [f"command={args[0]}", *args[1:]]
    hydra_argv("latency")
    _main()
