"""A progress bar on stderr: cells done, failed, elapsed and time left. No dependency.

On a terminal the bar redraws in place; in a log (not a tty) it prints a line at most every few
seconds and at the end, so CI logs stay short.
"""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    def __init__(self, total: int, label: str, cached: int = 0, stream=None, width: int = 24,
                 log_interval: float = 5.0):
        self.total, self.label, self.cached = total, label, cached
        self.stream = sys.stderr if stream is None else stream
        self.width, self.log_interval = width, log_interval
        self.done = cached
        self.failed = 0
        self.start = time.monotonic()
        self._last = 0.0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        computed = self.done - self.cached
        left = self.total - self.done
        eta = "?" if computed == 0 and left else _clock(elapsed / max(computed, 1) * left)
        cached = f", {self.cached} cached" if self.cached else ""
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} cells"
                f"{cached}, {self.failed} failed, {_clock(elapsed)} elapsed, {eta} left")

    def update(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        self.draw()

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line())
        elif force or now - self._last >= self.log_interval or self.done == self.total:
            self.stream.write(self.line() + "\n")
        else:
            return
        self._last = now
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
        elif self.done != self.total or self._last == 0.0:
            self.draw(force=True)
