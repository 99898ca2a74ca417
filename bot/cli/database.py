"""`stride migrate` and `stride reencrypt`: the schema, and the last step of a key rotation."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from cryptography.fernet import InvalidToken

from bot import eventloop
from bot.cli.common import database_path_problem, settings_or_report
from bot.crypto import KEY_FILE_NAME, EncryptionKeyError, TokenCipher, parse_keys
from bot.settings import Settings
from bot.storage import (
    Database,
    DatabaseTooNew,
    DatabaseUnavailable,
    MigrationError,
    open_database,
)

UNDECRYPTABLE = (
    "error: a stored token cannot be decrypted with any configured key, so nothing was "
    "re-encrypted. Put the key the tokens were encrypted with in TOKEN_ENCRYPTION_KEYS, after "
    "the new one (new,old), and run `stride reencrypt` again; if that key is lost, the members "
    "concerned must /link again"
)


async def _migrate(target: Path | str) -> tuple[str, int, int]:
    """(what was migrated, version before, version after)."""
    async with await Database.open(target) as db:
        before = await db.schema_version()
        after = await db.migrate()
        return db.target, before, after


def cmd_migrate(database: Path | None, out: TextIO, err: TextIO) -> int:
    target: Path | str | None = database
    if target is None:
        settings = settings_or_report(err)
        if settings is None:
            return 1
        url = settings.database_url
        target = settings.database_path if url is None else url.get_secret_value()
    problem = database_path_problem(target) if isinstance(target, Path) else None
    if problem is not None:
        print(f"error: {problem}", file=err)
        return 1
    try:
        name, before, after = eventloop.run(_migrate(target))
    except (MigrationError, DatabaseTooNew, DatabaseUnavailable) as exc:
        print(f"error: {exc}", file=err)
        return 1
    except OSError as exc:
        print(f"error: cannot open the database {target}: {exc.strerror or exc}", file=err)
        return 1
    applied = after - before
    print(f"{name}: schema version {after} ({applied} migration(s) applied)", file=out)
    return 0


def reencrypt_cipher(settings: Settings) -> TokenCipher:
    """The configured keys, or the key file beside the database; never creates a key (a new
    one could decrypt nothing). Raises EncryptionKeyError saying what to set."""
    if settings.token_encryption_keys is not None:
        return TokenCipher(parse_keys(settings.token_encryption_keys.get_secret_value()))
    key_file = settings.database_path.resolve().parent / KEY_FILE_NAME
    if not key_file.is_file():
        raise EncryptionKeyError(
            f"TOKEN_ENCRYPTION_KEYS is not set and there is no key file {key_file}: set "
            "TOKEN_ENCRYPTION_KEYS to the new key followed by the old ones (new,old)"
        )
    return TokenCipher(parse_keys(key_file.read_text("ascii").strip()))


async def _reencrypt(settings: Settings, cipher: TokenCipher) -> int:
    from bot.storage.accounts import AccountsRepo

    async with await open_database(settings) as db:
        await db.migrate()
        return await AccountsRepo(db, cipher).reencrypt_all()


def cmd_reencrypt(out: TextIO, err: TextIO) -> int:
    settings = settings_or_report(err)
    if settings is None:
        return 1
    path = settings.database_path
    sqlite = settings.database_url is None
    if sqlite and not path.is_file():
        print(f"error: there is no database at {path} (DATABASE_PATH): nothing to do", file=err)
        return 1
    try:
        count = eventloop.run(_reencrypt(settings, reencrypt_cipher(settings)))
    except InvalidToken:
        print(UNDECRYPTABLE, file=err)
        return 1
    except (MigrationError, DatabaseTooNew, DatabaseUnavailable, EncryptionKeyError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(f"re-encrypted the tokens of {count} linked account(s) with the first key", file=out)
    return 0
