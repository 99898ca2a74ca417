"""`stride demo`, and `stride` falling back to it without a Discord token."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest

from bot.cli import main


def run_demo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["demo", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_same_seed_gives_byte_identical_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "charts"
    first = run_demo(capsys, "--seed", "1", "--out", str(out_dir))
    second = run_demo(capsys, "--seed", "1", "--out", str(out_dir))
    assert first[0] == second[0] == 0
    assert first[1] == second[1]
    other = run_demo(capsys, "--seed", "2", "--out", str(out_dir))
    assert other[1] != first[1]


def test_demo_prints_every_day_and_the_results_and_writes_the_charts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "charts"
    code, out, err = run_demo(
        capsys, "--players", "4", "--days", "3", "--mode", "goal_days", "--out", str(out_dir)
    )
    assert code == 0
    assert "4 players" in out and "goal_days scoring" in out
    for header in ("Mon 1 Jun · day 1 of 3", "Tue 2 Jun · day 2 of 3", "Wed 3 Jun · day 3 of 3"):
        assert header in out
    results = out[out.index("Final results") :]
    assert "Best single day:" in results
    table_rows = [
        line for line in results.splitlines() if line.lstrip()[:2] in {"1.", "2.", "3.", "4."}
    ]
    assert len(table_rows) == 4
    charts = [
        Path(line.removeprefix("chart: "))
        for line in out.splitlines()
        if line.startswith("chart: ")
    ]
    assert len(charts) == 4  # three days and the results
    assert len(set(charts)) == 4
    for chart in charts:
        assert chart.read_bytes().startswith(b"\x89PNG")
    assert "daily run 4 of 4" in err  # progress goes to standard error, not the table


def test_demo_rejects_nonsense_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--players", "0"])
    assert "between 1 and" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--mode", "fastest"])


@pytest.mark.parametrize("token", [None, ""])
def test_stride_without_a_token_runs_the_demo(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None,
) -> None:
    if token is not None:
        monkeypatch.setenv("DISCORD_TOKEN", token)  # as an empty line in .env leaves it
    code = main([])
    captured = capsys.readouterr()
    assert code == 0
    notice = [line for line in captured.err.splitlines() if "DISCORD_TOKEN" in line]
    assert len(notice) == 1 and "demo" in notice[0]
    assert "Final results" in captured.out
    assert list((tmp_path / "demo-out").glob("*.png"))  # the default --out, in the cwd


def test_one_day_streak_is_one_day_not_one_days(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _err = run_demo(capsys, "--days", "1", "--players", "3", "--out", str(tmp_path))
    assert code == 0
    [streak] = [line for line in out.splitlines() if line.startswith("Longest streak:")]
    assert streak.endswith(", 1 day")


def test_no_log_line_lands_among_the_tables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    code, out, err = run_demo(capsys, "--days", "2", "--out", str(tmp_path / "charts"))
    assert code == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "PUBLISH__SECRET" not in out + err
    assert all(line.startswith("demo: ") for line in err.splitlines())
    assert "+00:00" not in err  # progress reads as a date and time, not an ISO timestamp


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_one_terminal_only_the_tables_show(tmp_path: Path) -> None:
    from bot.demo import DemoOptions, run_demo

    out = err = Terminal()
    code = asyncio.run(run_demo(DemoOptions(days=2, out=tmp_path), out, err))
    assert code == 0
    assert "daily run" not in out.getvalue()
    assert "Final results" in out.getvalue()
