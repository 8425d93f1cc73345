"""report.html and compare.html: content, escaping of untrusted model text, and a real browser.

The runs are real `evaluate` runs (toy envs and a small maze) of a policy whose every answer is an
attack on the page: ``<script>``, ``</script>`` breaking out of a script block, ``<!--``, ``]]>``,
event-handler attributes and ``javascript:`` URLs, in completions, extracted answers, reasons,
errors and multi-turn moves. Each attack, if it ran, would set ``window.__tgPwned``.

The browser tests drive Debian's headless Chromium through its chromedriver (selenium); they are
skipped, saying why, where either is missing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.benchmarks.html_compare import disagreements, write_compare_html
from thinkgym.benchmarks.html_page import MAX_TEXT_CHARS, clip_text, script_json
from thinkgym.benchmarks.html_report import (
    REPORT_HTML,
    render_html_report,
    samples_payload,
    write_html_report,
)
from thinkgym.benchmarks.runner import EvalSettings, evaluate
from thinkgym.benchmarks.store import RunDir, best_records
from thinkgym.benchmarks.suites import suite_from_mapping
from thinkgym.cli import app

sys.path.insert(0, str(Path(__file__).parent))
import toy  # noqa: E402  (toy envs are registered per test by conftest.py)

ATTACKS = [
    "<script>window.__tgPwned = 1</script>",
    "</script><script>window.__tgPwned = 2</script>",
    '<img src=x onerror="window.__tgPwned = 3">',
    "<!-- <script>window.__tgPwned = 4</script> -->",
    "]]><script>window.__tgPwned = 5</script>",
    '<a href="javascript:window.__tgPwned = 6" id="tg-evil-link">click</a>',
    '<svg onload="window.__tgPwned = 7"></svg><iframe src="javascript:parent.__tgPwned=8"></iframe>',
    '</textarea></pre></dialog><style>body{display:none}</style><b id="tg-evil-b">bold</b>',
    "\u2028\u2029 <\\/script> &lt;script&gt; \\u003cscript\\u003e",
]
ATTACK = " ".join(ATTACKS)
#: The extracted answer of the wrong samples: a tag that would run if it ever became markup.
EVIL_ANSWER = '<img src=y onerror="window.__tgPwned = 9">'


class AttackPolicy(Policy):
    """Every text an attack: single-turn answers (right or with an evil extracted answer), evil
    moves in the multi-turn walk (an invalid move's text lands in the env's reason), and failed
    generations whose error message is an attack too."""

    name = "attack"
    wants_oracle = True

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        out = []
        for q in queries:
            self.calls += 1
            pid = q.problem.id if q.problem else ""
            if q.valid_actions:  # the walk (multi-turn) or the maze
                text = (
                    ATTACKS[self.calls % len(ATTACKS)] if self.calls % 3 == 0 else q.oracle_action
                )
                out.append(Generation(text or "", finish_reason="stop"))
            elif pid.endswith("/3"):
                out.append(Generation("", error=f"HTTP 500: {ATTACKS[0]}", finish_reason="error"))
            elif pid.endswith(("/0", "/2", "/5")):
                out.append(
                    Generation(
                        f"{ATTACK}\nthe answer: <answer>{q.oracle_action[8:-9]}</answer>",
                        finish_reason="stop",
                    )
                )
            else:
                out.append(
                    Generation(f"{ATTACK}\n<answer>{EVIL_ANSWER}</answer>", finish_reason="length")
                )
        return out


SUITE = {
    "id": "html-v0",
    "envs": [
        {"env": "toybench/Add-v0", "name": "add", "n": 8},
        {"env": "toybench/Walk-v0", "name": "walk", "n": 4},
        {
            "env": "thinkgym/Maze-v0",
            "name": "maze",
            "n": 4,
            "kwargs": {"layout": "random", "rows": 3, "cols": 3},
        },
    ],
}
SETTINGS = {"progress": False, "verify_workers": 0, "samples": 2}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    toy.register_toy_envs()
    base = tmp_path_factory.mktemp("html")
    suite = suite_from_mapping(SUITE, "test")
    out = {}
    out["attack"] = base / "attack"
    out["summary"] = evaluate(
        suite,
        AttackPolicy(),
        out["attack"],
        EvalSettings(**SETTINGS),
        command=["thinkgym", "eval", "<script>x</script>"],
    )
    out["oracle"] = base / "oracle"
    evaluate(suite, toy.OracleLike(), out["oracle"], EvalSettings(**SETTINGS))
    return out


def _page(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def _data_block(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', page, re.S)
    assert match, "no data block"
    return json.loads(match.group(1))


def _chunks(page: str) -> list:
    """The bulk items (samples, or compare's problems) of all the page's data blocks, in order."""
    blocks = re.findall(
        r'<script type="application/json" id="tg-chunk-(\d+)">(.*?)</script>', page, re.S
    )
    assert [int(i) for i, _ in blocks] == list(range(_data_block(page)["chunks"]))
    return [item for _, text in blocks for item in json.loads(text)]


# --------------------------------------------------------------------------------------------
# Escaping, without a browser
# --------------------------------------------------------------------------------------------


@given(st.text())
def test_script_json_round_trips_any_text_and_cannot_close_the_block(text):
    data = {"x": text, "list": [text, 1.5, None, True]}
    encoded = script_json(data)
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert "\u2028" not in encoded and "\u2029" not in encoded
    assert json.loads(encoded) == data


def test_script_json_writes_nan_and_infinity_as_null():
    encoded = script_json({"r": math.nan, "k": {"a": math.inf}, "ok": 0.5})
    assert json.loads(encoded) == {"r": None, "k": {"a": None}, "ok": 0.5}


def test_clip_text_keeps_head_and_tail():
    text = "A" * 50_000 + "\\boxed{42}"
    clipped = clip_text(text)
    assert len(clipped) < MAX_TEXT_CHARS + 200
    assert clipped.startswith("A" * 100) and clipped.endswith("\\boxed{42}")
    assert "characters left out here" in clipped
    assert clip_text("short") == "short" and clip_text(None) is None


def test_eval_writes_report_html_and_attacks_stay_text(runs):
    page = _page(runs["attack"] / REPORT_HTML)
    # exactly our script elements: the data blocks and the page script
    blocks = 1 + _data_block(page)["chunks"]
    assert len(re.findall(r'<script type="application/json" id="tg-', page)) == blocks
    assert len(re.findall(r"<script\b", page, re.I)) == blocks + 1
    assert len(re.findall(r"</script", page, re.I)) == blocks + 1
    assert "<!--" not in page and "<img src=x" not in page and "<img src=y" not in page
    assert 'href="javascript' not in page and "href=javascript" not in page
    assert "<svg onload" not in page and "<iframe" not in page
    # the attack text is on the page as escaped text where the server renders it (reasons)
    data = _data_block(page)
    samples = _chunks(page)
    texts = [s["x"] for s in samples]
    assert any(ATTACK in t for t in texts), "the attack completions are in the data, exactly"
    assert any(s["a"] == EVIL_ANSWER for s in samples)
    assert any(
        s["c"] == -1 and "failed: HTTP 500: <script>" in data["reasons"][s["w"]] for s in samples
    )


def test_csp_pins_the_one_inline_script_and_allows_no_network(runs):
    page = _page(runs["attack"] / REPORT_HTML)
    csp = html.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    )
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "http://" not in page and "https://" not in page


def test_summary_has_the_numbers_references_and_config(runs):
    summary = runs["summary"]
    page = _page(runs["attack"] / REPORT_HTML)
    for text in ("accuracy", "mean reward", "pass@2", "maj@2", "exact reward: uniform random / optimal", "Lengths, truncation and timing",
                 "latency s mean / p50 / p90", "cut by the length limit", summary["run"]["suite_hash"], "Versions",
                 "gymnasium", "Sessions"):  # fmt: skip
        assert text in page, text
    maze = summary["envs"]["maze"]
    assert (
        f"{maze['reference']['random_mean_reward']:.3f} / {maze['reference']['optimal_mean_reward']:.3f}"
        in page
    )
    acc = summary["envs"]["add"]["accuracy"]
    assert f"{acc['value']:.3f}" in page and f"[{acc['lo']:.3f}, {acc['hi']:.3f}]" in page
    # the command (with its own attack) is shown escaped
    assert "thinkgym eval &#x27;&lt;script&gt;x&lt;/script&gt;&#x27;" in page
    # the plots are embedded, not linked
    assert page.count('src="data:image/png;base64,') == 2


def test_payload_has_every_sample_gold_and_turns(runs):
    records = list(best_records(RunDir(runs["attack"]).read_samples()).values())
    payload = samples_payload(records, ["add", "walk", "maze"])
    assert payload["envs"] == ["add", "walk", "maze"]
    assert len(payload["samples"]) == len(records) == (8 + 4 + 4) * 2
    add = [s for s in payload["samples"] if payload["envs"][s["e"]] == "add"]
    assert all(payload["problems"][s["q"]]["answer"] is not None for s in add)
    walk = [s for s in payload["samples"] if payload["envs"][s["e"]] == "walk"]
    assert all(
        s["turns"]["actions"] and len(s["turns"]["observations"]) == len(s["turns"]["actions"])
        for s in walk
    )
    # problems shared by samples are stored once
    assert len(payload["problems"]) <= 8 + 4 + 4
    keys = [(s["e"], s["i"], s["s"]) for s in payload["samples"]]
    assert keys == sorted(keys), "ordered by env, problem, sample"


def test_report_command_rewrites_report_html(runs):
    target = runs["oracle"] / REPORT_HTML
    target.unlink()
    result = CliRunner().invoke(app, ["report", str(runs["oracle"])])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output and target.stat().st_size > 10_000


def test_disagreements_are_the_problems_whose_correctness_or_reward_differs():
    def rec(env, pid, sample, correct, reward, error=None):
        return {"key": f"{env}|{pid}|{sample}", "env": env, "problem_index": pid, "problem_id": f"{env}/{pid}",
                "sample": sample, "correct": correct, "reward": reward, "error": error}  # fmt: skip

    a = [rec("m", 0, 0, True, 1.0), rec("m", 1, 0, False, 0.0), rec("m", 2, 0, False, 0.2), rec("m", 3, 0, True, 1.0),
         rec("m", 4, 0, False, 0.0, error="HTTP 500")]  # fmt: skip
    b = [rec("m", 0, 0, True, 1.0), rec("m", 1, 0, True, 1.0), rec("m", 2, 0, False, 0.7), rec("m", 3, 0, False, 0.0),
         rec("m", 4, 0, True, 1.0), rec("m", 5, 0, True, 1.0)]  # fmt: skip
    found = {(d["problem"], d["kind"]): d for d in disagreements(a, b)}
    assert set(found) == {("m/1", "correctness"), ("m/2", "reward"), ("m/3", "correctness")}
    assert (
        found[("m/1", "correctness")]["b"]["acc"] == 1.0
        and found[("m/3", "correctness")]["a"]["acc"] == 1.0
    )
    order = [d["problem"] for d in disagreements(a, b)]
    assert order[-1] == "m/2", "reward-only differences come after correctness flips"


def test_compare_command_writes_compare_html_into_b(runs):
    result = CliRunner().invoke(app, ["compare", str(runs["attack"]), str(runs["oracle"])])
    assert result.exit_code == 0, result.output
    page = _page(runs["oracle"] / "compare.html")
    assert "Differences per env (B − A)" in page and "B higher" in page
    blocks = 1 + _data_block(page)["chunks"]
    assert len(re.findall(r"<script\b", page, re.I)) == blocks + 1 and "<img src=x" not in page
    items = _chunks(page)
    assert items and all(it["a"]["acc"] != it["b"]["acc"] or it["kind"] == "reward" for it in items)
    assert any(ATTACK in s["x"] for it in items for s in it["sa"])


def test_render_copes_with_odd_records(tmp_path):
    """Records missing optional fields, NaN rewards, non-string answers: a page, not a crash."""
    records = [
        {"key": "e|0|0", "env": "e", "problem_index": 0, "sample": 0, "reward": math.nan, "correct": False},
        {"key": "e|1|0", "env": "e", "problem_index": 1, "sample": 0, "reward": 1.0, "correct": True,
         "answer": {"x": [1, 2]}, "extracted_answer": 7, "completion": "x" * 100_000, "components": {"a": math.inf}},
    ]  # fmt: skip
    page = render_html_report({"envs": {}, "overall": {}, "run": {}}, {}, records)
    samples = _chunks(page)
    assert samples[0]["r"] is None and samples[1]["k"] == {"a": None}
    assert len(samples[1]["x"]) < MAX_TEXT_CHARS + 200
    # a lone surrogate (not UTF-8) in a record given directly: written, shown as "?"
    records[0]["completion"] = "bad \ud800 text"
    path = write_html_report(tmp_path, {"envs": {}, "overall": {}, "run": {}}, records=records)
    assert "bad ? text" in _chunks(path.read_text(encoding="utf-8"))[0]["x"]


# --------------------------------------------------------------------------------------------
# A real browser
# --------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _browser_missing()
    if why:
        pytest.skip(f"no headless Chromium: {why}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1300,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # a broken install: say so rather than fail every test
        pytest.skip(f"headless Chromium did not start: {exc}")
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _open(driver, path: Path) -> None:
    driver.get(path.as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return !!(window.thinkgymReport && thinkgymReport.ready)")
    )


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def _rows(driver) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "table.samples tbody tr")


def _cells(driver, column: int) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('table.samples tbody tr')].map(r => r.cells[arguments[0]].textContent)",
        column,
    )


def test_browser_report_summary_filters_sample_view_and_no_injection(runs, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    _open(driver, runs["attack"] / REPORT_HTML)
    # the summary renders: a row per env plus the overall row, the cards, the plots
    envs = driver.execute_script(
        "return [...document.querySelectorAll('table.results tbody tr')].map(r => r.cells[0].textContent)"
    )
    assert envs == ["add", "walk", "maze", "overall (mean of envs)"]
    assert driver.find_element(By.CSS_SELECTOR, ".cards .card .big").text.strip()
    assert len(driver.find_elements(By.CSS_SELECTOR, "img.plot")) == 2

    total = (8 + 4 + 4) * 2
    assert len(_rows(driver)) == total
    # filters change the visible rows
    Select(driver.find_element(By.CSS_SELECTOR, 'select[aria-label="env"]')).select_by_visible_text(
        "walk (8)"
    )
    assert len(_rows(driver)) == 8 and set(_cells(driver, 0)) == {"walk"}
    Select(driver.find_element(By.CSS_SELECTOR, 'select[aria-label="env"]')).select_by_index(0)
    Select(driver.find_element(By.CSS_SELECTOR, 'select[aria-label="outcome"]')).select_by_value(
        "-1"
    )
    failed = len(_rows(driver))
    assert 0 < failed < total and set(_cells(driver, 5)) == {"failed"}
    Select(driver.find_element(By.CSS_SELECTOR, 'select[aria-label="outcome"]')).select_by_value("")
    search = driver.find_element(By.CSS_SELECTOR, 'input[type="search"]')
    search.send_keys("tgPwned = 9")  # only the evil extracted answers hold it
    WebDriverWait(driver, 10).until(lambda d: len(_rows(d)) < total)
    evil = len(_rows(driver))
    assert 0 < evil < total and set(_cells(driver, 0)) == {"add"}
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)
    WebDriverWait(driver, 10).until(lambda d: len(_rows(d)) == total)
    # a reason in the summary's table lists its samples
    reason_cell = driver.find_element(By.CSS_SELECTOR, "table.reasons tbody tr td:nth-child(2)")
    reason_text = reason_cell.text
    reason_cell.click()
    assert 0 < len(_rows(driver)) < total and set(_cells(driver, 6)) == {reason_text[:120]}
    driver.execute_script(
        "thinkgymReport.api.controls.env.value = ''; thinkgymReport.api.controls.reason.value = ''; thinkgymReport.api.apply()"
    )
    assert len(_rows(driver)) == total
    # sorting by reward (descending first for numbers)
    driver.find_element(By.CSS_SELECTOR, 'th[data-col="reward"]').click()
    rewards = [float(x) for x in _cells(driver, 3) if x != "–"]
    assert rewards == sorted(rewards, reverse=True) and rewards[0] > rewards[-1]

    # open an add sample with an attack completion: all of it shown as text, the answer marked
    driver.execute_script(
        "const api = thinkgymReport.api;"  # a newer search supersedes one still running
        "api.controls.search.value = 'zzzz-no-such-text'; api.apply();"
        "api.controls.search.value = 'the answer: '; api.apply()"
    )
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return !thinkgymReport.searching"))
    _rows(driver)[0].click()
    dialog = driver.find_element(By.CSS_SELECTOR, "dialog.detail")
    assert dialog.get_attribute("open") is not None
    completion = driver.execute_script(
        "return document.querySelector('dialog pre.completion').textContent"
    )
    assert ATTACKS[0] in completion and ATTACKS[1] in completion and ATTACKS[2] in completion
    mark = driver.execute_script(
        "return document.querySelector('dialog pre.completion mark').textContent"
    )
    gold = driver.execute_script("return document.querySelector('dialog pre.gold').textContent")
    assert mark == gold and gold.isdigit()
    assert "What is" in driver.execute_script(
        "return document.querySelector('dialog pre.prompt').textContent"
    )
    assert "accuracy" in dialog.text and "reward_info" in dialog.text
    dialog.send_keys(Keys.ESCAPE)

    # a multi-turn sample shows every turn in order, evil moves as text
    driver.execute_script(
        "const c = thinkgymReport.api.controls; c.search.value = ''; c.env.value = '1'; thinkgymReport.api.apply()"
    )
    _rows(driver)[0].click()
    turns = driver.execute_script(
        "return [...document.querySelectorAll('dialog .turn.action pre')].map(p => p.textContent)"
    )
    key = driver.execute_script("return decodeURIComponent(location.hash.slice('#sample='.length))")
    record = next(r for r in RunDir(runs["attack"]).read_samples() if r["key"] == key)
    assert key.startswith("walk|") and len(turns) >= 1
    assert turns == record["actions"]
    driver.execute_script("document.querySelector('dialog').close()")

    # open every sample once: nothing an attack wrote may run or become markup
    driver.execute_script("const c = thinkgymReport.api.controls; c.env.value = ''; thinkgymReport.api.apply(); "
                          "for (let i = 0; i < arguments[0]; i++) thinkgymReport.api.open(i);", total)  # fmt: skip
    found = driver.execute_script(
        "return {pwned: window.__tgPwned, scripts: document.scripts.length, "
        "imgs: document.querySelectorAll('img:not(.plot), svg:not(.cibar), iframe, style:not(:first-of-type)').length, "
        "links: document.querySelectorAll('a[href^=\"javascript\"], #tg-evil-link, #tg-evil-b').length}"
    )
    assert found == {"pwned": None, "scripts": 2, "imgs": 0, "links": 0}
    assert driver.execute_script("return thinkgymReport.errors") == []
    assert _severe(driver) == []


def test_compare_command_writes_compare_html_where_asked(runs, tmp_path):
    target = tmp_path / "pages" / "a-vs-b.html"
    target.parent.mkdir()
    result = CliRunner().invoke(app, ["compare", str(runs["attack"]), str(runs["oracle"]), "--html", str(target)])
    assert result.exit_code == 0, result.output
    assert "Differences per env (B − A)" in _page(target)


def test_browser_compare_page(runs, browser):
    from selenium.webdriver.common.by import By

    from thinkgym.benchmarks.compare import compare_runs

    write_compare_html(compare_runs(runs["attack"], runs["oracle"]))
    _open(browser, runs["oracle"] / "compare.html")
    assert "B higher" in browser.find_element(By.ID, "summary").text
    rows = _rows(browser)
    assert rows
    rows[0].click()
    sides = browser.execute_script(
        "return [...document.querySelectorAll('dialog .side h2')].map(h => h.textContent)"
    )
    assert sides == ["A: attack", "B: oracle-like"]
    assert browser.execute_script("return window.__tgPwned") is None
    assert _severe(browser) == []


def test_browser_tool_turns_in_order(tmp_path, browser):
    """A tool episode (the tool-env protocol: an OpenAI assistant message as the action, the tool
    results as the observation): each call readable, each result after it, in order."""
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'}}]}  # fmt: skip
    record = {
        "key": "tools|0|0", "env": "tools", "problem_index": 0, "problem_id": "tools/0", "sample": 0,
        "prompt": "What is 2+2? Use the calculator.", "answer": "4", "reward": 1.0, "correct": True,
        "completion": json.dumps(call) + "\n<answer>4</answer>",
        "actions": [json.dumps(call), "<answer>4</answer>"],
        "observations": ["<tool_response>4</tool_response>", "Correct."], "step_rewards": [0.0, 1.0],
        "components": {"accuracy": 1.0}, "reward_info": {"extracted_answer": "4"},
    }  # fmt: skip
    page = tmp_path / REPORT_HTML
    page.write_text(render_html_report({"envs": {}, "overall": {}, "run": {}}, {}, [record]))
    _open(browser, page)
    browser.execute_script("thinkgymReport.api.open(0)")
    turns = browser.execute_script(
        "return [...document.querySelectorAll('dialog .turn')].map(t => [t.className, t.textContent])"
    )
    assert [cls for cls, _ in turns] == ["turn action", "turn observation"] * 2
    assert 'tool call: calculator({"expression":"2+2"})' in turns[0][1]
    assert "<tool_response>4</tool_response>" in turns[1][1] and "step reward 1" in turns[2][1]
    assert _severe(browser) == []


def test_samples_split_into_blocks_load_whole(runs, browser):
    """A run cut into many small data blocks (as 100,000 samples are) loads every sample."""
    records = list(best_records(RunDir(runs["attack"]).read_samples()).values())
    summary = json.loads((runs["attack"] / "summary.json").read_text())
    page = render_html_report(summary, {}, records, chunk_size=5)
    assert _data_block(page)["chunks"] == math.ceil(len(records) / 5)
    assert _chunks(page) == samples_payload(records, list(summary["envs"]))["samples"]
    path = runs["attack"] / "chunked.html"
    path.write_text(page, encoding="utf-8")
    _open(browser, path)
    assert browser.execute_script("return thinkgymReport.api.table.view.length") == len(records)
    assert (
        browser.execute_script(
            "return document.querySelectorAll('script[id^=\"tg-chunk-\"]').length"
        )
        == 0
    )
    assert browser.execute_script("return window.__tgPwned") is None and _severe(browser) == []


def test_browser_dialogs_step_through_the_rows_in_the_tables_order(runs, browser):
    """report.html and compare.html: previous/next (buttons and arrow keys) follow the table's
    shown order, stop at its ends, and closing the dialog resets the address."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from thinkgym.benchmarks.compare import compare_runs

    _open(browser, runs["attack"] / REPORT_HTML)
    browser.execute_script("const c = thinkgymReport.api.controls; c.env.value = '1'; thinkgymReport.api.apply()")
    count = len(_rows(browser))
    _rows(browser)[0].click()
    dialog = browser.find_element(By.CSS_SELECTOR, "dialog.detail")
    buttons = {b.text: b for b in dialog.find_elements(By.CSS_SELECTOR, ".head button")}
    key = lambda: browser.execute_script("return decodeURIComponent(location.hash)")  # noqa: E731
    first = key()
    assert buttons["← previous"].get_attribute("disabled") is not None  # the first row
    dialog.send_keys(Keys.ARROW_RIGHT)
    second = key()
    assert second != first and second.startswith("#sample=walk|")
    buttons["next →"].click()
    assert key() not in (first, second)
    buttons["← previous"].click()
    assert key() == second
    dialog.send_keys(Keys.ARROW_LEFT)
    assert key() == first
    for _ in range(count):  # to the last row: next is disabled there
        dialog.send_keys(Keys.ARROW_RIGHT)
    assert buttons["next →"].get_attribute("disabled") is not None
    dialog.send_keys(Keys.ESCAPE)
    assert dialog.get_attribute("open") is None and key() == "#samples"

    write_compare_html(compare_runs(runs["attack"], runs["oracle"]))
    _open(browser, runs["oracle"] / "compare.html")
    assert len(_rows(browser)) >= 2
    _rows(browser)[0].click()
    title = browser.find_element(By.CSS_SELECTOR, "dialog.detail .title")
    before = title.text
    browser.find_element(By.CSS_SELECTOR, "dialog.detail").send_keys(Keys.ARROW_RIGHT)
    assert title.text != before
    assert browser.execute_script("return thinkgymReport.errors") == [] and _severe(browser) == []
