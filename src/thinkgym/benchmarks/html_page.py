"""The safe shell of thinkgym's self-contained HTML pages (``report.html``, ``compare.html``).

Why a module of its own: both pages show model text, which is untrusted (a completion may hold
``<script>``, ``</script>``, ``<!--``, ``]]>`` or ``javascript:`` URLs). The rules live here once:

- Markup written by Python escapes every value (`esc`), attributes included.
- Data for the page's script travels as JSON in ``<script type="application/json">``, where ``<``,
  ``>`` and ``&`` are written as ``\\u003c`` / ``\\u003e`` / ``\\u0026``: no byte sequence in the
  data can close the block, open a comment or start a tag, and ``JSON.parse`` gives the text back
  exactly. The page's script puts model text on screen only through text nodes.
- A Content-Security-Policy pins the one inline script and the one inline stylesheet by their
  SHA-256 hashes and allows nothing else (no other script, no network, images only as
  ``data:`` URIs): even if some text did end up as markup, it could not run or fetch anything.

Everything is inlined (CSS, JS, plots as data URIs), so a page opens from disk, from a bucket or as
a pull-request attachment, with no server and no network.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "esc",
    "script_json",
    "jsonable_finite",
    "clip_text",
    "asset",
    "data_uri",
    "render_page",
    "tag",
    "table",
    "MAX_TEXT_CHARS",
    "CHUNK_ITEMS",
    "chunked",
]

#: Longer texts (completions, prompts, observations) are cut in the page, keeping the head and the
#: tail (where the final answer is); the whole text stays in ``samples.jsonl``.
MAX_TEXT_CHARS = 20_000
_HEAD_CHARS = 4_000
#: Samples per data block: about 2.5 MB of JSON for reasoning-length completions, parsed in ~20 ms.
CHUNK_ITEMS = 1_000
_ASSET_PACKAGE = "thinkgym.benchmarks"
_ASSET_DIR = "report_assets"


def esc(value: Any) -> str:
    """``value`` as text that is safe inside HTML content and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def tag(name: str, content: str = "", /, **attrs: Any) -> str:
    """``<name attrs>content</name>``; attribute values are escaped, ``content`` is markup already.

    Attribute names come from our code only (``cls`` is ``class``; ``data_x`` is ``data-x``); a
    ``None`` value drops the attribute."""
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        attr = "class" if key == "cls" else key.rstrip("_").replace("_", "-")
        parts.append(f'{attr}="{esc(value)}"')
    return f"<{' '.join(parts)}>{content}</{name}>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str | None = None) -> str:
    """A table from header labels (``#label``: a numeric column) and rows of ready cells (each a
    ``<td>…</td>``), in a horizontally scrolling box."""
    head = "".join(
        tag("th", esc(h.removeprefix("#")), cls="num" if h.startswith("#") else None)
        for h in header
    )
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return tag(
        "div",
        tag("table", f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>", cls=cls),
        cls="scroll",
    )


def jsonable_finite(value: Any) -> Any:
    """A copy that JSON can carry: NaN and ±inf become None (JSON has no spelling for them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable_finite(v) for v in value]
    return str(value)


def script_json(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block that no text inside can break out of.

    ``<`` ``>`` ``&`` become ``\\u003c`` ``\\u003e`` ``\\u0026`` (so neither ``</script>`` nor
    ``<!--`` can appear), and U+2028/U+2029 are escaped for old parsers; ``JSON.parse`` restores
    the exact text. NaN and infinities become ``null`` (see `jsonable_finite`)."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN or an infinity somewhere (JSON cannot spell them): the slow path
        text = json.dumps(jsonable_finite(data), ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def clip_text(text: Any, limit: int = MAX_TEXT_CHARS) -> Any:
    """``text`` cut to about ``limit`` characters: the head and the tail, with a marker between."""
    if not isinstance(text, str) or len(text) <= limit:
        return text
    head = min(_HEAD_CHARS, limit // 4)
    tail = limit - head
    left_out = len(text) - head - tail
    return (
        text[:head]
        + f"\n[… {left_out:,} characters left out here; the whole text is in samples.jsonl …]\n"
        + text[-tail:]
    )


def asset(name: str) -> str:
    """The text of one of the page assets shipped with the package (``report_assets/``)."""
    return resources.files(_ASSET_PACKAGE).joinpath(_ASSET_DIR, name).read_text(encoding="utf-8")


def data_uri(path: str | Path, mime: str = "image/png") -> str | None:
    """A file as a ``data:`` URI (plots embedded in the page), or None when it is missing."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def chunked(items: Sequence[Any], size: int = CHUNK_ITEMS) -> list[Sequence[Any]]:
    """``items`` cut into lists of ``size`` (at least one, maybe empty, list) for `render_page`."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def render_page(
    *,
    title: str,
    header: str,
    body: str,
    data: Any,
    scripts: Sequence[str],
    chunks: Sequence[Any] = (),
    data_id: str = "tg-data",
) -> str:
    """The whole document: CSP, inlined stylesheet and scripts, the data blocks, ``body`` markup.

    ``header`` and ``body`` are markup built with `esc`/`tag`; ``data`` is embedded with
    `script_json`; ``scripts`` are asset names, concatenated into one inline script. ``chunks``
    (the bulk: lists of samples) go into blocks ``tg-chunk-0``, ``tg-chunk-1``… that the page
    parses one per task (``TG.loadChunks``): one ``JSON.parse`` of 250 MB would hold the page
    still for seconds, many small ones let it paint, scroll and answer clicks meanwhile."""
    css = asset("report.css")
    js = "\n".join(asset(name) for name in scripts)
    if "</script" in js.lower() or "</style" in css.lower():  # our own assets: a packaging error
        raise ValueError("a page asset contains a closing tag; it cannot be inlined")
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src '{_sha256(css)}'; script-src '{_sha256(js)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>{css}</style>\n"
        "</head><body>\n"
        f"{header}\n<main>\n{body}\n</main>\n"
        f'<script type="application/json" id="{esc(data_id)}">{script_json(data)}</script>\n'
        + "".join(
            f'<script type="application/json" id="tg-chunk-{i}">{script_json(chunk)}</script>\n'
            for i, chunk in enumerate(chunks)
        )
        + f"<script>{js}</script>\n"
        "</body></html>\n"
    )
