"""PEP 508 marker text and `requires-python` specifiers into the marker algebra."""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from studio.pluginfmt.uvlock.errors import UvLockError
from studio.pluginfmt.uvlock.markers import (
    ALIASES,
    ALL_VERSIONS,
    STRING_VARS,
    Interval,
    Marker,
    StringSet,
    VersionSet,
    make_term,
    normalize,
)

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


def parse_marker(text: str, requires_python: VersionSet = ALL_VERSIONS) -> Marker:
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
            return ("var", ALIASES.get(v, v))
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
                return Marker([make_term({target: versions})])
        elif var in STRING_VARS and op in ("==", "!="):
            return Marker([make_term({var: StringSet(frozenset([value]), op == "!=")})])
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
            return VersionSet(normalize(table[op]))
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
        return VersionSet(normalize(simple[op]))
    return None


def requires_python_set(specifier: str | None) -> VersionSet:
    """`requires-python` (e.g. `>=3.12`) as a version set."""
    if not specifier:
        return ALL_VERSIONS
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier as exc:
        raise UvLockError(f"invalid requires-python {specifier!r}") from exc
    result = ALL_VERSIONS
    for s in spec:
        part = _version_set("python_full_version", s.operator, s.version)
        if part is None:
            continue  # ~= and === are rare here; treat them as no constraint
        result = result.intersect(part)
    return result
