"""The desktops benchmark's pure parts: pairing keys with paints, ratios, the table."""

from __future__ import annotations

import math

from bench.desktops import Row, cpu_percent, fit_in, latencies, ratio, render_table

OVER_TERMINAL = (100, 100, 8, 13)
"""x, y, width, height of a paint where the terminal's text is."""
ON_THE_PANEL = (0, 780, 1280, 20)


def test_each_key_is_paired_with_the_first_paint_over_the_terminal_after_it() -> None:
    keys = [1000.0, 2000.0, 3000.0]
    paints = [
        (990.0, *OVER_TERMINAL),  # before the first key: not its pixel
        (1005.0, *ON_THE_PANEL),  # the clock, elsewhere: ignored
        (1012.0, *OVER_TERMINAL),
        (1030.0, *OVER_TERMINAL),  # a second paint of the same key
        (2040.0, *OVER_TERMINAL),
        # the third key's echo came only after a fourth key would have: none here at all
    ]
    assert latencies(keys, paints) == [12.0, 40.0]


def test_a_paint_after_the_next_key_is_not_counted_for_the_earlier_key() -> None:
    assert latencies([1000.0, 1010.0], [(1015.0, *OVER_TERMINAL)]) == [5.0]


def test_ratio_and_cpu_and_how_many_fit() -> None:
    assert ratio(50.0, 100.0) == "0.50x"
    assert ratio(1.0, None) == "-"
    assert ratio(0.0, 0.0) == "-"
    assert ratio(1.0, 0.0) == "inf"
    assert ratio(math.nan, 1.0) == "-"
    assert cpu_percent(ticks=50, seconds=10.0, hz=100) == 5.0
    gib = 1024**3
    assert fit_in(4 * gib, gib, 300 * 1024**2) == 10
    assert fit_in(gib, 2 * gib, 1) == 0
    assert fit_in(gib, 0, 0) == 0


def test_the_table_has_a_line_per_row_with_ratio_target_and_verdict() -> None:
    rows = [
        Row("cold start", "ms", 900.0, 2000.0, "≤ 3000 ms", True),
        Row("resume", "ms", 900.0, None, "≤ 500 ms", False),
        Row("CPU idle", "%", 0.0, 1.5, "", None),
        Row("fit", "", 41, None, "≥ 10", True),
    ]
    lines = render_table(rows).splitlines()
    assert lines[0].split(" | ")[0].strip() == "metric"
    cells = [[cell.strip() for cell in line.split(" | ")] for line in lines[2:]]
    assert cells[0] == ["cold start", "900 ms", "2000 ms", "0.45x", "≤ 3000 ms", "yes"]
    assert cells[1] == ["resume", "900 ms", "-", "-", "≤ 500 ms", "NO"]
    assert cells[2] == ["CPU idle", "0.00 %", "1.50 %", "0.00x", "-", "-"]
    assert cells[3] == ["fit", "41", "-", "-", "≥ 10", "yes"]
    assert len({len(line) for line in lines}) == 1  # the columns line up
