"""Apps import only the apps below them (docs/architecture.md, "Layers").

Every module under studio/ is parsed, not imported: `import x`, `from x import
y` and relative imports all count, wherever they are (a function-local import
runs too). Imports under `if TYPE_CHECKING:` do not count: they serve type
hints and never run. Migrations are scanned like any module; the `dependencies`
tuples and "app.Model" strings they use to name other apps are not imports.
The project modules (studio/settings.py, celery.py, urls.py, wsgi.py, asgi.py)
belong to no app: they wire the apps together and are not checked.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIO = ROOT / "studio"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# Bottom to top: an app may import the apps before it in this list, never one
# after it. docs/architecture.md shows the same order.
LAYERS = (
    "pluginfmt",
    "lib",
    "audit",
    "notifications",
    "accounts",
    "catalog",
    "builds",
    "debugging",
    "sync",
    "reviews",
    "playground",
    "api",
    "core",
)


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # absolute dotted name


def module_name(path: Path) -> str:
    """`studio/builds/views.py` → `studio.builds.views` (a package's `__init__`
    is the package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    def __init__(self, package: str) -> None:
        self.package = package
        self.found: list[Import] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:  # an `else:` branch does run
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [Import(node.lineno, alias.name) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            anchor = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        if base.count(".") == 0:
            # `from studio import builds` / `from .. import builds`: the names
            # are the modules.
            self.found += [
                Import(node.lineno, f"{base}.{alias.name}") for alias in node.names
            ]
        else:
            self.found.append(Import(node.lineno, base))


def imports_of(path: Path, source: str) -> list[Import]:
    """The imports in `source` (the text of `path`) that run, absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    visitor = _Imports(package)
    visitor.visit(ast.parse(source, filename=str(path)))
    return visitor.found


def app_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "studio" and parts[1] in LAYERS:
        return parts[1]
    return None


def upward_imports(path: Path, source: str) -> list[str]:
    """`file:line` of each import in `source` of an app above the file's own."""
    importer = app_of(module_name(path))
    if importer is None:
        return []
    where = path.relative_to(ROOT)
    return [
        f"{where}:{found.line} imports {found.module} ({target} sits above {importer})"
        for found in imports_of(path, source)
        if (target := app_of(found.module)) is not None
        and LAYERS.index(target) > LAYERS.index(importer)
    ]


class TestLayers:
    def test_no_app_imports_an_app_above_it(self) -> None:
        found = [
            problem
            for path in sorted(STUDIO.rglob("*.py"))
            for problem in upward_imports(path, path.read_text())
        ]
        assert found == []

    def test_every_app_has_a_place_in_the_order(self) -> None:
        packages = {p.parent.name for p in STUDIO.glob("*/__init__.py")}
        assert packages == set(LAYERS)

    def test_the_architecture_page_shows_the_same_order(self) -> None:
        text = ARCHITECTURE.read_text()
        shown = re.search(r"^`pluginfmt`(?: < `\w+`)+", text, re.MULTILINE)
        assert shown is not None
        assert tuple(re.findall(r"`(\w+)`", shown.group(0))) == LAYERS


class TestTheCheckItself:
    """The scan above passes only because it finds nothing; these show it can."""

    def fake(self, app: str, source: str, name: str = "fake.py") -> list[str]:
        return upward_imports(STUDIO / app / "services" / name, source)

    def test_an_upward_import_is_reported_with_its_file_and_line(self) -> None:
        source = (
            "from __future__ import annotations\n"
            "\n"
            "from studio.lib.http import render_page\n"
            "from studio.builds.services import BuildInProgress\n"
        )
        assert self.fake("catalog", source) == [
            "studio/catalog/services/fake.py:4 imports studio.builds.services "
            "(builds sits above catalog)"
        ]

    @pytest.mark.parametrize(
        "source",
        [
            "import studio.reviews.models\n",
            "from ...reviews import models\n",
            "from ... import reviews\n",
            "from studio import reviews\n",
            "def later():\n    from studio.reviews.services import x\n",
            "if True:\n    from studio.reviews.models import Revision\n",
            "try:\n    import studio.reviews\nexcept ImportError:\n    pass\n",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\n"
            "else:\n    from studio.reviews.models import Revision\n",
        ],
        ids=[
            "import",
            "relative-module",
            "relative-package",
            "from-studio",
            "in-a-function",
            "in-an-if",
            "in-a-try",
            "type-checking-else",
        ],
    )
    def test_every_form_of_import_counts(self, source: str) -> None:
        found = self.fake("builds", source)
        assert len(found) == 1
        assert "studio.reviews" in found[0]
        assert "(reviews sits above builds)" in found[0]

    def test_type_checking_imports_do_not_count(self) -> None:
        source = (
            "from typing import TYPE_CHECKING\n"
            "import typing\n"
            "if TYPE_CHECKING:\n"
            "    from studio.reviews.models import Revision\n"
            "if typing.TYPE_CHECKING:\n"
            "    from studio.builds.models import Build\n"
        )
        assert self.fake("audit", source) == []

    def test_imports_downwards_and_within_the_app_pass(self) -> None:
        source = (
            "from studio.pluginfmt import verify\n"
            "from studio.catalog.models import Provider\n"
            "from studio.builds import selectors\n"
            "from ..models import Build\n"
            "from . import builds\n"
            "import django.db\n"
        )
        assert self.fake("builds", source) == []

    def test_a_relative_import_resolves_from_a_package_init(self) -> None:
        path = STUDIO / "lib" / "__init__.py"
        assert upward_imports(path, "from ..core import views\n") == [
            "studio/lib/__init__.py:1 imports studio.core (core sits above lib)"
        ]
