"""The plugin as a set of files: the common currency of readers, verifier,
renderer and packager."""

from __future__ import annotations

# Relative POSIX path (no leading "/" or "./", no "..") -> file content.
# Insertion order is kept but carries no meaning; packagers sort.
PluginFiles = dict[str, bytes]


class UnsafeInput(ValueError):
    """An input refused before anything was extracted or written."""

    def __init__(self, reason: str, *, entry: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry = entry

    def __str__(self) -> str:
        return f"{self.entry}: {self.reason}" if self.entry else self.reason
