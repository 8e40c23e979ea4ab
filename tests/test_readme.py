"""The README runs and says true things: its Python examples run as printed, and its command summaries list
every option of each command."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_hand_made_graph_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (example,) = [b for b in blocks if "from redistrict import Band, Problem, solve" in b]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, str(README), "exec"), {})
    status, *_ = out.getvalue().split()
    assert status == "optimal", out.getvalue()
    labels = ast.literal_eval(out.getvalue().split(" ", 2)[2])
    assert sorted(labels.count(u) for u in set(labels)) == [3, 3, 3]


def test_readme_demo_example_runs(tmp_path: Path, demo_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (example,) = [b for b in blocks if "from redistrict.load import load_inputs" in b]
    assert 'demo = "data/demo.gpkg"' in example
    # As printed, from the repository's folder, with a shorter time limit and the output in tmp_path.
    monkeypatch.chdir(demo_gpkg.parents[1])
    example = example.replace("time_limit=60", "time_limit=3").replace('"out"', repr(str(tmp_path / "out")))
    exec(compile(example, str(README), "exec"), {})
    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert record["households"] == 31700
    assert len(record["inputs"]) == 5  # roads, blocks, two barrier layers, the study area
    assert (tmp_path / "out" / "map.html").is_file()


#: ``plan``'s options that read the inputs: ``<input options>`` in the usages of ``compare`` and ``city``.
INPUT_OPTIONS = frozenset({
    "--roads", "--blocks", "--households", "--residents", "--road-class", "--major-classes",
    "--communities", "--community-id", "--community-name", "--barriers", "--offices", "--office-id",
    "--office-area", "--office-name", "--office-community", "--study-area", "--where",
})  # fmt: skip


def _usages() -> dict[str, str]:
    """Each command's usage lines (``[--option ...]``) in the README's Command line section, joined."""
    text = README.read_text(encoding="utf-8").split("## Command line", 1)[1].split("\n## ", 1)[0]
    usages: dict[str, str] = {}
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for usage in re.split(r"\n(?=redistrict )", block.strip()):
            if not usage.startswith("redistrict ") or "[--" not in usage:
                continue  # an example, not a usage
            command = usage.split()[1]
            usages[command] = usages.get(command, "") + " " + usage
    return usages


def test_readme_command_summaries_list_every_option() -> None:
    from typer.main import get_command

    from redistrict.cli import app

    usages = _usages()
    group = get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(usages) == set(commands)
    plan = usages["plan"]
    assert all(re.search(rf"{o}\b", plan) for o in INPUT_OPTIONS), plan
    for name, command in commands.items():
        usage = usages[name]
        shared = INPUT_OPTIONS if "<input options>" in usage else frozenset()
        for param in command.params:
            names = [o for o in param.opts if o.startswith("-")]
            if not names or names[0] == "--help":
                continue
            shown = any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", usage) for o in names)
            assert shown or names[0] in shared, f"redistrict {name}: {names[0]} missing from {usage}"


def test_road_class_defaults_are_listed_in_help_and_readme() -> None:
    from typer.models import OptionInfo

    from redistrict._cli_options import RoadClassOpt
    from redistrict._validate_roads import ROAD_CLASS_COLUMNS

    (info,) = [m for m in RoadClassOpt.__metadata__ if isinstance(m, OptionInfo)]
    help_text = str(info.help)
    listed = help_text.split("named ", 1)[1].rstrip(").").replace(" or ", ", ").split(", ")
    assert listed == list(ROAD_CLASS_COLUMNS)
    readme = README.read_text(encoding="utf-8").split("road class from `--road-class COL`", 1)[1][:300]
    assert re.findall(r"`([^`]+)`", readme)[: len(ROAD_CLASS_COLUMNS)] == list(ROAD_CLASS_COLUMNS)
