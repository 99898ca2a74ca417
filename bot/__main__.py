"""`python -m bot` does what the `stride` console script does."""

from bot.cli import main

raise SystemExit(main())
