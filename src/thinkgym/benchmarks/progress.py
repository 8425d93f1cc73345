"""The live display of `thinkgym eval`: samples done (per env and overall), running accuracy,
failures, throughput and ETA, with rich. Resumed runs start from what is already on disk.

At a temperature above 0 it also counts the problems whose samples so far are all the same text
(a server that ignores temperature makes pass@k into pass@1) and shows one warning for them."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LiveProgress"]

_ALL = "__all__"


class LiveProgress:
    """One bar for all samples and one per suite entry; `advance` after each written sample."""

    def __init__(
        self,
        totals: Mapping[str, int],
        records: Iterable[Mapping[str, Any]],
        *,
        temperature: float | None = None,
    ):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[acc]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            refresh_per_second=4,
        )
        self.correct: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.failed = 0
        self.temperature = temperature
        self.texts: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.counts: dict[tuple[str, int], int] = defaultdict(int)
        done: dict[str, int] = defaultdict(int)
        for record in records:
            if not record.get("error"):  # failed samples are retried, so not done
                self._note_text(record)
                done[record["env"]] += 1
                self.correct[record["env"]][0] += bool(record["correct"])
                self.correct[record["env"]][1] += 1
        grand = sum(totals.values())
        self.tasks: dict[str, Any] = {
            _ALL: self.progress.add_task(
                "all samples",
                total=grand,
                completed=sum(done.values()),
                acc=self._acc(None),
                rate="",
            )
        }
        for label, total in totals.items():
            self.tasks[label] = self.progress.add_task(
                label[-28:], total=total, completed=done[label], acc=self._acc(label), rate=""
            )
        self.started = time.perf_counter()
        self.done_now = 0

    def _note_text(self, record: Mapping[str, Any]) -> None:
        key = (str(record["env"]), int(record["problem_index"]))
        self.texts[key].add(str(record.get("completion") or ""))
        self.counts[key] += 1

    def _identical(self) -> tuple[int, int]:
        """(problems whose samples so far are all one text, problems with two or more samples)."""
        several = [key for key, n in self.counts.items() if n > 1]
        return sum(1 for key in several if len(self.texts[key]) == 1), len(several)

    def warning(self) -> str | None:
        """The identical-samples warning for what has been seen so far (None when there is none)."""
        from thinkgym.benchmarks.metrics import identical_samples_warning

        return identical_samples_warning(*self._identical(), self.temperature)

    def _acc(self, label: str | None) -> str:
        if label is None:
            ok = sum(c[0] for c in self.correct.values())
            n = sum(c[1] for c in self.correct.values())
            text = f"acc {ok / n:.3f}" if n else "acc  -   "
            text += f" [red]failed {self.failed}[/]" if self.failed else ""
            if self.warning():
                identical, several = self._identical()
                text += f" [yellow]identical samples {identical}/{several}[/]"  # problems; short: bars are narrow
            return text
        ok, n = self.correct[label]
        return f"acc {ok / n:.3f}" if n else "acc  -   "

    def start(self) -> None:
        self.started = time.perf_counter()
        self.progress.start()

    def advance(self, record: Mapping[str, Any]) -> None:
        label = record["env"]
        if record.get("error"):
            self.failed += 1
        else:
            self.correct[label][0] += bool(record["correct"])
            self.correct[label][1] += 1
            self._note_text(record)
        self.done_now += 1
        rate = self.done_now / max(1e-9, time.perf_counter() - self.started)
        self.progress.update(self.tasks[label], advance=1, acc=self._acc(label))
        self.progress.update(
            self.tasks[_ALL], advance=1, acc=self._acc(None), rate=f"{rate:6.1f} samples/s"
        )

    def stop(self) -> None:
        self.progress.stop()  # the warning's full text comes with the summary and the report
