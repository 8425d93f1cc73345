"""Math environments: procedural problems with exact answers, and GSM8K / MATH style datasets.

- ``thinkgym/Math-v0``: generated problems in seven kinds (`KINDS`: multi-digit arithmetic,
  fractions, linear equations, linear systems, polynomial roots, percentages, word problems) at
  difficulty ``level`` 1-5 (``None`` mixes levels). Problem ``i`` of a configuration is the same on
  every machine; gold answers are computed exactly with `fractions.Fraction` from our own numbers
  (no model text is ever parsed). Changing generation means bumping `GENERATOR_VERSION` and the
  env version.
- ``thinkgym/GSM8K-v0``: records with ``question`` and ``answer`` (worked solution ending in
  ``#### n``); ``thinkgym/MATH-v0``: records with ``problem`` and ``solution`` (final answer in
  ``\\boxed{}``, or an ``answer`` column). Both take ``path=`` (a local ``.jsonl``/``.json``/
  ``.parquet``/``.csv`` file), ``dataset=`` (a name for ``datasets.load_dataset``, e.g.
  ``"openai/gsm8k"``, or a local folder) and ``data_files=`` (passed to ``load_dataset``, alone or
  with ``dataset=``). With none they use a small sample shipped in the package
  (``envs/data/*_sample.jsonl``, problems written for thinkgym in the datasets' formats), so the
  envs and their checks work offline; a warning is logged (once per process). Real benchmarks must
  pass a path or a dataset name. Problem ids are ``<tag>/<split>/<row>-<content digest>``: the tag
  is the env's (``gsm8k``, ``math``) for local data and the dataset's name for hub data, never a
  filesystem path, so ids stay the same when the data moves.

Every env asks for the configured format in its prompt (by default DeepSeek-R1's: reasoning in
``<think>…</think>``, then the answer in ``\\boxed{}``) and rewards with a weighted, normalized sum
of ``accuracy`` (`MathVerifier` on the answer part only, so an answer inside ``<think>`` never
counts) and ``format`` (`FormatVerifier`). ``oracle_action()`` is a completion earning reward 1.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.core import ListSource, Problem, ProblemSource, SingleTurnEnv
from thinkgym.envs.math_generators import (
    GENERATOR_VERSION,
    KINDS,
    generate_problem,
    procedural_source,
)
from thinkgym.envs.records import is_local, load_records, require_columns, row_digest, source_tag
from thinkgym.errors import ConfigError
from thinkgym.registry import register
from thinkgym.verifiers.format import AnswerSection, ThinkFormat, with_format_reward

__all__ = [
    "KINDS",
    "GENERATOR_VERSION",
    "MathEnv",
    "ProceduralMathEnv",
    "GSM8KEnv",
    "MATHEnv",
    "procedural_source",
    "generate_problem",
    "load_records",
    "gsm8k_problems",
    "math_problems",
    "last_boxed",
]

logger = logging.getLogger("thinkgym")

DATA_DIR = Path(__file__).parent / "data"

DEFAULT_TEMPLATE = "{problem}\n\n{instruction}"


# ============================================================================================
# Datasets
# ============================================================================================


_CALC = re.compile(r"<<[^<>]*>>")


def gsm8k_problems(rows: Sequence[Mapping[str, Any]], tag: str = "gsm8k", split: str = "test") -> list[Problem]:
    """Problems from GSM8K-format rows: ``question``, ``answer`` ending in ``#### n``.

    The gold answer is the text after the last ``####`` (thousands separators dropped); the
    worked solution (calculator annotations ``<<…>>`` removed) goes to ``meta["solution"]``.
    Rows without a ``####`` answer are skipped and counted in a log message.
    """
    require_columns(rows, ("question", "answer"), "GSM8K")
    problems, skipped = [], 0
    for i, row in enumerate(rows):
        question, answer = str(row["question"]), str(row["answer"])
        if "####" not in answer:
            skipped += 1
            continue
        worked, _, final = answer.rpartition("####")
        gold = final.strip().replace(",", "").rstrip(".")
        if not gold:
            skipped += 1
            continue
        solution = _CALC.sub("", worked).strip()
        pid = f"{tag}/{split}/{i}-{row_digest(question, gold)}"
        problems.append(Problem(pid, question.strip(), gold, {"solution": solution, "source": tag}))
    _report_skipped(skipped, "GSM8K", "no '#### answer'")
    return problems


_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def last_boxed(text: str) -> str | None:
    """The contents of the last ``\\boxed{…}`` / ``\\fbox{…}`` in ``text`` (braces matched)."""
    starts = [m.end() for m in _BOXED.finditer(text)]
    for start in reversed(starts):
        depth = 1
        for j in range(start, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:j].strip()
    return None


def math_problems(rows: Sequence[Mapping[str, Any]], tag: str = "math", split: str = "test") -> list[Problem]:
    """Problems from MATH-format rows: ``problem`` and ``solution`` (answer in ``\\boxed{}``).

    An ``answer`` column, when present and non-empty, is the gold answer; otherwise the last
    boxed expression of the solution. ``level`` and ``type``/``subject`` go to ``meta``.
    """
    require_columns(rows, ("problem", "solution"), "MATH")
    problems, skipped = [], 0
    for i, row in enumerate(rows):
        problem, solution = str(row["problem"]), str(row["solution"])
        gold = str(row.get("answer") or "").strip() or last_boxed(solution)
        if not gold:
            skipped += 1
            continue
        meta: dict[str, Any] = {"solution": solution, "source": tag}
        for key in ("level", "type", "subject", "unique_id"):
            if row.get(key) is not None:
                meta[key] = row[key]
        pid = f"{tag}/{split}/{i}-{row_digest(problem, gold)}"
        problems.append(Problem(pid, problem.strip(), gold, meta))
    _report_skipped(skipped, "MATH", "no boxed answer")
    return problems


def _report_skipped(skipped: int, what: str, why: str) -> None:
    if skipped:
        logger.warning("skipped %d %s row(s) with %s", skipped, what, why)


_SAMPLE_NOTICES: set[str] = set()


def _dataset_source(
    builder: Callable[..., list[Problem]],
    sample: str,
    tag: str,
    path: str | Path | None,
    dataset: str | None,
    config: str | None,
    split: str,
    limit: int | None,
    data_files: Any = None,
) -> ListSource:
    if path is None and dataset is None and data_files is None:
        if tag not in _SAMPLE_NOTICES:  # once per process: loud enough to notice, not a flood
            _SAMPLE_NOTICES.add(tag)
            logger.warning(
                "thinkgym %s env: using the built-in %s (a small offline sample, ids '%s-sample/...'); "
                "pass path= or dataset= for the real data",
                tag, sample, tag,
            )
        rows = load_records(DATA_DIR / sample, limit=limit)
        problems = builder(rows, tag=f"{tag}-sample", split="sample")
    else:
        rows = load_records(path, dataset=dataset, config=config, split=split, limit=limit, data_files=data_files)
        # ids never name where the data lives (they must survive a move): see `source_tag`
        problems = builder(rows, tag=source_tag(tag, dataset, data_files), split=split)
    if not problems:
        raise ConfigError(f"no usable {tag} problems in the data")
    return ListSource(problems)


# ============================================================================================
# Environments
# ============================================================================================


def _sanitize_thinking(text: str, fmt: ThinkFormat) -> str:
    for tag in (fmt.think_open, fmt.think_close):
        text = text.replace(tag, "")
    if fmt.answer_tag:
        for tag in (fmt.answer_open, fmt.answer_close):
            text = text.replace(str(tag), "")
    return text.strip() or "Let me work through this step by step."


class MathEnv(SingleTurnEnv):
    """A single-turn math env over any problem source whose answers `MathVerifier` can check.

    ``think``: require (and reward) the ``<think>`` block; the accuracy check then reads only the
    text after it. ``answer_tag``: also require an ``<answer>`` block. ``accuracy_weight`` and
    ``format_weight`` are relative (the sum is normalized, so a perfect completion earns 1).
    ``gate``: accuracy counts only when the format passes. ``math_options`` go to `MathVerifier`
    (``timeout``, ``strict`` …). ``prompt_template`` has ``{problem}`` and ``{instruction}``.
    """

    success_component = "accuracy"  # the hook generic code reads (see `thinkgym.core`)

    def __init__(
        self,
        source: ProblemSource,
        *,
        think: bool = True,
        think_tag: str = "think",
        answer_tag: str | None = None,
        accuracy_weight: float = 0.9,
        format_weight: float = 0.1,
        format_mode: str = "strict",
        gate: bool = False,
        math_options: Mapping[str, Any] | None = None,
        prompt_template: str = DEFAULT_TEMPLATE,
        **kwargs: Any,
    ):
        from thinkgym.verifiers.math import MathVerifier

        if "{problem}" not in prompt_template:
            raise ConfigError("prompt_template must contain '{problem}'")
        self.fmt = ThinkFormat(think_tag=think_tag, answer_tag=answer_tag)
        self.think = bool(think)
        self.prompt_template = prompt_template
        accuracy: Any = AnswerSection(MathVerifier(**dict(math_options or {})), self.fmt, require_think=self.think)
        verifier = with_format_reward(
            accuracy, self.fmt, think=self.think, gate=gate, format_mode=format_mode,
            accuracy_weight=accuracy_weight, format_weight=format_weight,
        )  # fmt: skip
        super().__init__(source, verifier, **kwargs)

    def instruction(self) -> str:
        """The sentence that asks for the configured format."""
        boxed = "your final answer as $\\boxed{...}$"
        if self.think:
            return self.fmt.instruction("your final answer" if self.fmt.answer_tag else boxed)
        if self.fmt.answer_tag:
            return f"Reason step by step, then give your final answer inside {self.fmt.answer_open}…{self.fmt.answer_close}."
        return f"Reason step by step, then give {boxed}."

    def first_observation(self, problem: Problem) -> str:
        return self.prompt_template.format(problem=problem.prompt, instruction=self.instruction())

    def oracle_action(self) -> str:
        problem = self.problem
        if problem is None:
            from gymnasium.error import ResetNeeded

            raise ResetNeeded("call reset() before asking for the oracle action")
        gold = str(problem.answer)
        thinking = _sanitize_thinking(str(problem.meta.get("solution", "")), self.fmt)
        answer = gold if self.fmt.answer_tag else f"The final answer is $\\boxed{{{gold}}}$."
        if self.think:
            return self.fmt.render(thinking, answer)
        body = f"{self.fmt.answer_open}{gold}{self.fmt.answer_close}" if self.fmt.answer_tag else answer
        return f"{thinking}\n\n{body}"


class ProceduralMathEnv(MathEnv):
    """``thinkgym/Math-v0``: generated problems (see `KINDS`) at ``level`` 1-5 or mixed."""

    def __init__(self, *, level: int | None = None, kinds: Sequence[str] | None = None, split: str = "train", **kwargs: Any):
        super().__init__(procedural_source(level, kinds, split), **kwargs)


class GSM8KEnv(MathEnv):
    """``thinkgym/GSM8K-v0``: GSM8K-format problems from ``path=``, ``dataset=`` or the sample."""

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        dataset: str | None = None,
        config: str | None = None,
        split: str = "test",
        limit: int | None = None,
        data_files: Any = None,
        **kwargs: Any,
    ):
        if config is None and dataset is not None and data_files is None and not is_local(dataset):
            config = "main"  # the hub's GSM8K (openai/gsm8k) names its configs "main" and "socratic"
        source = _dataset_source(gsm8k_problems, "gsm8k_sample.jsonl", "gsm8k", path, dataset, config, split, limit, data_files)
        super().__init__(source, **kwargs)


class MATHEnv(MathEnv):
    """``thinkgym/MATH-v0``: MATH-format problems from ``path=``, ``dataset=`` or the sample."""

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        dataset: str | None = None,
        config: str | None = None,
        split: str = "test",
        limit: int | None = None,
        data_files: Any = None,
        **kwargs: Any,
    ):
        source = _dataset_source(math_problems, "math_sample.jsonl", "math", path, dataset, config, split, limit, data_files)
        super().__init__(source, **kwargs)


register(
    "thinkgym/Math-v0",
    "thinkgym.envs.math:ProceduralMathEnv",
    description="Generated math (arithmetic, fractions, equations, systems, roots, percentages, word problems), level 1-5; exact answers; think + \\boxed{} format.",
)
register(
    "thinkgym/GSM8K-v0",
    "thinkgym.envs.math:GSM8KEnv",
    description="GSM8K-format word problems from path= or dataset= (built-in offline sample otherwise); '#### n' gold answers.",
)
register(
    "thinkgym/MATH-v0",
    "thinkgym.envs.math:MATHEnv",
    description="MATH-format competition problems from path= or dataset= (built-in offline sample otherwise); \\boxed{} gold answers.",
)
