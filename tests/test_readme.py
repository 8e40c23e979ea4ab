"""The README's geometry-free Python example runs as printed."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

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
