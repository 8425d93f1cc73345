"""Re-make the README's screenshots of report.html and compare.html (headless Chromium).

    .venv/bin/python docs/screenshots.py            # ~1 min on a laptop CPU

Runs `thinkgym eval --suite quick-v0` with the random and the oracle policy (4 samples per
problem), compares them, and photographs the summary of the random run, an opened math sample of
the oracle run (its extracted answer marked) and the compare page with a problem opened.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "perf"))
from html_report_bench import chromium_driver  # noqa: E402


def _thinkgym(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "thinkgym.cli", *args], check=True, capture_output=True)


def _open(driver, page: Path) -> None:
    driver.get(page.as_uri())
    while not driver.execute_script("return !!(window.thinkgymReport && thinkgymReport.ready)"):
        time.sleep(0.05)


def main() -> None:
    runs = Path(tempfile.mkdtemp(prefix="tg-shots-"))
    for policy in ("random", "oracle"):
        _thinkgym("eval", "--suite", "quick-v0", "--policy", policy, "--samples", "4",
                  "--out", str(runs / policy), "--no-progress")  # fmt: skip
    _thinkgym("compare", str(runs / "random"), str(runs / "oracle"))
    driver = chromium_driver(1300, 860)
    try:
        _open(driver, runs / "random" / "report.html")
        driver.save_screenshot(str(HERE / "report-summary.png"))

        _open(driver, runs / "oracle" / "report.html")
        driver.execute_script(
            "const c = thinkgymReport.api.controls;"
            "c.env.value = String([...c.env.options].findIndex(o => o.text.startsWith('math')) - 1);"
            "thinkgymReport.api.apply(); thinkgymReport.api.open(thinkgymReport.api.table.view[5]);"
            "document.querySelector('dialog pre.completion').scrollIntoView({block: 'center'});"
        )
        time.sleep(0.3)
        driver.save_screenshot(str(HERE / "report-sample.png"))

        _open(driver, runs / "oracle" / "compare.html")
        driver.execute_script(
            "const c = thinkgymReport.api.controls;"
            "c.env.value = String([...c.env.options].findIndex(o => o.text.startsWith('math')) - 1);"
            "thinkgymReport.api.apply(); thinkgymReport.api.open(thinkgymReport.api.table.view[0]);"
            "const d = document.querySelector('dialog');"
            "d.scrollTop = document.querySelector('dialog .sides').offsetTop - 60;"
        )
        time.sleep(0.3)
        driver.save_screenshot(str(HERE / "compare.png"))
    finally:
        driver.quit()
    print(f"screenshots in {HERE} (runs in {runs})")


if __name__ == "__main__":
    main()
