"""The plugin as a set of files: the common currency of readers, verifier,
renderer and packager."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Relative POSIX path (no leading "/" or "./", no "..") -> file content.
# Insertion order is kept but carries no meaning; packagers sort.
PluginFiles = dict[str, bytes]


class ReadFiles(dict[str, bytes]):
    """PluginFiles as a reader found them, with what the bytes alone do not say.

    `links` maps each folder file that was read through a symbolic link to the
    file it resolved to (relative to the folder when inside it, else absolute);
    `directory_entries` lists a package's directory entries ("models/"), in
    archive order. The verifier reports both. Equality is the dict's (the same
    files are equal however they were read), and a new dict made from it (a
    copy, an edit, what the studio stores) holds plain files only.
    """

    links: dict[str, str]
    directory_entries: list[str]

    def __init__(
        self,
        files: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = (),
        *,
        links: Mapping[str, str] | None = None,
        directory_entries: Iterable[str] = (),
    ) -> None:
        super().__init__(files)
        self.links = dict(links or {})
        self.directory_entries = list(directory_entries)


class UnsafeInput(ValueError):
    """An input refused before anything was extracted or written."""

    def __init__(self, reason: str, *, entry: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry = entry

    def __str__(self) -> str:
        return f"{self.entry}: {self.reason}" if self.entry else self.reason
