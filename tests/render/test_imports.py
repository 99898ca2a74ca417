"""What rendering must never load."""

from __future__ import annotations

import subprocess
import sys


def test_scoring_and_render_never_import_discord() -> None:
    code = (
        "import sys, bot.scoring, bot.render.text, bot.render.standings, bot.render.leaderboard, "
        "bot.render.table, bot.render.chart; "
        "assert 'discord' not in sys.modules, 'discord imported'; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=".")
