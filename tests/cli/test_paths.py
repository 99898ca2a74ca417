"""Paths Stride cannot use are one line naming them (and the uid that needs access), never a
traceback; Ctrl-C during the demo ends it quietly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.common import EXIT_INTERRUPTED

ROOT = Path(__file__).resolve().parents[2]


def deny_writes(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """`folder` as a folder the current uid cannot write (the tests may run as root, whom
    file modes do not stop): what a root-owned bind mount is to the image's user."""
    real_access = os.access

    def access(path: object, mode: int) -> bool:
        if Path(str(path)) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    [line] = captured.err.splitlines()
    assert line.startswith("error: ")
    return line


def test_demo_out_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "charts.png"
    target.write_bytes(b"not a folder")
    assert main(["demo", "--days", "1", "--out", str(target)]) == 1
    assert str(target) in one_error_line(capsys)


def test_demo_out_in_a_folder_the_user_cannot_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    deny_writes(monkeypatch, locked)
    assert main(["demo", "--days", "1", "--out", str(locked)]) == 1
    line = one_error_line(capsys)
    assert str(locked) in line and f"uid {os.getuid()}" in line


def test_migrate_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["migrate", "--database", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert str(tmp_path) in line and "is a directory" in line


def test_migrate_below_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    assert main(["migrate", "--database", str(blocker / "stride.db")]) == 1
    assert str(blocker) in one_error_line(capsys)


def test_a_data_volume_the_user_cannot_write_names_the_uid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"  # the bind-mounted /data, owned by root on the host
    data.mkdir()
    deny_writes(monkeypatch, data)
    monkeypatch.setenv("DATABASE_PATH", str(data / "stride.db"))
    assert main(["migrate"]) == 1
    line = one_error_line(capsys)
    assert f"{data} is not writable by uid {os.getuid()}" in line
    assert f"chown {os.getuid()}" in line
    assert not (data / "stride.db").exists()


def test_run_with_a_data_volume_the_user_cannot_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    deny_writes(monkeypatch, data)
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DATABASE_PATH", str(data / "stride.db"))
    assert main(["run"]) == 1
    line = one_error_line(capsys)
    assert f"{data} is not writable by uid {os.getuid()}" in line


async def test_ctrl_c_during_the_demo_exits_quietly(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--days",
        "90",
        "--players",
        "50",
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
    assert b"daily run 1 of" in line  # the demo is under way
    process.send_signal(signal.SIGINT)
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert b"Traceback" not in err


def test_a_folder_the_user_may_not_look_into(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hidden = tmp_path / "private"
    real_stat = Path.stat

    def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if self.is_relative_to(hidden):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", stat)
    assert main(["migrate", "--database", str(hidden / "stride.db")]) == 1
    line = one_error_line(capsys)
    assert str(hidden / "stride.db") in line and "Permission denied" in line


def test_a_key_file_owned_by_another_user(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "stride.key"  # left behind by a container that ran as root
    key_file.write_text("not for us\n")
    real_read_text = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if self == key_file:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stride.db"))
    monkeypatch.setenv("WEB_PORT", "0")
    monkeypatch.setenv("METRICS_PORT", "")
    assert main(["run"]) == 1
    line = one_error_line(capsys)
    assert f"{key_file} is not readable and writable by uid {os.getuid()}" in line
