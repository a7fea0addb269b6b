"""The power-cut benchmark's and counter units' pure parts: the sent log, the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.power_cut import Timings, print_table
from dev.power_cut_units import cut_torn_tail, last_logged


def test_the_counter_goes_on_after_the_last_complete_line(tmp_path: Path) -> None:
    log = tmp_path / "sent.log"
    assert last_logged(log) == 0  # no log yet: the counter starts at 1
    log.write_text("")
    assert last_logged(log) == 0
    log.write_text("1\n2\n3\n")
    assert last_logged(log) == 3
    log.write_text("1\n2\n3\n4")  # killed while writing "42\n"
    assert last_logged(log) == 3
    cut_torn_tail(log)
    assert log.read_text() == "1\n2\n3\n"
    cut_torn_tail(log)  # nothing to cut
    assert log.read_text() == "1\n2\n3\n"
    cut_torn_tail(tmp_path / "missing.log")


def test_the_table_compares_with_the_clean_restart(capsys: pytest.CaptureFixture[str]) -> None:
    clean = Timings("clean restart (baseline)", [10.0, 12.0, 11.0])
    cut = Timings("power cut (kill -9 all)", [20.0, 30.0])
    print_table([clean, cut])
    out = capsys.readouterr().out
    assert "| clean restart (baseline) | 11.0 s | 10.0 s | 12.0 s | 1.00 |" in out
    assert "| power cut (kill -9 all) | 25.0 s | 20.0 s | 30.0 s | 2.27 |" in out
    assert out.rstrip().endswith(": met")
    print_table([clean, Timings("power cut (kill -9 all)", [61.0])])
    assert capsys.readouterr().out.rstrip().endswith(": MISSED")
