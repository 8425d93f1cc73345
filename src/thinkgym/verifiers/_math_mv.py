"""math-verify as a second opinion, for pairs our own parser cannot read. Worker process ONLY.

math-verify (HuggingFace) is the field's reference grader; we call its ``parse``/``verify`` on the
two *cleaned* answers (wrapped in ``$…$``), with its signal-based timeouts disabled
(``parsing_timeout=None``, ``timeout_seconds=None``): the bound is our killable worker process,
which works from any thread or event loop. It is asked only after our structural rules ran and
a leaf could not be parsed, so its known weaknesses (percent read both ways, intervals vs
inequalities, numbers pulled out of LaTeX that did not parse) never overrule our rules.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["math_verify_equal"]

_CONFIG: Any = None


def _config() -> Any:
    global _CONFIG
    if _CONFIG is None:
        from math_verify import LatexExtractionConfig
        from math_verify.parser import NormalizationConfig

        logging.getLogger("math_verify").setLevel(logging.ERROR)
        normalization = NormalizationConfig(
            basic_latex=True, units=True, malformed_operators=True, nits=True, boxed="all", equations=False
        )
        _CONFIG = [LatexExtractionConfig(normalization_config=normalization, boxed_match_priority=0)]
    return _CONFIG


def _parse(text: str) -> list[Any]:
    from math_verify import parse

    parsed = parse(f"${text}$", extraction_config=_config(), fallback_mode="no_fallback", parsing_timeout=None)
    return [p for p in parsed if not isinstance(p, str)]


def math_verify_equal(pred: str, gold: str) -> bool:
    """math-verify's verdict on two cleaned answers; ``False`` when either side does not parse.

    A side that math-verify can only read as a bare string (its fallback) never matches: string
    matching is how numbers pulled out of unparsed LaTeX produce false positives.
    """
    from math_verify import verify

    try:
        parsed_gold, parsed_pred = _parse(gold), _parse(pred)
        if not parsed_gold or not parsed_pred:
            return False
        return bool(verify(parsed_gold, parsed_pred, timeout_seconds=None))
    except Exception:  # noqa: BLE001 - any failure is "not shown equal"
        return False
