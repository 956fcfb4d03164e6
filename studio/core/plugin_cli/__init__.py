"""The subcommands of `python manage.py plugin`, and the exit status they share.

`files` holds the subcommands that work on a plugin folder, zip or .difypkg
(verify, package, checksum, keygen, sign, verify-signature, smoke);
`providers` those that work on the providers stored in the studio (import,
export, reverify, build). The parser and the dispatch are in
`studio/core/management/commands/plugin.py`.
"""

from __future__ import annotations

import textwrap

OK, FAILED, UNREADABLE = 0, 1, 2

# The exit status of every subcommand, said once: `--help`, README.md and
# docs/pluginfmt.md repeat these words (a test compares them).
EXIT_MEANINGS: dict[int, str] = {
    OK: "done; verify found no errors (warnings and info are allowed)",
    FAILED: "verify found errors, or the command failed",
    UNREADABLE: "unreadable or unsafe input, refused before anything was done",
}


def exit_status_help(details: str = "") -> str:
    """The exit status block of a `--help`, with one subcommand's `details`."""
    lines = ["exit status (the same for every plugin subcommand):"]
    lines += [f"  {status}  {meaning}" for status, meaning in EXIT_MEANINGS.items()]
    if details:
        lines.append(textwrap.fill(details, 79))
    return "\n".join(lines)


class CommandExit(Exception):
    """Stop the subcommand with an exit status (the message is already printed)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
