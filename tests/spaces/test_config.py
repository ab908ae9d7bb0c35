"""The search space as a Hydra config group: ``space=NAME`` composes ``search_spaces/NAME.yaml`` into
``cfg.space``, every field is overridden with ordinary Hydra syntax, and the strict parser checks the
result; a mistake is one line naming its path, exit status 2."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nas import spaces
from nas.cli import check_overrides, compose, config_groups, rewrite_overrides
from nas.errors import SpecError, UsageError
from nas.paths import ROOT, SEARCH_SPACES
from nas.sweep import study_name, swept_keys

STAGE = "{block: mbconv, out: [320], repeats: [1], stride: 1, expand: [6], kernel: [3], act: $act}"


def space_of(*overrides: str) -> spaces.SearchSpace:
    return spaces.from_config(compose("search", list(overrides)).space)


def test_space_mnas_composes_the_shipped_file_into_the_config() -> None:
    cfg = compose("search", ["space=mnas"])
    assert cfg.space.name == "mnas"
    assert space_of("space=mnas") == spaces.load("mnas")  # the same space, whichever way it is read
    assert space_of("space=mobilenetv3") == spaces.load("mobilenetv3")


def test_overrides_change_the_space_and_its_fingerprint() -> None:
    base = spaces.load("mnas")
    edited = space_of(
        "space.shared.act=[relu,hswish]",
        "space.stages.3.kernel=[3,5,7]",
        "space.scale.width=[1.0,1.1,1.2]",
        "space.stages.0.se=[null]",
    )
    # 2 -> 3 kernels at stage 3, 1 -> 3 widths, 2 -> 1 SE choices at stage 0: the count says all three
    assert edited.size() == base.size() * 3 // 2 * 3 // 2
    assert edited.fingerprint() != base.fingerprint()
    act = repr(edited.shared["act"])
    assert "'hswish'" in act and "'swish'" not in act


def test_a_stage_is_added_with_plus_and_must_be_the_next_one() -> None:
    space = space_of(f"+space.stages.7={STAGE}")
    assert len(space.stages) == len(spaces.load("mnas").stages) + 1
    with pytest.raises(
        SpecError, match=r"space.stages\[9\]: cannot add entry 9: stages has 7, so the next is 7"
    ):
        space_of(f"+space.stages.9={STAGE}")


def test_a_space_file_is_a_choice_too_and_takes_the_same_overrides(tmp_path: Path) -> None:
    data = yaml.safe_load((SEARCH_SPACES / "mnas.yaml").read_text())
    data["name"] = "mine"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data))
    space = space_of(f"space={path}", "space.stages.0.se=[null]")
    assert space.name == "mine"
    assert space.size() == spaces.load("mnas").size() // 2
    # Hydra records the rewritten choice; read back, it is the same file
    (option,) = [o for o in rewrite_overrides([f"space={path}"], {"space": spaces.names()})]
    assert option.startswith("space=file:")
    assert space_of(option).name == "mine"


def command(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nas.search", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def test_help_lists_the_spaces_and_only_the_groups_a_search_uses() -> None:
    result = command("--help")
    assert result.returncode == 0, result.stderr
    groups = result.stdout.split("== Configuration groups ==")[1].split("== Config ==")[0]
    assert f"space: {', '.join(spaces.names())}" in groups
    assert "evaluator:" in groups and "sampler:" in groups
    assert "arch:" not in groups  # the zoo group, which a search does not compose


def test_cfg_job_prints_the_composed_space_with_its_overrides() -> None:
    result = command("--cfg", "job", "space=mobilenetv3", "space.scale.width=[1.0,1.25]")
    assert result.returncode == 0, result.stderr
    cfg = yaml.safe_load(result.stdout)
    assert cfg["space"]["name"] == "mobilenetv3"
    assert cfg["space"]["scale"]["width"] == [1.0, 1.25]


def edge_error(*overrides: str) -> str:
    """What the command prints for ``overrides``, checked in process as its edge checks them."""
    try:
        check_overrides("search", rewrite_overrides(list(overrides), config_groups()))
    except (SpecError, UsageError) as err:
        return f"error: {err}"
    return ""


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "space.stages.3.kernel=[3,4]",
            "error: space.stages[3].kernel: expected an odd kernel size >= 1; got 4",
        ),
        ("space.stages.9.kernel=[3]", "error: space.stages.9.kernel: list index out of range"),
        ("space.stagez=[1]", "error: space.stagez: Key 'stagez' is not in struct"),
        ("space.scale.width=[0]", "error: space.scale.width: expected multipliers > 0; got 0"),
        ("space=missing/space.yaml", "error: space: no space file at missing/space.yaml"),
        # a sweep (-m): every value is checked before the first job, here the second fails
        ("space.scale.width=[1.0],[1.0,0]", "error: space.scale.width: expected multipliers > 0; got 0"),
        ("space.scale.width=[1.0],[1.0,1.2]", ""),
    ],
)
def test_a_bad_override_names_its_path(override: str, message: str) -> None:
    assert edge_error(override) == message


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "space.stages.3.kernel=[3,4]",
            "error: space.stages[3].kernel: expected an odd kernel size >= 1; got 4",
        ),
        ("space.stages.9.kernel=[3]", "error: space.stages.9.kernel: list index out of range"),
        ("space=nope", "error: space: unknown space 'nope'; expected one of: families, mnas, mobilenetv3"),
    ],
)
def test_a_bad_override_is_one_line_and_exit_status_2(tmp_path: Path, override: str, message: str) -> None:
    result = command(
        override, "evaluator=zero_cost", "n_trials=1", "data=digits", f"hydra.run.dir={tmp_path}"
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == message
    assert "HYDRA_FULL_ERROR" not in result.stderr and "Traceback" not in result.stderr


TINY = ["evaluator=zero_cost", "evaluator.batch_size=8", "data=digits", "data.limit_train=64",
        "data.limit_val=32", "workers=1", "baselines=[]"]  # fmt: skip


def test_the_study_records_the_edited_space_and_refuses_another(tmp_path: Path) -> None:
    storage = f"storage=sqlite:///{tmp_path / 'study.db'}"
    edited = command(
        "space.stages.0.se=[null]", "n_trials=2", storage, *TINY, f"hydra.run.dir={tmp_path / 'a'}"
    )
    assert edited.returncode == 0, edited.stderr
    fingerprint = space_of("space.stages.0.se=[null]").fingerprint()
    summary = (tmp_path / "a" / "summary.md").read_text()
    assert f"- Space overrides: `space.stages.0.se=[null]` (fingerprint {fingerprint})." in summary
    assert (
        f"mnas (fingerprint {fingerprint}), overrides: space.stages.0.se=[null]"
        in (tmp_path / "a" / "report.html").read_text()
    )
    # the same study, joined with the shipped space: another fingerprint, refused before any trial
    plain = command("n_trials=3", storage, *TINY, f"hydra.run.dir={tmp_path / 'b'}")
    assert plain.returncode == 2
    assert f"searches space 'mnas' ({fingerprint})" in plain.stderr
    assert f"asks for space 'mnas' ({spaces.load('mnas').fingerprint()})" in plain.stderr


def documented_commands() -> list[tuple[list[str], str]]:
    """Each ``python -m nas.search`` line of search_spaces/README.md's command-line section, with the
    error line that follows it, if any."""
    text = (SEARCH_SPACES / "README.md").read_text().split("## Changing a space from the command line")[1]
    lines = [line.strip() for line in text.split("\n## ")[0].splitlines()]
    found = []
    for i, line in enumerate(lines):
        if line.startswith("python -m nas.search"):
            args = shlex.split(line.split("  #")[0], comments=False)[3:]
            after = lines[i + 1] if i + 1 < len(lines) else ""
            found.append((args, after.removeprefix("# ") if after.startswith("# error:") else ""))
    return found


def test_what_the_space_readme_documents_works_as_documented(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # where the example's space file is
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "mine.yaml").write_text((SEARCH_SPACES / "mnas.yaml").read_text())
    commands = documented_commands()
    assert len(commands) >= 8  # the section's examples, the sweep and the error included
    for args, error in commands:
        overrides = [a for a in args if a != "-m"]
        assert edge_error(*overrides) == error, args
    (sweep,) = [args for args, _ in commands if "-m" in args]
    swept = swept_keys([a for a in sweep if a != "-m"])
    assert swept == ("space.scale.width",)
    names = [study_name("mnas", [f"space.scale.width={v}"], swept) for v in ("[1.0]", "[1.0,1.2]")]
    assert names == ["mnas-width1.0", "mnas-width1.0_1.2"]
