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
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


class UvLockError(ValueError):
    """A `pyproject.toml` / `uv.lock` pair that cannot be exported."""


# ---------------------------------------------------------------- markers

_VERSION_VARS = ("implementation_version", "python_full_version")
_STRING_VARS = (
    "implementation_name",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "sys_platform",
)
_ALIASES = {
    "python_implementation": "platform_python_implementation",
    "platform.python_implementation": "platform_python_implementation",
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.machine": "platform_machine",
    "platform.version": "platform_version",
}
_ORDER = {name: i for i, name in enumerate(_VERSION_VARS + _STRING_VARS)}

# A bound: (version, inclusive); None is unbounded.
Bound = tuple[Version, bool] | None
Interval = tuple[Bound, Bound]


@dataclass(frozen=True)
class VersionSet:
    """A union of disjoint, sorted version intervals."""

    intervals: tuple[Interval, ...]

    def intersect(self, other: VersionSet) -> VersionSet:
        out = []
        for a_lo, a_hi in self.intervals:
            for b_lo, b_hi in other.intervals:
                lo = _max_lower(a_lo, b_lo)
                hi = _min_upper(a_hi, b_hi)
                if not _is_empty(lo, hi):
                    out.append((lo, hi))
        return VersionSet(_normalize(out))

    def union(self, other: VersionSet) -> VersionSet:
        return VersionSet(_normalize(list(self.intervals) + list(other.intervals)))

    def complement(self) -> VersionSet:
        out: list[Interval] = []
        lower: Bound = None
        for lo, hi in self.intervals:
            if lo is not None:
                out.append((lower, (lo[0], not lo[1])))
            if hi is None:
                return VersionSet(_normalize(out))
            lower = (hi[0], not hi[1])
        out.append((lower, None))
        return VersionSet(_normalize(out))

    def is_empty(self) -> bool:
        return not self.intervals

    def contains(self, other: VersionSet) -> bool:
        return other.intersect(self) == other


_ALL_VERSIONS = VersionSet(((None, None),))


@dataclass(frozen=True)
class StringSet:
    """Values allowed for a string variable: `values` or everything but them."""

    values: frozenset[str]
    negated: bool

    def intersect(self, other: StringSet) -> StringSet:
        if not self.negated and not other.negated:
            return StringSet(self.values & other.values, False)
        if self.negated and other.negated:
            return StringSet(self.values | other.values, True)
        pos, neg = (self, other) if not self.negated else (other, self)
        return StringSet(pos.values - neg.values, False)

    def union(self, other: StringSet) -> StringSet:
        if not self.negated and not other.negated:
            return StringSet(self.values | other.values, False)
        if self.negated and other.negated:
            return StringSet(self.values & other.values, True)
        pos, neg = (self, other) if not self.negated else (other, self)
        return StringSet(neg.values - pos.values, True)

    def is_empty(self) -> bool:
        return not self.negated and not self.values

    def contains(self, other: StringSet) -> bool:
        return other.intersect(self) == other


_ALL_STRINGS = StringSet(frozenset(), True)

Constraint = VersionSet | StringSet
Term = tuple[tuple[str, Constraint], ...]  # sorted by variable


def _is_universe(c: Constraint) -> bool:
    return c in (_ALL_VERSIONS, _ALL_STRINGS)


# A variable is compared with versions or with strings, never both: the
# constraints a term holds for one variable are always of the same kind.


def _intersect(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, VersionSet) and isinstance(b, VersionSet):
        return a.intersect(b)
    if isinstance(a, StringSet) and isinstance(b, StringSet):
        return a.intersect(b)
    raise TypeError(f"constraints of two kinds: {a!r}, {b!r}")


def _union(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, VersionSet) and isinstance(b, VersionSet):
        return a.union(b)
    if isinstance(a, StringSet) and isinstance(b, StringSet):
        return a.union(b)
    raise TypeError(f"constraints of two kinds: {a!r}, {b!r}")


def _contains(a: Constraint, b: Constraint) -> bool:
    if isinstance(a, VersionSet) and isinstance(b, VersionSet):
        return a.contains(b)
    if isinstance(a, StringSet) and isinstance(b, StringSet):
        return a.contains(b)
    raise TypeError(f"constraints of two kinds: {a!r}, {b!r}")


def _var_key(var: str) -> tuple[int, str]:
    return (_ORDER.get(var, len(_ORDER)), var)


def _lower_key(b: Bound) -> tuple[int, Version | int, int]:
    if b is None:
        return (0, 0, 0)
    return (1, b[0], 0 if b[1] else 1)


def _upper_key(b: Bound) -> tuple[int, Version | int, int]:
    if b is None:
        return (1, 0, 0)
    return (0, b[0], 1 if b[1] else 0)


def _max_lower(a: Bound, b: Bound) -> Bound:
    return a if _lower_key(a) >= _lower_key(b) else b


def _min_upper(a: Bound, b: Bound) -> Bound:
    return a if _upper_key(a) <= _upper_key(b) else b


def _is_empty(lo: Bound, hi: Bound) -> bool:
    if lo is None or hi is None:
        return False
    if lo[0] != hi[0]:
        return lo[0] > hi[0]
    return not (lo[1] and hi[1])


def _touches(hi: Bound, lo: Bound) -> bool:
    """Whether an interval ending at `hi` and one starting at `lo` overlap or meet."""
    if hi is None or lo is None:
        return True
    if hi[0] != lo[0]:
        return hi[0] > lo[0]
    return hi[1] or lo[1]


def _normalize(intervals: list[Interval]) -> tuple[Interval, ...]:
    items = sorted(
        (i for i in intervals if not _is_empty(*i)), key=lambda i: _lower_key(i[0])
    )
    out: list[Interval] = []
    for lo, hi in items:
        if out and _touches(out[-1][1], lo):
            prev_lo, prev_hi = out[-1]
            out[-1] = (prev_lo, hi if _upper_key(hi) > _upper_key(prev_hi) else prev_hi)
        else:
            out.append((lo, hi))
    return tuple(out)


class Marker:
    """A marker as a simplified sum of products, relative to `requires-python`."""

    __slots__ = ("terms",)

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: frozenset[Term] = _simplify(terms)

    @classmethod
    def true(cls) -> Marker:
        return cls([()])

    @classmethod
    def false(cls) -> Marker:
        return cls([])

    def is_true(self) -> bool:
        return () in self.terms

    def is_false(self) -> bool:
        return not self.terms

    def and_(self, other: Marker) -> Marker:
        return Marker(
            t
            for a in self.terms
            for b in other.terms
            if (t := _and_terms(a, b)) is not None
        )

    def or_(self, other: Marker) -> Marker:
        return Marker(self.terms | other.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Marker) and self.terms == other.terms

    def __hash__(self) -> int:
        return hash(self.terms)

    def to_string(self, requires_python: VersionSet = _ALL_VERSIONS) -> str:
        """The marker in uv's spelling (empty when always true)."""
        if self.is_true():
            return ""
        clauses = sorted(
            (c for term in self.terms for c in _term_clauses(term, requires_python)),
            key=_clause_key,
        )
        texts = []
        for clause in clauses:
            text = " and ".join(part.text for part in clause)
            # uv brackets a multi-part clause of a disjunction, except (as
            # uv 0.13 prints it) one that already holds a bracketed group.
            bracket = len(clauses) > 1 and len(clause) > 1
            if bracket and not any(part.group for part in clause):
                text = f"({text})"
            texts.append(text)
        return " or ".join(texts)

    def __repr__(self) -> str:
        return f"Marker({self.to_string()!r})"


def _and_terms(a: Term, b: Term) -> Term | None:
    merged = dict(a)
    for var, c in b:
        if var in merged:
            c = _intersect(merged[var], c)
            if c.is_empty():
                return None
        merged[var] = c
    return _make_term(merged)


def _make_term(constraints: Mapping[str, Constraint]) -> Term:
    return tuple(
        sorted(
            ((v, c) for v, c in constraints.items() if not _is_universe(c)),
            key=lambda item: _var_key(item[0]),
        )
    )


def _subsumes(big: Term, small: Term) -> bool:
    """Whether every environment satisfying `small` satisfies `big`."""
    small_map = dict(small)
    for var, c in big:
        if var not in small_map or not _contains(c, small_map[var]):
            return False
    return True


def _simplify(terms: Iterable[Term]) -> frozenset[Term]:
    current = set(terms)
    changed = True
    while changed:
        changed = False
        for t in list(current):
            if any(u != t and _subsumes(u, t) for u in current):
                current.discard(t)
                changed = True
        # (X and v in A) or (Y and v in B), with Y at most as strict as X on
        # every other variable, equals (X and v in A|B) or (Y and v in B);
        # used when A|B is everything, as in `a != 'x' or (a == 'x' and b)`.
        for t in sorted(current, key=repr):
            widened = _widen(t, current)
            if widened is not None:
                current.discard(t)
                current.add(widened)
                changed = True
                break
    return frozenset(current)


def _widen(t: Term, terms: set[Term]) -> Term | None:
    t_map = dict(t)
    for u in sorted(terms, key=repr):
        if u == t:
            continue
        u_map = dict(u)
        for var in sorted(t_map.keys() & u_map.keys()):
            if any(
                o != var and (o not in t_map or not _contains(c, t_map[o]))
                for o, c in u_map.items()
            ):
                continue
            # Only when that drops the variable, or merges two terms that
            # differ in it alone: widening it partly is valid but reads worse
            # than what uv prints.
            union = _union(t_map[var], u_map[var])
            if _is_universe(union):
                return _make_term({k: c for k, c in t_map.items() if k != var})
            if {k: c for k, c in t_map.items() if k != var} == {
                k: c for k, c in u_map.items() if k != var
            }:
                return _make_term({**t_map, var: union})
    return None


@dataclass(frozen=True, order=True)
class _Part:
    """One printed conjunct: a comparison, or a bracketed `or` of comparisons."""

    key: tuple[Any, ...]
    text: str
    group: bool = False


# The order of clauses in a disjunction, as observed in uv 0.13's output: by
# these variables in turn, a clause that leaves one free before one that
# constrains it, then by the constraining value.
_CLAUSE_ORDER = (
    "sys_platform",
    "platform_system",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_version",
    "implementation_name",
    "python_full_version",
    "implementation_version",
)


def _clause_key(clause: tuple[_Part, ...]) -> tuple[Any, ...]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for part in clause:
        if part.group:
            found.setdefault(part.key[1][1], []).append((9,))
        else:
            found.setdefault(part.key[0][1], []).append(part.key[1:])
    key: list[Any] = [(1, min(found[v])) if v in found else (0,) for v in _CLAUSE_ORDER]
    key.append(tuple(part.text for part in clause))
    return tuple(key)


def _term_clauses(term: Term, requires_python: VersionSet) -> list[tuple[_Part, ...]]:
    """A term as uv writes it, as one or more `and` clauses."""
    parts: list[_Part] = []
    for var, c in term:
        vkey = _var_key(var)
        if var not in _ORDER:  # an opaque condition, always positive
            text, _, subject = var.partition("\0")
            parts.append(_Part((_var_key(subject), 3, text), text))
        elif isinstance(c, VersionSet):
            parts.extend(_version_parts(var, c, requires_python))
        elif c.negated:
            parts.extend(
                _Part((vkey, 1, v), f"{var} != '{v}'") for v in sorted(c.values)
            )
        elif len(c.values) == 1:
            (v,) = c.values
            parts.append(_Part((vkey, 0, v), f"{var} == '{v}'"))
        else:
            alternatives = [f"{var} == '{v}'" for v in sorted(c.values)]
            if len(term) == 1:  # a lone group joins the top-level `or`
                return [
                    (_Part((vkey, 0, v), text),)
                    for v, text in zip(sorted(c.values), alternatives, strict=True)
                ]
            parts.append(
                _Part(
                    ((99, ""), vkey), "(" + " or ".join(alternatives) + ")", group=True
                )
            )
    simple = sorted(p for p in parts if not p.group)
    groups = sorted(p for p in parts if p.group)
    return [tuple(simple + groups)]


def _version_parts(var: str, c: VersionSet, requires_python: VersionSet) -> list[_Part]:
    vkey = _var_key(var)
    rp_lo, rp_hi = (
        requires_python.intervals[0] if len(requires_python.intervals) == 1 else (0, 0)
    )
    if len(c.intervals) == 1:
        (lo, hi), parts = c.intervals[0], []
        if lo is not None and hi is not None and lo[1] and hi[1] and lo[0] == hi[0]:
            return [_Part((vkey, 0, lo[0]), f"{var} == '{lo[0]}'")]
        if lo is not None and lo != rp_lo:
            series = _minor_series(lo, hi)
            if series is not None:
                return [_Part((vkey, 0, lo[0]), f"{var} == '{series}.*'")]
            op = ">=" if lo[1] else ">"
            parts.append(_Part((vkey, 0, lo[0]), f"{var} {op} '{lo[0]}'"))
        if hi is not None and hi != rp_hi:
            op = "<=" if hi[1] else "<"
            parts.append(_Part((vkey, 1, hi[0]), f"{var} {op} '{hi[0]}'"))
        return parts
    hole = c.complement().intersect(requires_python)
    if len(hole.intervals) == 1:
        lo, hi = hole.intervals[0]
        if lo is not None and hi is not None and lo[1] and hi[1] and lo[0] == hi[0]:
            return [_Part((vkey, 2, lo[0]), f"{var} != '{lo[0]}'")]
        series = _minor_series(lo, hi)
        if series is not None and lo is not None:
            return [_Part((vkey, 2, lo[0]), f"{var} != '{series}.*'")]
    alternatives = [
        " and ".join(
            p.text for p in _version_parts(var, VersionSet((i,)), requires_python)
        )
        for i in c.intervals
    ]
    return [_Part(((99, ""), vkey), "(" + " or ".join(alternatives) + ")", group=True)]


def _minor_series(lo: Bound, hi: Bound) -> str | None:
    """`X.Y` when [lo, hi) is exactly the `X.Y.*` series."""
    if lo is None or hi is None or not lo[1] or hi[1]:
        return None
    release = lo[0].release
    if len(release) != 2 or lo[0] != Version(f"{release[0]}.{release[1]}"):
        return None
    if hi[0] != Version(f"{release[0]}.{release[1] + 1}"):
        return None
    return f"{release[0]}.{release[1]}"


# ---------------------------------------------------------------- marker parser

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b) |
        (?P<bool>and\b|or\b) |
        (?P<str>'[^']*'|"[^"]*") |
        (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


def parse_marker(text: str, requires_python: VersionSet = _ALL_VERSIONS) -> Marker:
    """Parse a PEP 508 marker into a `Marker` relative to `requires_python`."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UvLockError(f"cannot parse marker {text!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        tokens.append((kind, re.sub(r"\s+", " ", value) if kind == "op" else value))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    parser = _MarkerParser(tokens, text, requires_python)
    result = parser.expr()
    if parser.i != len(tokens):
        raise UvLockError(f"cannot parse marker {text!r}")
    return result


class _MarkerParser:
    def __init__(
        self, tokens: list[tuple[str, str]], text: str, requires_python: VersionSet
    ) -> None:
        self.tokens = tokens
        self.text = text
        self.rp = requires_python
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("", "")

    def take(self, kind: str) -> str:
        k, v = self.peek()
        if k != kind:
            raise UvLockError(f"cannot parse marker {self.text!r}")
        self.i += 1
        return v

    def expr(self) -> Marker:
        result = self.conjunction()
        while self.peek() == ("bool", "or"):
            self.i += 1
            result = result.or_(self.conjunction())
        return result

    def conjunction(self) -> Marker:
        result = self.atom()
        while self.peek() == ("bool", "and"):
            self.i += 1
            result = result.and_(self.atom())
        return result

    def atom(self) -> Marker:
        if self.peek()[0] == "lpar":
            self.i += 1
            result = self.expr()
            self.take("rpar")
            return result
        left = self.value()
        op = self.take("op")
        right = self.value()
        return _comparison(left, op, right, self.rp)

    def value(self) -> tuple[str, str]:
        kind, v = self.peek()
        if kind == "str":
            self.i += 1
            return ("str", v[1:-1])
        if kind == "name":
            self.i += 1
            return ("var", _ALIASES.get(v, v))
        raise UvLockError(f"cannot parse marker {self.text!r}")


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def _comparison(
    left: tuple[str, str], op: str, right: tuple[str, str], rp: VersionSet
) -> Marker:
    if left[0] == "str" and right[0] == "var" and op in _FLIP:
        left, right, op = right, left, _FLIP[op]
    if left[0] == "var" and right[0] == "str":
        var, value = left[1], right[1]
        if var in ("python_version", "python_full_version", "implementation_version"):
            versions = _version_set(var, op, value)
            if versions is not None:
                target = (
                    "implementation_version"
                    if var == "implementation_version"
                    else "python_full_version"
                )
                if target == "python_full_version":
                    versions = versions.intersect(rp)
                    if versions.is_empty():
                        return Marker.false()
                    if versions == rp:
                        return Marker.true()
                return Marker([_make_term({target: versions})])
        elif var in _STRING_VARS and op in ("==", "!="):
            return Marker(
                [_make_term({var: StringSet(frozenset([value]), op == "!=")})]
            )
    # Anything else (extras, `in`, string ordering) is an opaque condition.
    rendered = f"{_render(left)} {op} {_render(right)}"
    subject = left[1] if left[0] == "var" else right[1]
    return Marker([((f"{rendered}\0{subject}", StringSet(frozenset(["1"]), False)),)])


def _render(value: tuple[str, str]) -> str:
    return f"'{value[1]}'" if value[0] == "str" else value[1]


def _version_set(var: str, op: str, value: str) -> VersionSet | None:
    star = value.endswith(".*")
    try:
        version = Version(value[:-2] if star else value)
    except InvalidVersion:
        return None
    if var == "python_version" and not star:
        # python_version is "X.Y": compare on the minor series.
        release = version.release + (0,) * (2 - len(version.release))
        nxt = Version(f"{release[0]}.{release[1] + 1}")
        base = Version(f"{release[0]}.{release[1]}")
        table: dict[str, list[Interval]] = {
            "==": [((base, True), (nxt, False))],
            "!=": [(None, (base, False)), ((nxt, True), None)],
            "<": [(None, (base, False))],
            "<=": [(None, (nxt, False))],
            ">": [((nxt, True), None)],
            ">=": [((base, True), None)],
        }
        if op in table:
            return VersionSet(_normalize(table[op]))
    if star:
        if op not in ("==", "!="):
            return None
        release = version.release
        upper = Version(".".join(map(str, (*release[:-1], release[-1] + 1))))
        inside = VersionSet((((version, True), (upper, False)),))
        return inside if op == "==" else inside.complement()
    simple: dict[str, list[Interval]] = {
        "==": [((version, True), (version, True))],
        "!=": [(None, (version, False)), ((version, False), None)],
        "<": [(None, (version, False))],
        "<=": [(None, (version, True))],
        ">": [((version, False), None)],
        ">=": [((version, True), None)],
    }
    if op in simple:
        return VersionSet(_normalize(simple[op]))
    return None


def requires_python_set(specifier: str | None) -> VersionSet:
    """`requires-python` (e.g. `>=3.12`) as a version set."""
    if not specifier:
        return _ALL_VERSIONS
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier as exc:
        raise UvLockError(f"invalid requires-python {specifier!r}") from exc
    result = _ALL_VERSIONS
    for s in spec:
        part = _version_set("python_full_version", s.operator, s.version)
        if part is None:
            continue  # ~= and === are rare here; treat them as no constraint
        result = result.intersect(part)
    return result


# ---------------------------------------------------------------- export


def normalize_name(name: str) -> str:
    """PEP 503 normalized package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class _Package:
    name: str
    version: str | None
    source: Mapping[str, Any]
    dependencies: list[Mapping[str, Any]]
    optional: Mapping[str, list[Mapping[str, Any]]]
    groups: Mapping[str, list[Mapping[str, Any]]]


def export_requirements(pyproject: bytes | str, lock: bytes | str) -> str:
    """The text `uv export --frozen --no-group dev --no-emit-project ...` prints."""
    project = _load_toml(pyproject, "pyproject.toml")
    data = _load_lock(lock)
    rp = requires_python_set(data.get("requires-python"))
    packages = [_package(p) for p in data.get("package", [])]
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.name, []).append(i)

    root = _find_root(project, packages, by_name)
    root_pkg = packages[root]
    groups = _default_groups(project, root_pkg) - {"dev"}

    # Node: (package index, extra or None); value: reachability marker.
    reach: dict[tuple[int, str | None], Marker] = {}
    queue: list[tuple[int, str | None]] = []

    def visit(edge: Mapping[str, Any], parent: Marker) -> None:
        target = _resolve(edge, packages, by_name)
        marker = parent
        if edge.get("marker"):
            marker = marker.and_(parse_marker(edge["marker"], rp))
        if marker.is_false():
            return
        for extra in [None, *edge.get("extra", [])]:
            node = (target, extra)
            old = reach.get(node)
            new = marker if old is None else old.or_(marker)
            if old is None or new != old:
                reach[node] = new
                queue.append(node)

    start = Marker.true()
    for edge in root_pkg.dependencies:
        visit(edge, start)
    for group in sorted(groups):
        for edge in root_pkg.groups.get(group, []):
            visit(edge, start)
    while queue:
        node = queue.pop()
        index, extra = node
        pkg = packages[index]
        edges = pkg.dependencies if extra is None else pkg.optional.get(extra, [])
        for edge in edges:
            visit(edge, reach[node])

    lines = []
    for (index, extra), marker in reach.items():
        pkg = packages[index]
        if extra is not None or index == root or _is_virtual(pkg):
            continue
        requirement = _requirement(pkg)
        if requirement is None:
            continue
        text = marker.to_string(rp)
        line = requirement + (f" ; {text}" if text else "")
        lines.append((pkg.name, _version_key(pkg.version), line))
    lines.sort()
    return "".join(line + "\n" for _, _, line in lines)


def _version_key(version: str | None) -> tuple[int, Version | str]:
    try:
        return (0, Version(version or ""))
    except InvalidVersion:
        return (1, version or "")


def _load_lock(raw: bytes | str) -> dict[str, Any]:
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    # Most of a uv.lock is `sdist` / `wheels` URLs and hashes, which the export
    # does not use and which dominate TOML parsing time; skip the lines uv
    # writes them on, and fall back to a full parse if the result is not TOML.
    try:
        return tomllib.loads(_without_artifacts(text))
    except tomllib.TOMLDecodeError:
        return _load_toml(text, "uv.lock")


def _without_artifacts(text: str) -> str:
    kept: list[str] = []
    in_wheels = False
    for line in text.split("\n"):
        if in_wheels:
            in_wheels = line != "]"
        elif line.startswith("sdist = {") and line.endswith("}"):
            pass
        elif line.startswith("wheels = ["):
            in_wheels = not line.endswith("]")
        else:
            kept.append(line)
    return "\n".join(kept)


def _load_toml(raw: bytes | str, what: str) -> dict[str, Any]:
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UvLockError(f"{what} is not valid TOML: {exc}") from exc


def _package(raw: Mapping[str, Any]) -> _Package:
    try:
        return _Package(
            name=normalize_name(str(raw["name"])),
            version=str(raw["version"]) if "version" in raw else None,
            source=raw.get("source", {}),
            dependencies=list(raw.get("dependencies", [])),
            optional={
                k: list(v) for k, v in raw.get("optional-dependencies", {}).items()
            },
            groups={k: list(v) for k, v in raw.get("dev-dependencies", {}).items()},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UvLockError(f"malformed [[package]] in uv.lock: {exc}") from exc


def _find_root(
    project: Mapping[str, Any], packages: list[_Package], by_name: dict[str, list[int]]
) -> int:
    name = project.get("project", {}).get("name")
    if isinstance(name, str):
        for i in by_name.get(normalize_name(name), []):
            if _is_local(packages[i]):
                return i
    local = [
        i
        for i, p in enumerate(packages)
        if p.source in ({"virtual": "."}, {"editable": "."})
    ]
    if len(local) == 1:
        return local[0]
    raise UvLockError("the project itself is not in uv.lock")


def _default_groups(project: Mapping[str, Any], root: _Package) -> set[str]:
    setting = project.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])
    if setting == "all":
        return set(root.groups)
    return (
        {normalize_name(g) for g in setting} if isinstance(setting, list) else {"dev"}
    )


def _resolve(
    edge: Mapping[str, Any], packages: list[_Package], by_name: dict[str, list[int]]
) -> int:
    name = normalize_name(str(edge.get("name", "")))
    candidates = by_name.get(name, [])
    if "version" in edge:
        candidates = [
            i for i in candidates if packages[i].version == str(edge["version"])
        ]
    if "source" in edge:
        candidates = [i for i in candidates if packages[i].source == edge["source"]]
    if len(candidates) != 1:
        raise UvLockError(f"uv.lock does not pin exactly one {name!r}")
    return candidates[0]


def _is_local(pkg: _Package) -> bool:
    return any(k in pkg.source for k in ("virtual", "editable", "directory", "path"))


def _is_virtual(pkg: _Package) -> bool:
    return "virtual" in pkg.source


def _requirement(pkg: _Package) -> str | None:
    source = pkg.source
    if "registry" in source:
        return f"{pkg.name}=={pkg.version}"
    if "git" in source:
        url, _, commit = str(source["git"]).partition("#")
        url = url.split("?", 1)[0]
        return (
            f"{pkg.name} @ git+{url}@{commit}" if commit else f"{pkg.name} @ git+{url}"
        )
    if "url" in source:
        return f"{pkg.name} @ {source['url']}"
    if "editable" in source:
        return f"-e {_relative(source['editable'])}"
    for key in ("directory", "path"):
        if key in source:
            return _relative(source[key])
    return f"{pkg.name}=={pkg.version}" if pkg.version else None


def _relative(path: Any) -> str:
    text = str(path)
    return text if text.startswith(("/", ".")) else f"./{text}"
