"""`requirements.txt` from `pyproject.toml` + `uv.lock`, without the uv binary.

Equivalent to what the Go packager runs (format doc §6.3):
`uv export --frozen --format requirements.txt --no-group dev --no-emit-project
--no-hashes --no-header --no-annotate`.

The project's runtime dependencies (plus any non-dev group in
`[tool.uv] default-groups`) are followed through the lock, extras included.
Each package gets the marker under which it is reachable: the `or`, over every
path from the project, of the `and` of the edge markers on that path. Markers
are kept as a small sum of products over the variables uv knows
(`python_full_version`, the string variables, anything else as an opaque
condition), simplified by absorption and merging, with `python_full_version`
taken relative to the lock's `requires-python` (a condition that always holds
there disappears, one that never holds drops the path). Lines are
`name==version[ ; marker]`, sorted by name, one per package.

What is simplified compared with uv: uv keeps markers as decision diagrams
and can find simplifications this sum of products misses (for example
`a or (not a and b)` stays as written here); conjuncts are ordered like uv
(version bounds, then string variables by name) but some exotic shapes may be
ordered or grouped differently; non-registry sources are written as
`name @ url` / `./path` / `-e ./path` without checking every uv spelling.
All 13 corpus locks export byte-identical to uv 0.13.9.

Modules: `markers` (the marker algebra and uv's spelling of it),
`marker_parser` (PEP 508 text and `requires-python` into it), `export`
(following the lock from the project).
"""

from __future__ import annotations

from studio.pluginfmt.uvlock.errors import UvLockError
from studio.pluginfmt.uvlock.export import export_requirements, normalize_name
from studio.pluginfmt.uvlock.marker_parser import parse_marker, requires_python_set
from studio.pluginfmt.uvlock.markers import Marker, StringSet, VersionSet

__all__ = [
    "Marker",
    "StringSet",
    "UvLockError",
    "VersionSet",
    "export_requirements",
    "normalize_name",
    "parse_marker",
    "requires_python_set",
]
