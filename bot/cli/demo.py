"""`stride demo`: the simulated challenge of `bot.demo`, with one line for an unusable `--out`."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, TextIO

from bot import eventloop
from bot.cli.common import output_folder_problem
from bot.cli.logs import configure_logging

if TYPE_CHECKING:
    from bot.demo import DemoOptions


def demo_options(args: argparse.Namespace) -> DemoOptions:
    # Imported here: the demo brings the daily run and matplotlib, which no other command needs.
    from bot.demo import DemoOptions

    return DemoOptions(
        players=args.players, days=args.days, mode=args.mode, seed=args.seed, out=args.out
    )


def cmd_demo(options: DemoOptions | None, out: TextIO, err: TextIO) -> int:
    """Play the demo (the defaults when `options` is None); 1 with one line when the charts
    cannot be written."""
    from bot.demo import DemoOptions, run_demo

    options = options or DemoOptions()
    if not logging.getLogger().handlers:  # unless the caller configured logging itself
        configure_logging("ERROR")  # the tables, not the services' notices; errors still show
    problem = output_folder_problem(options.out)
    if problem is not None:
        print(f"error: cannot write the demo's charts: {problem} (choose another --out)", file=err)
        return 1
    try:
        return eventloop.run(run_demo(options, out, err))
    except OSError as exc:  # the folder went away or the disk is full mid-way
        print(f"error: cannot write the demo's charts to {options.out}: {exc.strerror}", file=err)
        return 1
