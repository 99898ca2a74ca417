"""Environment names that look like Stride's settings but are not one (`stride check`).

The known names are derived from the `Settings` model, so a new setting is known at once:
top-level fields are `NAME`, nested groups `GROUP__FIELD` (and `PUBLISH__MQTT__HOST`).
A variable is suspect when its first word is one of Stride's (`OURA`, `SANDBOX`, …) and it
is not a setting; the suggestion is the setting it differs from only in underscores, or the
closest by `difflib`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import BaseModel

from bot.settings import Settings

SIMILARITY_CUTOFF = 0.85


def setting_names(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[str]:
    """Every environment name the model reads, upper case, nested groups joined by `__`."""
    for name, field in model.model_fields.items():
        full = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from setting_names(annotation, f"{full}__")
        else:
            yield full


def configured_names(environ: Mapping[str, str], env_file: Path) -> list[str]:
    """The variable names in the environment and in the `.env` file Settings reads."""
    names = set(environ)
    if env_file.is_file():
        names.update(dotenv_values(env_file))
    return sorted(names)


def _squashed(name: str) -> str:
    return name.replace("_", "")


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The setting `name` was probably meant to be, or None when it is not Stride-like."""
    known = sorted(known)
    upper = name.upper()
    first_words = {setting.split("_", 1)[0] for setting in known}
    if upper in known or upper.split("_", 1)[0] not in first_words:
        return None
    same_letters = [setting for setting in known if _squashed(setting) == _squashed(upper)]
    if same_letters:
        return same_letters[0]
    close = difflib.get_close_matches(upper, known, n=1, cutoff=SIMILARITY_CUTOFF)
    return close[0] if close else None


def misnamed_variable_warnings(environ: Mapping[str, str], env_file: Path) -> list[str]:
    """One warning per variable that looks like a Stride setting but is not one."""
    known = sorted(setting_names())
    warnings = []
    for name in configured_names(environ, env_file):
        meant = suggestion(name, known)
        if meant is not None:
            warnings.append(f"{name} is not a Stride setting and is ignored: did you mean {meant}?")
    return warnings
