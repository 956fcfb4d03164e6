"""File selection as `dify plugin package` does it (`.difyignore` / `.gitignore`).

The daemon's `FSPluginDecoder.Walk` reads only the root `.difyignore`, falls
back to the root `.gitignore` when there is none, and parses every trimmed,
non-empty, non-`#` line with go-git's `gitignore.ParsePattern`. A path is
skipped when any single pattern returns Exclude; excluded directories are
pruned. A `!pattern` returns Include, which that loop ignores, so negation
never re-includes anything (unlike git). Nothing else is excluded implicitly.

Matching follows go-git v5 `plumbing/format/gitignore/pattern.go`: patterns
are split on `/`, each segment is matched with Go's `filepath.Match` (`*` and
`?` never cross `/`, `[^...]` negates, `\\` escapes, a malformed pattern
matches nothing); a pattern without `/` matches any path component; a leading
`/` anchors it at the root; a trailing `/` restricts the final component to
directories; `**` as a whole segment spans any number of directories.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.globs import go_pattern

IGNORE_FILES = (".difyignore", ".gitignore")

# What Go's unicode.IsSpace (and so strings.TrimSpace) treats as white space.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True)
class Pattern:
    """One parsed go-git gitignore pattern (domain is always the root)."""

    text: str
    segments: tuple[str, ...]
    inclusion: bool
    dir_only: bool
    is_glob: bool

    def excludes(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        """Whether go-git's `Match` returns Exclude for this path."""
        if self.inclusion or not parts:
            return False
        if self.is_glob:
            return _glob_match(self, parts, is_dir)
        return _simple_name_match(self, parts, is_dir)


def parse_pattern(line: str) -> Pattern:
    """Parse one ignore line the way go-git's `ParsePattern` does."""
    text = line
    inclusion = line.startswith("!")
    if inclusion:
        line = line[1:]
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    dir_only = line.endswith("/")
    if dir_only:
        line = line[:-1]
    return Pattern(
        text=text,
        segments=tuple(line.split("/")),
        inclusion=inclusion,
        dir_only=dir_only,
        is_glob="/" in line,
    )


def parse_ignore_file(content: bytes | str) -> list[Pattern]:
    """Patterns of an ignore file: trimmed lines, skipping blanks and `#` comments."""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "surrogateescape")
    patterns = []
    # Go splits on "\n" and applies strings.TrimSpace (which also drops "\r").
    for raw in content.split("\n"):
        line = raw.strip(_GO_SPACE)
        if line and not line.startswith("#"):
            patterns.append(parse_pattern(line))
    return patterns


def ignore_patterns(files: PluginFiles) -> list[Pattern]:
    """Patterns in force: root `.difyignore`, else root `.gitignore`, never both."""
    for name in IGNORE_FILES:
        if name in files:
            return parse_ignore_file(files[name])
    return []


def is_excluded(patterns: list[Pattern], path: str, *, is_dir: bool = False) -> bool:
    """Whether any pattern excludes `path` itself (ancestors are not checked)."""
    parts = tuple(path.split("/"))
    return any(p.excludes(parts, is_dir) for p in patterns)


def select_files(files: PluginFiles) -> PluginFiles:
    """The files the Go packager would walk into, in the input's order."""
    patterns = ignore_patterns(files)
    if not patterns:
        return dict(files)
    dir_excluded: dict[tuple[str, ...], bool] = {}

    def dir_is_excluded(parts: tuple[str, ...]) -> bool:
        # WalkDir visits (and may prune) every ancestor directory first.
        if parts in dir_excluded:
            return dir_excluded[parts]
        result = (len(parts) > 1 and dir_is_excluded(parts[:-1])) or any(
            p.excludes(parts, True) for p in patterns
        )
        dir_excluded[parts] = result
        return result

    selected: PluginFiles = {}
    for path, content in files.items():
        parts = tuple(path.split("/"))
        if len(parts) > 1 and dir_is_excluded(parts[:-1]):
            continue
        if any(p.excludes(parts, False) for p in patterns):
            continue
        selected[path] = content
    return selected


def _simple_name_match(p: Pattern, parts: tuple[str, ...], is_dir: bool) -> bool:
    last = len(parts) - 1
    for i, name in enumerate(parts):
        if not _segment_match(p.segments[0], name):
            continue
        return not (p.dir_only and not is_dir and i == last)
    return False


def _glob_match(p: Pattern, parts: tuple[str, ...], is_dir: bool) -> bool:
    path = list(parts)
    matched = False
    can_traverse = False
    last = len(p.segments) - 1
    for i, segment in enumerate(p.segments):
        if segment == "":
            can_traverse = False
            continue
        if segment == "**":
            if i == last:
                break
            can_traverse = True
            continue
        if "**" in segment:
            return False
        if not path:
            return False
        if can_traverse:
            can_traverse = False
            while path:
                element = path.pop(0)
                if _segment_match(segment, element):
                    matched = True
                    break
                if not path:
                    matched = False
        else:
            if not _segment_match(segment, path[0]):
                return False
            matched = True
            path.pop(0)
    if matched and p.dir_only and not is_dir and not path:
        matched = False
    return matched


def _segment_match(pattern: str, name: str) -> bool:
    regex = go_pattern(pattern)
    return regex is not None and regex.fullmatch(name) is not None
