"""Python tracebacks of a smoke-tested plugin: found in its output, and read
back into frames that point at the plugin's own files.

The smoke test unpacks a package into a temporary folder (`…/smoke-XXXX/plugin`)
and runs it there, so a frame of the plugin's code reads
`File "/tmp/smoke-ab12/plugin/models/llm/llm.py", line 27, in _invoke`. The
report stores that folder (`SmokeReport.plugin_dir`); a frame under it maps to
the plugin's relative path (`models/llm/llm.py`). Frames of the SDK, the
standard library or any installed package are left as they are.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# The most of one traceback a report keeps.
MAX_TRACEBACK_CHARS = 8000
START = "Traceback (most recent call last):"
_FRAME = re.compile(
    r'^(?P<indent>\s*)File "(?P<path>[^"]+)", line (?P<line>\d{1,9})'
    r"(?:, in (?P<function>.+))?$"
)
# Our own temporary folder, for a report that predates `plugin_dir`.
_SMOKE_FOLDER = re.compile(r"/smoke-[^/]+/plugin/(?P<rest>.+)$")
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


@dataclass(frozen=True)
class Frame:
    """One `File "…", line N, in f` line of a traceback."""

    path: str  # as printed
    line: int
    function: str
    plugin_path: str | None  # the plugin's own file, relative; None for others


@dataclass(frozen=True)
class TracebackLine:
    """A line of a traceback, and its frame when it is one."""

    text: str
    frame: Frame | None = None


def last_traceback(output: str) -> str:
    """The last Python traceback in a process's output (with the exceptions
    chained to it), or "" when there is none."""
    end = output.rfind(START)
    if end < 0:
        return ""
    start = end
    # Walk back over "During handling …" / "The above exception …" chains.
    while True:
        before = output[:start].rstrip()
        if not before.endswith(_CHAINED):
            break
        previous = before.rfind(START)
        if previous < 0:
            break
        start = previous
    # An uncaught exception ends the process: its traceback is the end of
    # the output (an exception's message may span several lines).
    return _clip(output[start:].strip())


def _clip(text: str) -> str:
    """At most MAX_TRACEBACK_CHARS: the start (the first frames, often the
    plugin's) and the end (the exception), whole lines of each."""
    if len(text) <= MAX_TRACEBACK_CHARS:
        return text
    half = MAX_TRACEBACK_CHARS // 2
    head = text[:half].rsplit("\n", 1)[0]
    tail = text[-half:].split("\n", 1)[-1]
    return f"{head}\n…\n{tail}"


def error_traceback(error: dict[str, object] | None) -> str:
    """The traceback the SDK sends with a request's error (`args.traceback`)."""
    if not error:
        return ""
    args = error.get("args")
    found = args.get("traceback") if isinstance(args, dict) else None
    return _clip(found.strip()) if isinstance(found, str) else ""


def plugin_path(path: str, plugin_dir: str) -> str | None:
    """The plugin's relative path of a frame's file, or None when the frame is
    not the plugin's code (SDK, standard library, installed packages)."""
    if not path or path.startswith("<"):  # <frozen runpy>, <string>
        return None
    relative: str | None = None
    root = plugin_dir.rstrip("/")
    if root and path.startswith(root + "/"):
        relative = path[len(root) + 1 :]
    elif (found := _SMOKE_FOLDER.search(path)) is not None:
        relative = found.group("rest")
    elif not path.startswith(("/", "\\")) and ":" not in path:
        relative = path  # printed relative to the plugin's folder
    if relative is None:
        return None
    relative = posixpath.normpath(relative)
    parts = relative.split("/")
    if relative.startswith("../") or relative == ".." or "site-packages" in parts:
        return None
    return relative


def parse_traceback(text: str, plugin_dir: str) -> list[TracebackLine]:
    """The traceback's lines; frames carry the plugin's path when they are its code."""
    lines: list[TracebackLine] = []
    for line in text.splitlines():
        found = _FRAME.match(line)
        if found is None:
            lines.append(TracebackLine(line))
            continue
        path = found.group("path")
        frame = Frame(
            path=path,
            line=int(found.group("line")),
            function=found.group("function") or "",
            plugin_path=plugin_path(path, plugin_dir),
        )
        lines.append(TracebackLine(line, frame))
    return lines
