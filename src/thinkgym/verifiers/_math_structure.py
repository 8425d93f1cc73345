"""The shape of an answer (sets, tuples, intervals, relations, matrices) and how shapes compare.

Only the outer structure is read here: brackets, top-level commas, ``\\cup``, relation signs,
``\\pm``, matrix environments. Every leaf stays a LaTeX string and is judged by a `LeafOps`:
`FastOps` (plain numbers, in the caller's process, raises `NeedSymbolic` when it cannot decide)
or the sympy-backed ops in ``_math_sympy`` (only ever inside the bounded worker). Both run the
same comparison rules below, so the fast path can never disagree with the slow one.

Rules that are deliberately asymmetric (gold first): a predicted interval may match a gold
inequality but not the reverse; a gold assignment ``x = 5`` accepts ``5``; a gold set or bare
list ignores order, a tuple does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from thinkgym.verifiers._math_numbers import (
    INF,
    numbers_equal,
    parse_infinity,
    parse_number,
)

__all__ = [
    "NeedSymbolic",
    "Leaf",
    "Seq",
    "Interval",
    "SetUnion",
    "Relation",
    "Matrix",
    "parse",
    "equal",
    "LeafOps",
    "FastOps",
    "is_scalar",
    "canonical_text",
    "brace_scripts",
    "is_label",
]

MAX_ITEMS = 64


class NeedSymbolic(Exception):
    """The fast path cannot decide this comparison; the symbolic worker must."""


@dataclass(frozen=True)
class Leaf:
    text: str


@dataclass(frozen=True)
class Seq:
    kind: str  # "set" | "list" | "tuple" | "paren" (two items in round brackets) | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Interval:
    lo: Leaf
    hi: Leaf
    left_closed: bool
    right_closed: bool


@dataclass(frozen=True)
class SetUnion:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Relation:
    terms: tuple[Node, ...]
    ops: tuple[str, ...]  # "=", "~", "<", "<=", ">", ">=", "!="


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Node, ...], ...]


Node = Leaf | Seq | Interval | SetUnion | Relation | Matrix

# ---------------------------------------------------------------------------------------------
# Scanning at bracket depth 0
# ---------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\\[A-Za-z]+|\\.|<=|>=|!=|[\s\S]")
_OPENERS = {"(", "[", "{", "\\{", "\\langle", "\\begin", "\\lbrace", "\\lbrack"}
_CLOSERS = {")", "]", "}", "\\}", "\\rangle", "\\end", "\\rbrace", "\\rbrack"}
_REL_TOKENS = {
    "=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=",
    "\\lt": "<", "\\gt": ">", "\\le": "<=", "\\leq": "<=", "\\leqq": "<=", "\\ge": ">=",
    "\\geq": ">=", "\\geqq": ">=", "\\ne": "!=", "\\neq": "!=", "\\approx": "~", "≈": "~",
    "\\equiv": "=", "\\in": "in",
}
_CUP_TOKENS = {"\\cup", "∪"}
_OR_TOKENS = {"\\lor", "\\vee"}
_SEP_TOKENS = {",", ";"}
_SUCH_THAT_TOKENS = {"|", "\\mid", ":"}


def _tokens(s: str) -> list[tuple[int, int, str, int]]:
    """``(start, end, token, depth)`` for every token; depth counts enclosing brackets."""
    out = []
    depth = 0
    for match in _TOKEN_RE.finditer(s):
        tok = match.group(0)
        if tok in _CLOSERS:
            depth = max(depth - 1, 0)
            out.append((match.start(), match.end(), tok, depth))
        elif tok in _OPENERS:
            out.append((match.start(), match.end(), tok, depth))
            depth += 1
        else:
            out.append((match.start(), match.end(), tok, depth))
    return out


def _split(s: str, toks: list[tuple[int, int, str, int]], seps: set[str]) -> list[str]:
    parts, last = [], 0
    for start, end, tok, depth in toks:
        if depth == 0 and tok in seps:
            parts.append(s[last:start])
            last = end
    parts.append(s[last:])
    return parts


_OR_WORD_RE = re.compile(r"\s+(?:or|and)\s+")


def _split_words(s: str, toks: list[tuple[int, int, str, int]]) -> list[str]:
    """Split on top-level " or " / " and " (words between answers)."""
    spans = [(m.start(), m.end()) for m in _OR_WORD_RE.finditer(s)]
    if not spans:
        return [s]
    depth_at = {}
    for start, _end, _tok, depth in toks:
        depth_at[start] = depth
    parts, last = [], 0
    for start, end in spans:
        if depth_at.get(start, 0) == 0:
            parts.append(s[last:start])
            last = end
    parts.append(s[last:])
    return parts


def _enclosed(s: str, toks: list[tuple[int, int, str, int]]) -> tuple[str, str, str] | None:
    """``(opener, inner, closer)`` when one bracket pair wraps the whole string."""
    if len(toks) < 2:
        return None
    first, last = toks[0], toks[-1]
    if first[2] not in _OPENERS or last[2] not in _CLOSERS or first[2] == "\\begin":
        return None
    for _start, _end, _tok, depth in toks[1:-1]:
        if depth == 0:
            return None
    return first[2], s[first[1] : last[0]], last[2]


_GROUPED_NUMBER_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA_RE = re.compile(r"-?\d+,\d+")
_MATRIX_RE = re.compile(
    r"^\\begin\{(pmatrix|bmatrix|Bmatrix|vmatrix|Vmatrix|matrix|smallmatrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$",
    re.S,
)
_PM_RE = re.compile(r"\\pm(?![A-Za-z])|\\mp(?![A-Za-z])|±|∓")


def parse(text: str, *, decimal_comma: bool = False) -> Node:
    """The structure of a cleaned answer (see the module docstring)."""
    return _parse(text.strip(), decimal_comma, 0)


def _parse(s: str, decimal_comma: bool, level: int) -> Node:
    s = s.strip()
    if level > 12:
        return Leaf(s)
    toks = _tokens(s)
    parts = [p for p in _split_words(s, toks)]
    if len(parts) == 1:
        parts = _split(s, toks, _OR_TOKENS)
    if len(parts) > 1:
        return Seq("or", tuple(_parse(p, decimal_comma, level + 1) for p in parts if p.strip())[:MAX_ITEMS])
    complement = _complement(s, toks, decimal_comma, level)
    if complement is not None:
        return complement
    parts = _split(s, toks, _CUP_TOKENS)
    if len(parts) > 1:
        return SetUnion(tuple(_parse(p, decimal_comma, level + 1) for p in parts)[:MAX_ITEMS])
    if _GROUPED_NUMBER_RE.fullmatch(s):
        return Leaf(s.replace(",", ""))
    if decimal_comma and _DECIMAL_COMMA_RE.fullmatch(s):
        return Leaf(s.replace(",", "."))
    parts = _split(s, toks, _SEP_TOKENS)
    if len(parts) > 1:
        items = [_parse(p, False, level + 1) for p in parts if p.strip()][:MAX_ITEMS]
        first = items[0] if items else None
        if (
            isinstance(first, Relation)
            and first.ops == ("=",)
            and len(items) > 1
            and not any(isinstance(i, Relation) for i in items[1:])
        ):
            return Relation((first.terms[0], Seq("list", (first.terms[1], *items[1:]))), ("=",))
        return Seq("list", tuple(items))
    relation = _relation(s, toks, decimal_comma, level)
    if relation is not None:
        return relation
    matrix = _MATRIX_RE.match(s)
    if matrix:
        rows = [r for r in re.split(r"\\\\", matrix.group(2)) if r.strip()]
        return Matrix(
            tuple(tuple(_parse(c, False, level + 1) for c in row.split("&")) for row in rows[:MAX_ITEMS])
        )
    enclosed = _enclosed(s, toks)
    if enclosed:
        node = _parse_enclosed(*enclosed, decimal_comma, level)
        if node is not None:
            return node
    if _PM_RE.search(s):  # "a \pm b" and "\frac{-1 \pm \sqrt 5}{2}" both state two values
        plus = _PM_RE.sub(lambda m: "+" if m.group(0) in ("\\pm", "±") else "-", s)
        minus = _PM_RE.sub(lambda m: "-" if m.group(0) in ("\\pm", "±") else "+", s)
        return Seq("set", (Leaf(plus.strip()), Leaf(minus.strip())))
    return Leaf(s)


_REALS = {"(-\\infty,\\infty)", "\\mathbb{R}", "\\mathbbR", "ℝ", "R"}


def _complement(s: str, toks: list[tuple[int, int, str, int]], decimal_comma: bool, level: int) -> Node | None:
    """``\\mathbb{R} \\setminus [1, 3]`` → ``(-∞, 1) ∪ (3, ∞)``; ``ℝ \\setminus \\{2\\}`` → ``(-∞, 2) ∪ (2, ∞)``."""
    parts = _split(s, toks, {"\\setminus", "\\backslash"})
    if len(parts) != 2:
        return None
    removed = _parse(parts[1], decimal_comma, level + 1)
    if parts[0].replace(" ", "") not in _REALS:
        base = _parse(parts[0], decimal_comma, level + 1)
        if isinstance(base, Interval) and isinstance(removed, Seq) and removed.kind == "set" and len(removed.items) == 1:
            point = removed.items[0]  # [1, 3] \ {2} = [1, 2) ∪ (2, 3] (the point is taken to lie inside)
            if isinstance(point, Leaf):
                return SetUnion(
                    (Interval(base.lo, point, base.left_closed, False), Interval(point, base.hi, False, base.right_closed))
                )
        return None
    if isinstance(removed, Interval):
        lo, hi = removed.lo, removed.hi
        return SetUnion(
            (Interval(Leaf("-\\infty"), lo, False, not removed.left_closed),
             Interval(hi, Leaf("\\infty"), not removed.right_closed, False))
        )
    if isinstance(removed, Seq) and removed.kind == "set" and len(removed.items) == 1 and isinstance(removed.items[0], Leaf):
        point = removed.items[0]
        return SetUnion((Interval(Leaf("-\\infty"), point, False, False), Interval(point, Leaf("\\infty"), False, False)))
    return None


def _parse_enclosed(opener: str, inner: str, closer: str, decimal_comma: bool, level: int) -> Node | None:
    """What one bracket pair around the whole answer makes: a set, tuple, pair or interval."""
    inner_toks = _tokens(inner)
    items_text = [p for p in _split(inner, inner_toks, _SEP_TOKENS)]
    if len(items_text) == 1 and not items_text[0].strip():
        items_text = []
    items = tuple(_parse(p, False, level + 1) for p in items_text[:MAX_ITEMS])
    if opener in ("\\{", "\\lbrace"):
        builder = _split(inner, inner_toks, _SUCH_THAT_TOKENS)
        if len(builder) == 2 and builder[1].strip():  # {x | x > 3}: the condition is the set
            return _parse(builder[1], decimal_comma, level + 1)
        return Seq("set", items)
    if opener == "\\langle":
        return Seq("tuple", items)
    if opener == "{":
        return _parse(inner, decimal_comma, level + 1)
    if opener in ("(", "[", "\\lbrack") and closer in (")", "]", "\\rbrack"):
        if len(items) == 1:
            return _parse(inner, decimal_comma, level + 1)
        if len(items) == 2:
            lo, hi = items
            if opener == "(" and closer == ")" and not _infinite_end(lo, hi):
                return Seq("paren", items)  # (a, b): a pair or an open interval; the context decides
            if isinstance(lo, Leaf) and isinstance(hi, Leaf):
                return Interval(lo, hi, opener != "(", closer != ")")
        return Seq("tuple", items)
    return None


def _infinite_end(lo: Node, hi: Node) -> bool:
    """``(3, \\infty)``: an endpoint at infinity makes round brackets an interval, never a pair."""
    return isinstance(lo, Leaf) and isinstance(hi, Leaf) and (
        parse_infinity(lo.text) is not None or parse_infinity(hi.text) is not None
    )


def _relation(s: str, toks: list[tuple[int, int, str, int]], decimal_comma: bool, level: int) -> Node | None:
    terms, ops, last = [], [], 0
    for start, end, tok, depth in toks:
        if depth == 0 and tok in _REL_TOKENS:
            # "\le" etc. must not be the prefix of a longer command (handled by the tokenizer)
            terms.append(s[last:start])
            ops.append(_REL_TOKENS[tok])
            last = end
    if not ops:
        return None
    terms.append(s[last:])
    if "in" in ops:  # "x \in (1, 2]" is the set on the right
        return _parse(terms[-1], decimal_comma, level + 1)
    if any(not t.strip() for t in terms):
        return Leaf(s)
    return Relation(tuple(_parse(t, decimal_comma, level + 1) for t in terms), tuple(ops))


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


class LeafOps(Protocol):
    """How leaves compare; the fast implementation raises `NeedSymbolic` when unsure."""

    def leaf_eq(self, pred: str, gold: str) -> bool: ...

    def value(self, text: str) -> Any: ...

    def equation_eq(self, pred: Sequence[str], gold: Sequence[str]) -> bool: ...

    def inequality_set(self, terms: Sequence[str], ops: Sequence[str]) -> tuple[list[tuple], str] | None: ...


_VARIABLE_RE = re.compile(
    r"^(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?'*(?:\((?:[A-Za-z](?:,\s*[A-Za-z])*)?\))?$"
)
_LATEX_CONSTANT_COMMANDS = re.compile(r"\\(?:frac|sqrt|pi|infty|cdot|times|div|left|right|text|e)(?![A-Za-z])")


_LABEL_ATOM = (
    r"(?:m?\\angle|\\overline|\\overrightarrow|\\vec|\\widehat|\\triangle|\\text|\\mathrm)?\{?"
    r"(?:[A-Za-z]{1,4}|\\(?!frac|sqrt|pi(?![A-Za-z])|infty|cdot|times|div|log|ln|sin|cos|tan|left|right)[A-Za-z]+)"
    r"\}?(?:_\{?[A-Za-z0-9,]{1,6}\}?)?(?:\^\{?-1\}?)?'*(?:\([A-Za-z0-9,]{1,12}\))?"
)
_LABEL_RE = re.compile(
    rf"^(?:{_LABEL_ATOM}(?:[:/]{_LABEL_ATOM})*|\\frac\{{{_LABEL_ATOM}\}}\{{{_LABEL_ATOM}\}})$"
)
_CONSTANT_NAMES = ("\\pi", "\\infty", "e", "i", "\\e", "\\i")


def is_label(text: str) -> bool:
    """A name a value is given to: ``x``, ``AB``, ``V_1:V_2``, ``\\frac{AD}{DC}``, ``f(2)``, ``m\\angle A``."""
    s = text.replace(" ", "")
    return bool(_LABEL_RE.match(s)) and s not in _CONSTANT_NAMES


def _is_variable(node: Node) -> bool:
    if isinstance(node, Leaf):
        text = node.text.replace(" ", "")
        return (bool(_VARIABLE_RE.match(text)) or is_label(text)) and text not in _CONSTANT_NAMES
    if isinstance(node, Seq) and node.kind in ("paren", "tuple"):
        return all(_is_variable(i) for i in node.items)
    return False


def _is_constant(node: Node) -> bool:
    if not isinstance(node, Leaf):
        return False
    rest = _LATEX_CONSTANT_COMMANDS.sub("", node.text)
    return not re.search(r"[A-Za-z]", rest)


_SCRIPT_RE = re.compile(r"([\^_])([A-Za-z0-9])(?![A-Za-z0-9])")  # x^2 -> x^{2}, never x^10
_SQRT_RE = re.compile(r"\\sqrt([A-Za-z0-9])(?![A-Za-z0-9])")
_FRAC_DIGITS_RE = re.compile(r"\\frac(\d)(\d)")
_FRAC_HALF_RE = re.compile(r"\\frac\{([^{}]*)\}(\d)|\\frac(\d)\{")


def brace_scripts(text: str) -> str:
    """``x^2`` → ``x^{2}``, ``\\log_e 2`` → ``\\log_{e} 2`` (never ``x^10``, which readers mean as x^{10})."""
    return _SCRIPT_RE.sub(r"\1{\2}", text) if ("^" in text or "_" in text) else text


def canonical_text(text: str) -> str:
    """One spelling of a LaTeX leaf: no spaces, braced scripts (``x^2`` → ``x^{2}``), braced
    ``\\sqrt3`` and ``\\frac12``. Equal canonical texts are equal answers, no sympy needed."""
    s = text.replace(" ", "")
    if "\\frac" in s:
        s = _FRAC_DIGITS_RE.sub(r"\\frac{\1}{\2}", s)
        s = _FRAC_HALF_RE.sub(
            lambda m: f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}" if m.group(1) is not None else f"\\frac{{{m.group(3)}}}{{",
            s,
        )
    if "\\sqrt" in s:
        s = _SQRT_RE.sub(r"\\sqrt{\1}", s)
    return brace_scripts(s)


def _canon(node: Node) -> str:
    if isinstance(node, Leaf):
        return canonical_text(node.text)
    if isinstance(node, Seq):
        return f"{node.kind}(" + ",".join(_canon(i) for i in node.items) + ")"
    if isinstance(node, Interval):
        return f"{'[' if node.left_closed else '('}{_canon(node.lo)},{_canon(node.hi)}{']' if node.right_closed else ')'}"
    if isinstance(node, SetUnion):
        return "U(" + ",".join(_canon(p) for p in node.parts) + ")"
    if isinstance(node, Relation):
        out = _canon(node.terms[0])
        for op, term in zip(node.ops, node.terms[1:], strict=False):
            out += op + _canon(term)
        return f"R({out})"
    return "M(" + ";".join(",".join(_canon(c) for c in row) for row in node.rows) + ")"


def _leaf_texts(node: Node) -> list[str] | None:
    return [node.text] if isinstance(node, Leaf) else None


def equal(pred: Node, gold: Node, ops: LeafOps) -> bool:
    """Whether ``pred`` states the same answer as ``gold`` (see the module docstring)."""
    if _canon(pred) == _canon(gold):
        return True
    if isinstance(gold, Relation):
        return _equal_gold_relation(pred, gold, ops)
    if isinstance(gold, Seq) and gold.kind == "or":
        if all(_is_inequality(i) for i in gold.items):
            return _equal_sets(pred, gold, ops)
        gold = Seq("list", gold.items)
    if isinstance(pred, Relation):
        if (_is_inequality(pred) or pred.ops == ("!=",)) and _allows_intervals(gold, ops):
            return _equal_sets(pred, gold, ops)
        value = _relation_value(pred, ops)
        return value is not None and equal(value, gold, ops)
    if isinstance(gold, (Interval, SetUnion)):
        return _equal_sets(pred, gold, ops)
    if isinstance(pred, Seq) and pred.kind == "or":
        pred = Seq("list", pred.items)
    if isinstance(gold, Matrix):
        return _equal_matrix(pred, gold, ops)
    if isinstance(gold, Seq):
        return _equal_seq(pred, gold, ops)
    if isinstance(gold, Leaf):
        if isinstance(pred, Leaf):
            return ops.leaf_eq(pred.text, gold.text)
        if isinstance(pred, Seq) and pred.kind in ("set", "list") and len(pred.items) == 1:
            return equal(pred.items[0], gold, ops)
        return False
    return False


def _equal_seq(pred: Node, gold: Seq, ops: LeafOps) -> bool:
    """A gold set or list (unordered), or a tuple / pair (ordered)."""
    if gold.kind == "paren" and _is_inequality(pred) and _allows_intervals(gold, ops):
        return _equal_sets(pred, gold, ops)
    if gold.kind in ("set", "list"):
        items = _unordered_items(pred, gold.kind)
        return items is not None and _multiset_equal(items, list(gold.items), ops)
    if isinstance(pred, Seq) and pred.kind in ("tuple", "paren", "list") and len(pred.items) == len(gold.items):
        return all(equal(p, g, ops) for p, g in zip(pred.items, gold.items, strict=False))
    if isinstance(pred, Matrix):
        flat = _vector(pred)
        return flat is not None and len(flat) == len(gold.items) and all(
            equal(p, g, ops) for p, g in zip(flat, gold.items, strict=False)
        )
    return False


def _unordered_items(pred: Node, gold_kind: str) -> list[Node] | None:
    if isinstance(pred, Seq) and pred.kind in ("set", "list", "or"):
        return list(pred.items)
    if isinstance(pred, Seq) and pred.kind in ("tuple", "paren") and gold_kind == "list":
        return list(pred.items)
    if isinstance(pred, (Leaf, Matrix)):
        return [pred]
    return None


def _dedupe(items: list[Node]) -> list[Node]:
    seen, out = set(), []
    for item in items:
        key = _canon(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _multiset_equal(pred: list[Node], gold: list[Node], ops: LeafOps) -> bool:
    pred, gold = _dedupe(pred), _dedupe(gold)
    if len(pred) != len(gold):
        return False
    n = len(gold)
    cache: dict[tuple[int, int], bool] = {}

    def eq(i: int, j: int) -> bool:
        if (i, j) not in cache:
            cache[(i, j)] = equal(pred[i], gold[j], ops)
        return cache[(i, j)]

    match_of_gold: list[int | None] = [None] * n

    def augment(i: int, seen: set[int]) -> bool:
        for j in range(n):
            if j not in seen and eq(i, j):
                seen.add(j)
                if match_of_gold[j] is None or augment(match_of_gold[j], seen):
                    match_of_gold[j] = i
                    return True
        return False

    return all(augment(i, set()) for i in range(n))


def _vector(node: Matrix) -> list[Node] | None:
    if len(node.rows) == 1:
        return list(node.rows[0])
    if all(len(r) == 1 for r in node.rows):
        return [r[0] for r in node.rows]
    return None


def _equal_matrix(pred: Node, gold: Matrix, ops: LeafOps) -> bool:
    if isinstance(pred, Matrix):
        if [len(r) for r in pred.rows] != [len(r) for r in gold.rows]:
            pv, gv = _vector(pred), _vector(gold)  # a row vector written as a column (or vice versa)
            if pv is None or gv is None or len(pv) != len(gv):
                return False
            return all(equal(p, g, ops) for p, g in zip(pv, gv, strict=False))
        return all(equal(p, g, ops) for pr, gr in zip(pred.rows, gold.rows, strict=False) for p, g in zip(pr, gr, strict=False))
    flat = _vector(gold)
    if flat is not None and isinstance(pred, Seq) and pred.kind in ("tuple", "paren", "list"):
        return len(pred.items) == len(flat) and all(equal(p, g, ops) for p, g in zip(pred.items, flat, strict=False))
    return False


def _relation_value(pred: Relation, ops: LeafOps) -> Node | None:
    """The value a predicted relation states: ``x = 5`` → 5, ``x = 2 + 3 = 5`` → 5.

    A relation is true or false as a whole: between constants (``3 = 2``, ``1 + 2 = 3``) it
    states its last term only when every term equals it.
    """
    if not all(op in ("=", "~") for op in pred.ops):
        return None
    first, last = pred.terms[0], pred.terms[-1]
    constants = [t for t in pred.terms if _is_constant(t)]
    if len(constants) > 1 and "~" not in pred.ops and _is_constant(last):
        # "a + b = 3 + 4 = 8": every constant in the chain must equal the stated value
        if not all(equal(t, last, ops) for t in constants[:-1]):
            return None
    if _is_variable(first):
        return last
    if _is_constant(last) and _canon(last) != "0":  # "x^2 - 9 = 0" states an equation, not 0
        return last
    if len(pred.terms) == 2 and _is_variable(last):
        return first
    return None


def _is_inequality(node: Node) -> bool:
    return isinstance(node, Relation) and all(op in ("<", "<=", ">", ">=") for op in node.ops)


def _same_variable(a: Node, b: Node) -> bool:
    return _canon(a) == _canon(b)


def _equal_gold_relation(pred: Node, gold: Relation, ops: LeafOps) -> bool:
    if all(op in ("=", "~") for op in gold.ops):
        lhs, value = gold.terms[0], gold.terms[-1]
        if _is_variable(lhs):  # an assignment: x = 5, (x, y) = (1, 2), f(x) = x + 1
            if isinstance(pred, Relation):
                if not all(op in ("=", "~") for op in pred.ops):
                    return False
                if _same_variable(pred.terms[0], lhs):
                    return equal(pred.terms[-1], value, ops)
                if len(pred.terms) == 2 and _same_variable(pred.terms[-1], lhs):
                    return equal(pred.terms[0], value, ops)
                if _is_variable(pred.terms[0]):
                    return False  # an assignment to another variable
                return _equations_equal(pred, gold, ops)
            if isinstance(pred, Seq) and any(isinstance(i, Relation) for i in pred.items):
                return False
            return equal(pred, value, ops)
        if isinstance(pred, Relation) and all(op in ("=", "~") for op in pred.ops):
            return _equations_equal(pred, gold, ops)
        return False
    if "!=" in gold.ops:
        if isinstance(pred, Relation):
            return pred.ops == gold.ops and all(
                equal(p, g, ops) for p, g in zip(pred.terms, gold.terms, strict=False)
            )
        return _equal_sets(pred, gold, ops)  # x != 3 as (-oo, 3) U (3, oo)
    if isinstance(pred, Relation) and not _is_inequality(pred):
        return False
    return _equal_sets(pred, gold, ops)


def _equations_equal(pred: Relation, gold: Relation, ops: LeafOps) -> bool:
    if len(pred.terms) != 2 or len(gold.terms) != 2:
        return False
    p, g = [_leaf_texts(t) for t in pred.terms], [_leaf_texts(t) for t in gold.terms]
    if any(t is None for t in p + g):
        return False
    return ops.equation_eq([t[0] for t in p], [t[0] for t in g])  # type: ignore[index]


# ---- sets of reals: intervals, unions, inequalities ---------------------------------------------


def _intervals(node: Node, ops: LeafOps, allow_relations: bool) -> tuple[list[tuple], str | None] | None:
    """``([(lo_text, hi_text, left_closed, right_closed), ...], variable)`` or ``None``."""
    if isinstance(node, Interval):
        return [(node.lo.text, node.hi.text, node.left_closed, node.right_closed)], None
    if isinstance(node, Seq) and node.kind == "paren" and all(isinstance(i, Leaf) for i in node.items):
        return [(node.items[0].text, node.items[1].text, False, False)], None  # type: ignore[union-attr]
    if isinstance(node, (SetUnion, Seq)) and (isinstance(node, SetUnion) or node.kind == "or"):
        parts = node.parts if isinstance(node, SetUnion) else node.items
        out: list[tuple] = []
        variables = set()
        for part in parts:
            got = _intervals(part, ops, allow_relations)
            if got is None:
                return None
            out.extend(got[0])
            if got[1]:
                variables.add(got[1])
        if len(variables) > 1:
            return None
        return out, (variables.pop() if variables else None)
    if allow_relations and isinstance(node, Relation) and node.ops == ("!=",):
        sides = [_leaf_texts(t) for t in node.terms]
        variables = [i for i, t in enumerate(sides) if t is not None and _is_variable(Leaf(t[0]))]
        if len(variables) == 1 and all(t is not None for t in sides):
            var, value = sides[variables[0]][0], sides[1 - variables[0]][0]  # type: ignore[index]
            return [("-\\infty", value, False, False), (value, "\\infty", False, False)], var.replace(" ", "")
        return None
    if allow_relations and _is_inequality(node):
        assert isinstance(node, Relation)
        texts = [_leaf_texts(t) for t in node.terms]
        if any(t is None for t in texts):
            return None
        return _inequality_intervals([t[0] for t in texts], list(node.ops), ops)  # type: ignore[index]
    return None


def _inequality_intervals(terms: list[str], rel_ops: list[str], ops: LeafOps) -> tuple[list[tuple], str | None] | None:
    """``x > 3`` → ``(3, ∞)``; ``1 < x <= 2`` → ``(1, 2]``; other shapes go to ``ops``."""
    flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
    variables = [i for i, t in enumerate(terms) if _is_variable(Leaf(t))]
    if len(terms) == 2 and len(variables) == 1:
        var_at = variables[0]
        op = rel_ops[0] if var_at == 0 else flip[rel_ops[0]]
        other = terms[1 - var_at]
        if op in (">", ">="):
            return [(other, "\\infty", op == ">=", False)], terms[var_at].replace(" ", "")
        return [("-\\infty", other, False, op == "<=")], terms[var_at].replace(" ", "")
    if len(terms) == 3 and variables == [1] and rel_ops[0][0] == rel_ops[1][0]:
        lo_op, hi_op = rel_ops
        if lo_op.startswith(">"):
            terms = terms[::-1]
            lo_op, hi_op = flip[hi_op], flip[lo_op]
        return [(terms[0], terms[2], lo_op == "<=", hi_op == "<=")], terms[1].replace(" ", "")
    return ops.inequality_set(terms, rel_ops)


def _canonical(intervals: list[tuple], ops: LeafOps) -> list[tuple]:
    """Sorted, merged intervals: ``[(lo_value, hi_value, lc, rc, lo, hi)]`` (lo/hi as given)."""
    items = []
    for lo, hi, lc, rc in intervals:
        lo_v, hi_v = _endpoint(lo, ops), _endpoint(hi, ops)
        items.append((lo_v, hi_v, bool(lc) and not isinstance(lo_v, str), bool(rc) and not isinstance(hi_v, str), lo, hi))
    items.sort(key=lambda it: (_key(it[0]), not it[2]))
    merged: list[list] = []
    for lo_v, hi_v, lc, rc, lo, hi in items:
        if merged:
            prev = merged[-1]
            p_hi = _key(prev[1])
            if _key(lo_v) < p_hi or (_key(lo_v) == p_hi and (lc or prev[3])):
                if _key(hi_v) > p_hi:
                    prev[1], prev[3], prev[5] = hi_v, rc, hi
                elif _key(hi_v) == p_hi:
                    prev[3] = prev[3] or rc
                continue
        merged.append([lo_v, hi_v, lc, rc, lo, hi])
    return [tuple(m) for m in merged]


def _endpoint(x: Any, ops: LeafOps) -> Any:
    """The value of an endpoint: ``INF``/``NEG_INF`` or whatever ``ops.value`` gives."""
    if isinstance(x, str):
        inf = parse_infinity(x)
        if inf is not None:
            return inf
    return ops.value(x)


def _key(v: Any) -> float:
    if isinstance(v, str):
        return float("inf") if v == INF else float("-inf")
    return float(v)


def _closed_at_infinity(intervals: list[tuple]) -> bool:
    """``[4, \\infty]``: a closed bracket at infinity is not a set of reals (a wrong answer)."""
    return any(
        (lc and isinstance(lo, str) and parse_infinity(lo)) or (rc and isinstance(hi, str) and parse_infinity(hi))
        for lo, hi, lc, rc in intervals
    )


def _allows_intervals(gold: Node, ops: LeafOps) -> bool:
    """Whether an inequality may answer ``gold``: a gold interval, union or inequality always;
    a gold ``(a, b)`` (an ordered pair as much as an open interval) only when the problem is
    about intervals (``ops.interval_context``)."""
    if isinstance(gold, (Interval, SetUnion)) or _is_inequality(gold):
        return True
    if isinstance(gold, Relation) and gold.ops == ("!=",):
        return True
    if isinstance(gold, Seq) and gold.kind == "or":
        return all(_is_inequality(i) or isinstance(i, Interval) for i in gold.items)
    if isinstance(gold, Seq) and gold.kind == "paren":
        return bool(getattr(ops, "interval_context", False))
    return False


def _equal_sets(pred: Node, gold: Node, ops: LeafOps) -> bool:
    gold_iv = _intervals(gold, ops, allow_relations=True)
    if gold_iv is None:
        return False
    pred_iv = _intervals(pred, ops, allow_relations=_allows_intervals(gold, ops))
    if pred_iv is None or _closed_at_infinity(pred_iv[0]):
        return False
    if gold_iv[1] and pred_iv[1] and gold_iv[1] != pred_iv[1]:
        return False
    try:
        g, p = _canonical(gold_iv[0], ops), _canonical(pred_iv[0], ops)
    except (TypeError, ValueError, ArithmeticError):
        return False
    if len(g) != len(p):
        return False
    for (glo_v, ghi_v, glc, grc, glo, ghi), (plo_v, phi_v, plc, prc, plo, phi) in zip(g, p, strict=False):
        if glc != plc or grc != prc:
            return False
        for pv, gv, pt, gt in ((plo_v, glo_v, plo, glo), (phi_v, ghi_v, phi, ghi)):
            if isinstance(pv, str) or isinstance(gv, str):
                if pv != gv:
                    return False
            elif not ops.leaf_eq(pt, gt):
                return False
    return True


# ---------------------------------------------------------------------------------------------
# The fast leaf operations
# ---------------------------------------------------------------------------------------------


class FastOps:
    """Leaf operations without sympy: plain numbers decide, anything else raises `NeedSymbolic`."""

    def __init__(self, rel_tol: float = 0.0, interval_context: bool = False):
        self.rel_tol = rel_tol
        self.interval_context = interval_context

    def leaf_eq(self, pred: str, gold: str) -> bool:
        if canonical_text(pred) == canonical_text(gold):
            return True
        p, g = parse_number(pred), parse_number(gold)
        if p is not None and g is not None:
            return numbers_equal(p, g, self.rel_tol)
        raise NeedSymbolic

    def value(self, text: str) -> Any:
        num = parse_number(text)
        if num is None or num.percent:
            raise NeedSymbolic
        return num.value

    def equation_eq(self, pred: Sequence[str], gold: Sequence[str]) -> bool:
        raise NeedSymbolic

    def inequality_set(self, terms: Sequence[str], ops: Sequence[str]) -> tuple[list[tuple], str] | None:
        raise NeedSymbolic


def is_scalar(node: Node) -> bool:
    """A single value (not a set, list, interval, relation chain or matrix)."""
    if isinstance(node, Leaf):
        return True
    if isinstance(node, Relation):
        return all(op in ("=", "~") for op in node.ops) and _is_variable(node.terms[0]) and is_scalar(node.terms[-1])
    return False
