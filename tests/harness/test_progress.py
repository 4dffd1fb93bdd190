"""The progress bar: cells done, failed and the time left, on stderr-like streams."""

import io

from bench.progress import Progress


def test_progress_line_counts_done_failed_and_time_left():
    s = io.StringIO()
    bar = Progress(10, "suite/quick", cached=2, stream=s, log_interval=0.0)
    bar.update()
    bar.update(failed=True)
    line = s.getvalue().splitlines()[-1]
    assert "4/10 cells" in line and "2 cached" in line and "1 failed" in line and line.endswith("left")
    assert "?" not in line.split("elapsed")[1]  # an estimate once a cell was computed
    bar.close()
    assert "4/10 cells" in s.getvalue().splitlines()[-1]  # an unfinished sweep ends on its count


def test_a_log_gets_few_lines():
    s = io.StringIO()
    bar = Progress(1000, "x", stream=s, log_interval=3600.0)
    bar.draw(force=True)
    for _ in range(1000):
        bar.update()
    bar.close()
    assert len(s.getvalue().splitlines()) == 2  # the first line and the last
