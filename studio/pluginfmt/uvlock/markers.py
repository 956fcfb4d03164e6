"""The marker algebra: PEP 508 markers as a simplified sum of products.

A marker is an `or` of terms, each term an `and` of one constraint per
variable: a `VersionSet` for `python_full_version` and
`implementation_version`, a `StringSet` for the string variables, anything
else an opaque condition. `Marker.to_string` spells it the way uv 0.13 does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.version import Version

_VERSION_VARS = ("implementation_version", "python_full_version")
STRING_VARS = (
    "implementation_name",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "sys_platform",
)
# Older spellings of the variables, read as their PEP 508 names.
ALIASES = {
    "python_implementation": "platform_python_implementation",
    "platform.python_implementation": "platform_python_implementation",
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.machine": "platform_machine",
    "platform.version": "platform_version",
}
_ORDER = {name: i for i, name in enumerate(_VERSION_VARS + STRING_VARS)}

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
        return VersionSet(normalize(out))

    def union(self, other: VersionSet) -> VersionSet:
        return VersionSet(normalize(list(self.intervals) + list(other.intervals)))

    def complement(self) -> VersionSet:
        out: list[Interval] = []
        lower: Bound = None
        for lo, hi in self.intervals:
            if lo is not None:
                out.append((lower, (lo[0], not lo[1])))
            if hi is None:
                return VersionSet(normalize(out))
            lower = (hi[0], not hi[1])
        out.append((lower, None))
        return VersionSet(normalize(out))

    def is_empty(self) -> bool:
        return not self.intervals

    def contains(self, other: VersionSet) -> bool:
        return other.intersect(self) == other


ALL_VERSIONS = VersionSet(((None, None),))


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
    return c in (ALL_VERSIONS, _ALL_STRINGS)


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


def normalize(intervals: list[Interval]) -> tuple[Interval, ...]:
    """The intervals sorted, empty ones dropped, touching ones merged."""
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

    def to_string(self, requires_python: VersionSet = ALL_VERSIONS) -> str:
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
    return make_term(merged)


def make_term(constraints: Mapping[str, Constraint]) -> Term:
    """A term of these constraints, sorted by variable, always-true ones dropped."""
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
                return make_term({k: c for k, c in t_map.items() if k != var})
            if {k: c for k, c in t_map.items() if k != var} == {
                k: c for k, c in u_map.items() if k != var
            }:
                return make_term({**t_map, var: union})
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
