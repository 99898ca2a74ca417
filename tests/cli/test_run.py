"""`stride run` needs a token; bare `stride` plays the demo only when nothing is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings


def test_run_without_a_token_is_a_usage_error_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("error: DISCORD_TOKEN is not set") and "stride demo" in line
    assert not (tmp_path / "demo-out").exists()  # no demo played


def test_run_with_an_empty_token_line_is_the_same_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "  ")
    assert main(["run"]) == 2
    assert capsys.readouterr().err.startswith("error: DISCORD_TOKEN is not set")


def test_bare_stride_with_settings_but_no_token_names_what_is_configured(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("OURA__CLIENT_ID=oura-id\nDISCORD_TOKEN=\n")
    assert main([]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert "DISCORD_TOKEN is not set" in line and "OURA__CLIENT_ID" in line
    assert "oura-id" not in line
    assert not (tmp_path / "demo-out").exists()


def test_bare_stride_on_a_fresh_machine_plays_the_demo(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([]) == 0
    captured = capsys.readouterr()
    assert "Final results" in captured.out
    assert sorted(p.suffix for p in (tmp_path / "demo-out").iterdir()) == [".png"] * 8


@pytest.mark.parametrize("written", ["debug", "Info", "WARNING"])
def test_log_level_is_accepted_in_any_case(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", written)
    assert Settings().log_level == written.upper()
