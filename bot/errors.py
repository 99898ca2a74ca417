"""Exceptions whose message is written for the person who caused them."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the message is shown to them as it is, ephemerally.

    Never put a secret, a token or an internal detail in the message.
    """


class ConfigError(Exception):
    """The configuration is unusable; `problems` holds one plain line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
