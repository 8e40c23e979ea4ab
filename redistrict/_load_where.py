"""Which text columns a ``--where`` expression compares with numbers.

Identifiers are often stored as text (``"3024"``) and written in ``--where``
as numbers (``ONS_ID_gen3 != 3024``). pandas compares text with a number as
unequal, so ``==`` selects nothing and ``!=`` everything. The expression is
parsed as pandas parses it (``&`` and ``|`` as ``and`` and ``or``, names in
backticks) and every comparison of a text column with a number literal (under
any operator, under ``not``, in ``in`` and ``not in`` lists) is found from its
syntax, so the column can be compared as numbers whatever the result.
"""

from __future__ import annotations

import ast
import copy
import io
import itertools
import re
import tokenize
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Comparisons", "find_comparisons", "quoted", "text_columns"]

_BACKTICKED = re.compile(r"`([^`]*)`")
#: pandas reads ``&`` and ``|`` with the precedence of ``and`` and ``or``.
_BOOLEANS = {"&": "and", "|": "or"}


@dataclass
class Comparisons:
    """What a parsed ``--where`` compares each text column with."""

    #: Text columns compared with a number, in order of appearance.
    numbers: list[str] = field(default_factory=list)
    #: Text columns compared with a text literal.
    text: set[str] = field(default_factory=set)
    #: The parsed expression, with backticked names as placeholders.
    tree: ast.Expression | None = None
    #: Placeholder name to column name, for names written in backticks.
    names: dict[str, str] = field(default_factory=dict)


def text_columns(table: pd.DataFrame) -> set[str]:
    """Names of the columns of ``table`` that hold text."""
    return {
        str(c)
        for c in table.columns
        if pd.api.types.is_string_dtype(table[c].dtype) or pd.api.types.is_object_dtype(table[c].dtype)
    }


def find_comparisons(where: str, table: pd.DataFrame) -> Comparisons:
    """Find the text columns of ``table`` that ``where`` compares with numbers or with text.

    Parameters
    ----------
    where : str
        A pandas query.
    table : pandas.DataFrame
        The columns it is evaluated on.

    Returns
    -------
    Comparisons
        Empty when the expression cannot be parsed (pandas then reports why).
    """
    parsed = _parse(where)
    if parsed is None:
        return Comparisons()
    tree, names = parsed
    texts = text_columns(table)
    numeric = {str(c) for c in table.columns} - texts
    found = Comparisons(tree=tree, names=names)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for a, b in itertools.pairwise(operands):
            for column, other in ((_column(a, names), b), (_column(b, names), a)):
                if column not in texts:
                    continue
                if _is_number(other, names, numeric) and column not in found.numbers:
                    found.numbers.append(column)
                if _has_text(other):
                    found.text.add(column)
    return found


def quoted(found: Comparisons, column: str) -> str:
    """The expression with the numbers ``column`` is compared with written as text."""
    assert found.tree is not None
    tree = _Quote(column, found.names).visit(copy.deepcopy(found.tree))
    text = ast.unparse(tree)
    for placeholder, name in found.names.items():
        text = re.sub(rf"\b{placeholder}\b", f"`{name}`", text)
    return text


def _parse(where: str) -> tuple[ast.Expression, dict[str, str]] | None:
    """Parse ``where`` as pandas does; None when it is not a Python expression."""
    names: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        key = f"_backticked_{len(names)}_"
        names[key] = match.group(1)
        return key

    text = _BACKTICKED.sub(placeholder, where)
    try:
        tokens = [
            (tokenize.NAME, _BOOLEANS[tok.string])  # a name, so that untokenize spaces it out
            if tok.type == tokenize.OP and tok.string in _BOOLEANS
            else (tok.type, tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        ]
        return ast.parse(tokenize.untokenize(tokens).strip(), mode="eval"), names
    except (SyntaxError, tokenize.TokenError, ValueError):
        return None


def _column(node: ast.expr, names: dict[str, str]) -> str | None:
    """The column a bare name refers to."""
    return names.get(node.id, node.id) if isinstance(node, ast.Name) else None


def _is_number(node: ast.expr, names: dict[str, str], numeric: set[str]) -> bool:
    """Whether ``node`` is a number: a literal, a numeric column, arithmetic of them, or a list with one."""
    if isinstance(node, ast.Constant):
        return _literal_number(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        return _is_number(node.operand, names, numeric)
    if isinstance(node, ast.BinOp):
        return _is_number(node.left, names, numeric) and _is_number(node.right, names, numeric)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_is_number(e, names, numeric) for e in node.elts)
    return _column(node, names) in numeric


def _has_text(node: ast.expr) -> bool:
    """Whether ``node`` is a text literal or a list holding one."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_has_text(e) for e in node.elts)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


class _Quote(ast.NodeTransformer):
    """Write the number literals that one column is compared with as text literals."""

    def __init__(self, column: str, names: dict[str, str]) -> None:
        self.column = column
        self.names = names

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        operands = [node.left, *node.comparators]
        touched = {
            i
            for i in range(len(operands) - 1)
            for j in (i, i + 1)
            if _column(operands[j], self.names) == self.column
        }
        for i in touched:
            for j in (i, i + 1):
                operands[j] = _as_text(operands[j])
        node.left, node.comparators = operands[0], operands[1:]
        return node


def _as_text(node: ast.expr) -> ast.expr:
    """A number literal (or a list of them) written as text; anything else unchanged."""
    if _literal_number(node):
        assert isinstance(node, ast.Constant)
        return ast.Constant(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _literal_number(node.operand):
        assert isinstance(node.operand, ast.Constant)
        return ast.Constant("-" + str(node.operand.value))
    if isinstance(node, ast.List | ast.Tuple):
        return type(node)(elts=[_as_text(e) for e in node.elts], ctx=ast.Load())
    return node


def _literal_number(node: ast.expr) -> bool:
    """Whether ``node`` is a number literal (True and False are not)."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )
