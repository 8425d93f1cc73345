"""Finding the final answer in a model's completion (pure string work, linear time).

Order of preference (the first that finds something wins):

0. when the text holds ``</think>`` and the part after it has an answer, only that part is read
   (drafts inside the thinking are not final answers);
1. the last ``<answer>…</answer>`` block (inside it, the same order again from step 2);
2. the last ``\\boxed{}``/``\\fbox{}`` group (boxes separated only by commas or "and" form one
   list answer; earlier boxes that differ are reported in ``others``: a hedge);
3. the text after the last "final answer" / "the (final) answer is" / "Answer:" marker, or a
   GSM8K ``####`` line (a math span right after the marker is taken whole, else up to the end of
   the sentence);
4. a bold ``**…**`` answer in the final paragraph;
5. the last math span (``$$…$$``, ``\\[…\\]``, ``$…$``, ``\\(…\\)``) of the final paragraph;
6. unless ``strict``: the last number of the text outside math spans (numbers are never pulled
   out of LaTeX that did not close).

A gold answer written as a solution text goes through the same order (strict: no last number).

"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Extracted", "extract", "find_boxed", "math_spans"]


@dataclass(frozen=True)
class Extracted:
    """What was found: the answer text (raw), where it came from, and competing final answers."""

    answer: str | None
    source: str  # "answer_tag" | "boxed" | "marker" | "gsm8k" | "bold" | "math" | "last_number" | "none"
    others: tuple[str, ...] = ()
    error: str | None = None


_BOX_RE = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])")
_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S | re.I)
_SEPARATOR_RE = re.compile(
    r"^(?:\s|\$|,|;|&|\\\\|\\quad|\\qquad|\\[,;: ]|\\\(|\\\)|\\\[|\\\]|\band\b|\\text\{\s*and\s*\}|\\text\{\s*,\s*\})*"
    r"(?:[,;]\s*(?:and\s+)?\$?\s*[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=\s*\$?\s*)?$"  # "x = \boxed{3}, y = \boxed{5}"
)
_MARKER_RE = re.compile(
    r"(?:final\s+answer\s*(?:is|:|=)?|\banswer\s+is\s*:?|\banswer\s*[:=：]|^\s*####)",
    re.I | re.M,
)
_MATH_SPAN_RE = re.compile(r"\\\$|\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_BOLD_SPAN_RE = re.compile(r"\*\*([^*\n]{1,200}?)\*\*")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
#: After the last math span: a few words, then a number that ends the text ("… $x$ is 7.").
_NUMBER_AFTER_MATH_RE = re.compile(
    r"\s*(?:[A-Za-z,']+\s+){0,4}(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?:[A-Za-z]+\s*){0,2}[.!]?\s*"
)
_AND_TAIL_RE = re.compile(r"\s*(?:,|;|\band\b)\s*(?:,\s*)?(?:\$|\\\()")


def _joined_spans(line: str, spans: list[tuple[int, int, str]]) -> list[str]:
    """The spans of ``line`` joined by commas, "and" or semicolons only (up to the first other text)."""
    parts = [spans[0][2]]
    for previous, span in zip(spans, spans[1:], strict=False):
        if not re.fullmatch(r"\s*(?:,|;|\band\b)\s*(?:,\s*)?", line[previous[1] : span[0]]):
            break
        parts.append(span[2])
    return parts


_OR_TAIL_RE = re.compile(r"\s*(?:,\s*)?(?:or|either)\s+\S", re.I)
_HEDGE_DELIMS_RE = re.compile(r"\$\$|\$|\\\(|\\\)|\\\[|\\\]")
#: Numbers listed with "or" at the end of the text: the last-number fallback must not pick one.
_HEDGED_NUMBERS_RE = re.compile(r"-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*,?\s+or\s+-?\d+(?:\.\d+)?\s*\.?\s*$")
_LAST_CHOICE_RE = re.compile(r"\b(?:option|choice)\s*:?\s*\(?[A-J]\)?(?![A-Za-z])", re.I)
_LAST_NUMBER_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+")
_STOP_WORDS_RE = re.compile(
    r"\s+(?:because|since|as|which|so|therefore|thus|where|given)\b|(?:,\s*|\s+)(?:not|rather than|instead of)\s", re.I
)


def _match_brace(text: str, open_at: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_at`` (escaped braces skipped), or -1."""
    depth = 0
    i = open_at
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def find_boxed(text: str) -> list[tuple[int, int, str]]:
    """Every complete ``\\boxed{...}``/``\\fbox{...}`` as ``(start, end, content)``, left to right.

    Nested boxes count once (the outer one); ``\\boxed 5`` without braces takes one token; a box
    left unclosed (a truncated completion) is ignored.
    """
    found: list[tuple[int, int, str]] = []
    pos = 0
    while True:
        match = _BOX_RE.search(text, pos)
        if not match:
            return found
        i = match.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            close = _match_brace(text, i)
            if close == -1:
                return found
            found.append((match.start(), close + 1, text[i + 1 : close].strip()))
            pos = close + 1
        else:
            token = re.match(r"[^\s$]+", text[i:])
            if token:
                found.append((match.start(), i + token.end(), token.group(0)))
                pos = i + token.end()
            else:
                pos = i


def _boxed_groups(text: str) -> list[str]:
    boxes = find_boxed(text)
    groups: list[list[str]] = []
    last_end = None
    for start, end, content in boxes:
        if last_end is not None and _SEPARATOR_RE.match(text[last_end:start]):
            groups[-1].append(content)
        else:
            groups.append([content])
        last_end = end
    return [", ".join(group) for group in groups]


def _after_marker(text: str) -> str | None:
    """The answer written after the last marker ("the answer is", "Answer:", "####")."""
    last = None
    for match in _MARKER_RE.finditer(text):
        last = match
    if last is None:
        return None
    rest = text[last.end() :]
    lines = rest.split("\n")
    line = lines[0].strip()
    if not line.strip(" *:"):
        line = next((ln.strip() for ln in lines[1:] if ln.strip(" *:")), "")
    line = line.strip().lstrip("*: ").strip()
    if not line:
        return None
    if line.startswith(("$", "\\(", "\\[")):
        spans = math_spans(line)
        if spans and spans[0][0] == 0:
            tail = line[spans[0][1] :]
            if _AND_TAIL_RE.match(tail) and len(spans) > 1:  # "$x = 2$ and $y = 3$": one answer in parts
                return ", ".join(_joined_spans(line, spans))
            if not _OR_TAIL_RE.match(tail):
                return spans[0][2]
            # "$2$ or $3$": the whole hedge is the answer, so the hedge guard sees it
            return _HEDGE_DELIMS_RE.sub(" ", line[: spans[1][1] if len(spans) > 1 else len(line)]).strip() or None
    cut = re.search(r"\.(?:\s|$)", line)
    if cut:
        line = line[: cut.start()]
    stop = _STOP_WORDS_RE.search(line)
    if stop:
        line = line[: stop.start()]
    line = line.strip()
    return _value_in_prose(line) if _PROSE_START_RE.match(line) else line.rstrip("*").strip() or None


_PROSE_START_RE = re.compile(r"[A-Za-z][a-z']+,?\s")
_PROSE_VALUE_RE = re.compile(r"\b(?:is|are|equals|was|be|becomes|gives)\s+(?!not\b)(\S.*)$")


def _value_in_prose(line: str) -> str | None:
    """The value a sentence after a marker states ("The probability is $\\frac14$" → ``\\frac14``)."""
    spans = math_spans(line) if ("$" in line or "\\(" in line) else []
    if spans:
        if any(_OR_TAIL_RE.match(line, a[1]) for a in spans[:-1]):  # "$2$ or $3$": keep the hedge whole
            return _HEDGE_DELIMS_RE.sub(" ", line).strip()
        closing = _NUMBER_AFTER_MATH_RE.fullmatch(line, spans[-1][1])
        return closing.group(1) if closing else _resolve_variable(spans[-1][2], spans)
    bold = _BOLD_SPAN_RE.findall(line)
    if bold:
        return bold[-1].strip() or None
    values = list(_PROSE_VALUE_RE.finditer(line))
    return (values[-1].group(1) if values else line).rstrip("*").strip() or None


def math_spans(text: str) -> list[tuple[int, int, str]]:
    """Every closed math span ``(start, end, content)``, left to right (``\\$`` is a dollar sign).

    One linear scan over the delimiters; a span left open (truncated output) is dropped.
    """
    spans: list[tuple[int, int, str]] = []
    opener: str | None = None
    open_at = inner_at = 0
    for match in _MATH_SPAN_RE.finditer(text):
        tok = match.group(0)
        if tok == "\\$":
            continue
        if opener is None:
            if tok in _CLOSER:
                opener, open_at, inner_at = tok, match.start(), match.end()
        elif tok == _CLOSER[opener]:
            spans.append((open_at, match.end(), text[inner_at : match.start()].strip()))
            opener = None
        elif opener == "$" and tok == "$$":  # "$x$$y$": a closing and an opening dollar
            spans.append((open_at, match.start() + 1, text[inner_at : match.start()].strip()))
            opener, open_at, inner_at = "$", match.start() + 1, match.end()
    return [span for span in spans if span[2]]


def _unclosed_box(text: str) -> bool:
    """Whether the last ``\\boxed{`` of ``text`` never closes (its number must not be guessed)."""
    matches = list(_BOX_RE.finditer(text))
    if not matches:
        return False
    last = matches[-1]
    i = last.end()
    while i < len(text) and text[i] in " \t":
        i += 1
    return i < len(text) and text[i] == "{" and _match_brace(text, i) == -1


_BARE_VARIABLE_RE = re.compile(r"[A-Za-z](?:_\{?\w{1,3}\}?)?")


def _resolve_variable(content: str, spans: list[tuple[int, int, str]]) -> str:
    """``$n$`` ending the text ("the smallest such $n$") stands for the last ``$n = …$`` before it."""
    if not _BARE_VARIABLE_RE.fullmatch(content):
        return content
    assignment = re.compile(rf"\s*{re.escape(content)}\s*=\s*[^=<>]+")
    for _start, _end, earlier in reversed(spans[:-1]):
        if assignment.fullmatch(earlier):
            return earlier
    return content


def _final_paragraph_start(text: str) -> int:
    """Where the final paragraph begins (after the last blank line with text after it)."""
    start = 0
    for match in _PARAGRAPH_RE.finditer(text):
        if text[match.end() :].strip():
            start = match.end()
    return start


def _bold_answer(text: str, start: int) -> str | None:
    """The last bold span of the final paragraph that reads as an answer, not a heading."""
    found = None
    for match in _BOLD_SPAN_RE.finditer(text, start):
        content = match.group(1).strip()
        if content and not content.endswith(":") and (re.search(r"[\d\\$]", content) or len(content) <= 40):
            found = content
    if found and found.startswith("$") and found.endswith("$"):
        found = found.strip("$").strip()
    return found or None


def _last_number(text: str, spans: list[tuple[int, int, str]]) -> str | None:
    """The last number written outside math spans (and not inside a LaTeX command's argument)."""
    pieces, last = [], 0
    for start, end, _content in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    outside = " ".join(pieces)
    cut = max(outside.rfind("$"), outside.rfind("\\"))  # an unclosed span or a bare command
    if cut != -1 and re.search(r"\\[A-Za-z]", outside[cut:]):
        outside = outside[:cut]
    found = None
    for match in _LAST_NUMBER_RE.finditer(outside):
        found = match
    return found.group(0) if found else None


def _open_braces(text: str, end: int) -> int:
    """How many ``{`` are still open at ``text[end]`` (escaped braces skipped; never negative)."""
    depth = 0
    for match in _BRACE_RE.finditer(text, 0, end):
        depth = depth + 1 if match.group(0) == "{" else max(depth - 1, 0)
    return depth


_BRACE_RE = re.compile(r"(?<!\\)[{}]")


def _strip_think(text: str, think_tag: str) -> str | None:
    open_tag, close_tag = f"<{think_tag}>", f"</{think_tag}>"
    close = text.rfind(close_tag)
    if close != -1:
        return text[close + len(close_tag) :]
    if open_tag in text:
        return None  # still thinking: no answer was given
    return text


def extract(
    completion: str, *, strict: bool = False, last_number_fallback: bool | None = None, think_tag: str | None = None
) -> Extracted:
    """Locate the final answer in ``completion`` (see the module docstring for the order)."""
    fallback = (not strict) if last_number_fallback is None else last_number_fallback
    text = completion
    if think_tag:
        after = _strip_think(text, think_tag)
        if after is None:
            return Extracted(None, "none", error=f"no answer after <{think_tag}> (the reasoning never ended)")
        text = after
    elif "</think>" in text:  # a reasoning model's draft answers stay inside its thinking
        end = text.rfind("</think>")
        if _open_braces(text, end) == 0:  # a "</think>" inside a box is no end of thinking
            found = _extract_from(text[end + len("</think>") :], fallback)
            if found.answer is not None:
                return found
    return _extract_from(text, fallback)


def _extract_from(text: str, fallback: bool) -> Extracted:
    tags = _ANSWER_TAG_RE.findall(text) if "<answer>" in text.lower() else []
    if tags:
        contents = [t.strip() for t in tags if t.strip()]
        if contents:
            final = contents[-1]
            groups = _boxed_groups(final)
            if groups:
                return Extracted(groups[-1], "answer_tag", tuple(groups[:-1]) + tuple(contents[:-1]))
            marked = _after_marker(final)
            return Extracted(marked or final, "answer_tag", tuple(contents[:-1]))

    groups = _boxed_groups(text)
    if groups:
        return Extracted(groups[-1], "boxed", tuple(groups[:-1]))

    marked = _after_marker(text)
    if marked:
        source = "gsm8k" if "####" in text else "marker"
        return Extracted(marked, source)

    start = _final_paragraph_start(text)
    bold = _bold_answer(text, start)
    if bold:
        return Extracted(bold, "bold")
    spans = math_spans(text) if ("$" in text or "\\(" in text or "\\[" in text) else []
    final_spans = [span for span in spans if span[0] >= start]
    if final_spans:
        closing = _NUMBER_AFTER_MATH_RE.fullmatch(text, final_spans[-1][1])
        if closing:  # "So, the value of $x$ is 7.": the number that ends the text is the answer
            return Extracted(closing.group(1), "math")
        return Extracted(_resolve_variable(final_spans[-1][2], spans), "math")

    if fallback and _unclosed_box(text):
        return Extracted(None, "none", error="no final answer found: a \\boxed{ is never closed (truncated output?)")
    if fallback:
        choices = list(_LAST_CHOICE_RE.finditer(text[-400:]))
        choice = choices[-1] if choices else None
        if choice is not None and not _last_number(text[-400:][choice.end() :], []):
            return Extracted(choice.group(0), "last_number")  # "I choose option D."
        number = _last_number(text, spans)
        if number is not None:
            hedge = _HEDGED_NUMBERS_RE.search(text[-300:])
            if hedge and hedge.group(0).rstrip(" .").endswith(number):
                return Extracted(hedge.group(0).strip(" ."), "last_number")  # "it is 2, 3 or 5": a hedge
            return Extracted(number, "last_number")
    return Extracted(None, "none", error="no final answer found")
