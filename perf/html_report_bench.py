"""How report.html copes with a large run: write it, open it in headless Chromium, filter, sort.

    .venv/bin/python perf/html_report_bench.py --samples 100000

Synthetic sample records shaped like a real eval (math-style prompts and reasoning completions of
a few hundred to several thousand characters with a boxed answer, a share of multi-turn maze
episodes, failed samples, a dozen miss reasons) go through the real code: `metrics.summarize` for
the summary, `html_report.render_html_report` for the page. Chromium (Debian's ``chromium`` with
its ``chromedriver``, driven by selenium) then opens the file from disk; the page reports its own
timings (``window.thinkgymReport``): ``openMs`` = navigation start to the first page of rows
drawn (HTML parse, JSON parse, the first table render), and for every filter the time the page's
main thread spent (scan + sort + render of one page). The wall time of each step as seen from
Python (a round trip through the driver) is printed too. No peer library renders this kind of
page offline, so the figures are absolute, not ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from thinkgym.benchmarks.html_report import render_html_report
from thinkgym.benchmarks.metrics import summarize

REASONS = [
    "accuracy: wrong answer",
    "accuracy: no answer after </think>",
    "format: expected one <think> and one </think>, found 0 and 0",
    "accuracy: several different answers (a hedge) earn 0",
    "turn limit reached without reward",
    "episode ended with reward 0",
    "NameError: name 'solve' is not defined",
    "AssertionError in test 3",
    "timeout after 10 s",
    "accuracy: the answer is not a number",
    "no answer in \\boxed{}",
    "accuracy: unit mismatch",
]
WORDS = (
    "so the total is then we add multiply both sides by let us check whether the sum of "
    "the first terms equals wait that is not right recompute carefully therefore"
).split()


def synthetic_records(n: int, seed: int = 0, samples_per_problem: int = 4) -> list[dict]:
    """``n`` sample records in the shape `thinkgym eval` writes (see `runner._episode`)."""
    rng = random.Random(seed)
    envs = ["math", "gsm8k", "code", "maze-4x4"]
    records = []
    for k in range(n):
        env = envs[(k // samples_per_problem) % len(envs)]
        index = k // (samples_per_problem * len(envs))
        sample = k % samples_per_problem
        gold = str(rng.randint(-999, 9999))
        multi = env == "maze-4x4"
        correct = rng.random() < 0.45
        failed = rng.random() < 0.01
        answer = gold if correct else str(rng.randint(-999, 9999))
        if multi:
            actions = [rng.choice("RLUD") for _ in range(rng.randint(2, 8))]
            completion = "\n".join(actions)
        else:
            actions = None
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 900)))
            completion = f"<think>{body}</think> The answer is $\\boxed{{{answer}}}$."
        records.append(
            {
                "key": f"{env}|{index}|{sample}",
                "env": env,
                "problem_index": index,
                "problem_id": f"{env}/test/{index}",
                "sample": sample,
                "prompt": f"Problem {index} of {env}: compute the value of the expression "
                + " + ".join(str(rng.randint(1, 99)) for _ in range(12))
                + ". Put the final answer in \\boxed{}.",
                "answer": gold,
                "completion": "" if failed else completion,
                "actions": actions,
                "observations": [f"You moved. Moves left: {8 - t}." for t in range(len(actions))]
                if actions
                else None,
                "step_rewards": [0.0] * len(actions) if actions else None,
                "extracted_answer": None if (multi or failed) else answer,
                "answer_found": not multi,
                "reward": 0.0 if failed else float(correct),
                "components": {"accuracy": float(correct), "format": 1.0}
                if not multi
                else {"goal": float(correct)},
                "correct": correct and not failed,
                "reward_info": {"extracted_answer": answer, "gold": gold}
                if not multi
                else {"move": "R"},
                "reason": None if correct or failed else rng.choice(REASONS),
                "error": "HTTP 500: upstream timed out" if failed else None,
                "terminated": True,
                "truncated": False,
                "turns": len(actions) if actions else 1,
                "finish_reasons": ["stop"],
                "latency_s": rng.uniform(0.5, 20.0),
                "prompt_tokens": 80,
                "completion_tokens": len(completion) // 4,
                "timings": {"generate_s": 1.0, "verify_s": 0.003, "total_s": 1.1},
            }
        )
    return records


def chromium_driver(width: int = 1400, height: int = 1000):
    """Headless Chromium through the system chromedriver (no download by selenium-manager)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(
        service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options
    )


# One step: run `code`, then wait (asynchronously) until a search in flight has finished.
# "sync" is how long the step itself held the main thread; a search then runs in slices, of which
# the longest is reported: the page's worst freeze is the larger of the two.
STEP = """
const done = arguments[arguments.length - 1];
const api = thinkgymReport.api, c = api.controls;
thinkgymReport.longestSliceMs = 0;
const t0 = performance.now();
%s
const t1 = performance.now();
(function wait() {
  if (thinkgymReport.searching) return setTimeout(wait, 2);
  done({ms: performance.now() - t0, sync: t1 - t0, slice: thinkgymReport.longestSliceMs, stats: thinkgymReport.last});
})();
"""

LONGTASKS = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({entryTypes: ["longtask"]});
"""


def _longtasks(driver, when: str) -> str:
    tasks = driver.execute_script("const t = window.__longtasks; window.__longtasks = []; return t")
    if not tasks:
        return f"  main-thread tasks over 50 ms while {when}: none"
    longest = max(tasks, key=lambda t: t[1])
    return (
        f"  main-thread tasks over 50 ms while {when}: {len(tasks)}, longest {longest[1]:.0f} ms "
        f"(at {longest[0]:.0f} ms)"
    )


STEPS = [
    ("filter env = code", "c.env.value = '2'; api.apply();"),
    ("filter outcome = not correct", "c.outcome.value = '0'; api.apply();"),
    ("filter reason (one of 12)", "c.reason.value = '3'; api.apply();"),
    ("clear filters", "c.env.value = ''; c.outcome.value = ''; c.reason.value = ''; api.apply();"),
    ("text search (index ready)", "c.search.value = 'recompute carefully therefore'; api.apply();"),
    ("text search, another phrase", "c.search.value = 'wait that is'; api.apply();"),
    ("text search, no match", "c.search.value = 'zzzz-no-such-text'; api.apply();"),
    ("clear search", "c.search.value = ''; api.apply();"),
    ("sort by reward (first: builds the key)", "api.table.sortBy('reward');"),
    ("sort by length", "api.table.sortBy('length');"),
    ("last page", "api.table.goto(Infinity);"),
    ("open a sample", "api.open(api.table.view[0]);"),
]


def _load(driver, path: Path) -> tuple[float, float]:
    """Open the page; (ms from navigation start to ready as the page measured it, wall s)."""
    t = time.perf_counter()
    driver.get(path.as_uri())  # returns after the load event (our script has run by then)
    while not driver.execute_script("return !!(window.thinkgymReport && thinkgymReport.ready)"):
        if time.perf_counter() - t > 120:
            raise SystemExit("the page did not become ready in 120 s")
        time.sleep(0.05)
    return driver.execute_script("return thinkgymReport.openMs"), time.perf_counter() - t


def _paint(driver) -> float:
    return driver.execute_script(
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : NaN"
    )


def _step(driver, name: str, code: str, results: dict) -> None:
    out = driver.execute_async_script(STEP % code)
    rows = (out.get("stats") or {}).get("matched")
    freeze = max(out["sync"], out["slice"] or 0.0)
    print(f"{name:46s} {out['ms']:13.0f} {freeze:15.0f} {rows if rows is not None else '':>8}")
    results["steps"][name] = {
        "until_shown_ms": round(out["ms"], 1),
        "longest_block_ms": round(freeze, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--keep", help="write the page here instead of a temp folder")
    args = parser.parse_args()

    t = time.perf_counter()
    records = synthetic_records(args.samples)
    t_make = time.perf_counter() - t
    t = time.perf_counter()
    summary = summarize(records, multi_turn_envs=["maze-4x4"])
    summary["run"] = {"suite": "synthetic", "policy": "synthetic", "scored_samples": args.samples}
    t_summary = time.perf_counter() - t
    t = time.perf_counter()
    page = render_html_report(summary, {}, records)
    t_render = time.perf_counter() - t
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tg-html-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    print(f"samples: {args.samples:,}; records made in {t_make:.1f} s; summarize {t_summary:.1f} s")
    print(
        f"render_html_report: {t_render:.2f} s; page size {path.stat().st_size / 2**20:.1f} MiB ({path})"
    )

    driver = chromium_driver()
    # every main-thread task over 50 ms, from the very start of each page (DevTools protocol)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LONGTASKS})
    try:
        open_ms, wall_open = _load(driver, path)
        print(_longtasks(driver, "opening"))
        heap = driver.execute_script(
            "return performance.memory ? performance.memory.usedJSHeapSize : null"
        )
        print(f"open: page ready {open_ms:.0f} ms after navigation start (driver wall {wall_open:.2f} s); "
              f"first paint {_paint(driver):.0f} ms; JS heap {(heap or 0) / 2**20:.0f} MiB")  # fmt: skip
        t = time.perf_counter()
        while not driver.execute_script("return thinkgymReport.searchReady()"):
            time.sleep(0.05)
        phases = driver.execute_script("return thinkgymReport.phases")
        print("  of which: HTML parsed, script starts {scriptStart:.0f} ms; data parsed {dataParsed:.0f} ms; "
              "first page of rows {firstPage:.0f} ms".format(**phases))  # fmt: skip
        ready_ms = driver.execute_script("return thinkgymReport.searchReadyMs()")
        print(f"search index built in idle time: complete {ready_ms:.0f} ms after navigation start")
        results = {"open_ms": open_ms, "phases": phases, "search_ready_ms": ready_ms, "steps": {}}
        print(f"{'step':46s} {'until shown ms':>13s} {'longest block ms':>15s} {'rows':>8s}")
        for name, code in STEPS:
            _step(driver, name, code, results)
        print(_longtasks(driver, "doing the steps above"))
        # a search typed at once after opening, before the idle-time index is built, pays for it
        _load(driver, path)
        _step(driver, "text search at once after a fresh open", STEPS[4][1], results)
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        print(f"console errors: {len(errors)}")
        for e in errors[:5]:
            print("  ", e.get("message"))
        print(json.dumps(results))
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
