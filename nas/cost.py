"""``python -m nas.cost arch=NAME_OR_PATH``: a network's cost table, block by block, from its spec."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from nas.arch import LayerCost, cost_table
from nas.cli import arch_from_config, exits_on_usage_error, hydra_argv
from nas.paths import CONF


def format_table(rows: list[LayerCost], title: str) -> str:
    lines = [
        title,
        f"{'layer':<14}{'block':<18}{'input':>16}{'output':>16}{'MACs':>15}{'params':>12}{'act. bytes':>14}",
    ]
    for r in rows:
        where = r.path if r.repeat == 0 else f"{r.path}.{r.repeat}"
        shape_in, shape_out = "x".join(map(str, r.x)), "x".join(map(str, r.y))
        lines.append(
            f"{where:<14}{r.kind:<18}{shape_in:>16}{shape_out:>16}"
            f"{r.cost.macs:>15,}{r.cost.params:>12,}{r.cost.activation_bytes:>14,}"
        )
    total = sum((r.cost for r in rows[1:]), rows[0].cost)
    lines.append(f"{'total':<64}{total.macs:>15,}{total.params:>12,}{total.activation_bytes:>14,}")
    return "\n".join(lines)


@exits_on_usage_error
def run(cfg: DictConfig) -> str:
    spec = arch_from_config(cfg)
    resolution = spec.resolution if cfg.resolution is None else int(cfg.resolution)
    rows = cost_table(spec, resolution, int(cfg.num_classes))
    text = format_table(rows, f"{spec.name} at {resolution}x{resolution}, {cfg.num_classes} classes")
    print(text)
    return text


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="cost")
def _main(cfg: DictConfig) -> None:
    run(cfg)


def main() -> None:
    hydra_argv("cost")
    _main()


if __name__ == "__main__":
    main()
