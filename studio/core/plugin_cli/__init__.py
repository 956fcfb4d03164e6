"""The subcommands of `python manage.py plugin`, and the exit status they share.

`files` holds the subcommands that work on a plugin folder, zip or .difypkg
(verify, package, checksum, keygen, sign, verify-signature, smoke);
`providers` those that work on the providers stored in the studio (import,
export, reverify, build). The parser and the dispatch are in
`studio/core/management/commands/plugin.py`.
"""

from __future__ import annotations

OK, FAILED, UNREADABLE = 0, 1, 2


class CommandExit(Exception):
    """Stop the subcommand with an exit status (the message is already printed)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
