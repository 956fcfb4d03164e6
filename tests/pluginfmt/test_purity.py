"""studio/pluginfmt is a library of the format: no Django, no SDK, anywhere in it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINFMT = Path(__file__).resolve().parents[2] / "studio" / "pluginfmt"
FORBIDDEN = ("django", "dify_plugin", "studio.catalog", "studio.core", "celery")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


class TestPluginfmtPurity:
    @pytest.mark.parametrize(
        "path", sorted(PLUGINFMT.rglob("*.py")), ids=lambda p: str(p.name)
    )
    def test_no_module_imports_django_or_the_sdk(self, path: Path) -> None:
        bad = [
            f"{path.relative_to(PLUGINFMT)}:{line} imports {module}"
            for line, module in imported_modules(path)
            if module.split(".")[0] in FORBIDDEN or module.startswith(FORBIDDEN)
        ]
        assert bad == []

    def test_importing_every_module_loads_no_django(self) -> None:
        modules = sorted(
            "studio.pluginfmt."
            + ".".join(p.relative_to(PLUGINFMT).with_suffix("").parts)
            for p in PLUGINFMT.rglob("*.py")
            if p.name != "__init__.py"
        )
        code = (
            "import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('django', 'dify_plugin', 'gevent', 'celery')]\n"
            "print(','.join(bad))\n"
        )
        # studio/__init__.py loads the Celery app; import pluginfmt standalone.
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, types; sys.modules['studio'] = "
                "types.ModuleType('studio'); sys.modules['studio'].__path__ = "
                f"[{str(PLUGINFMT.parent)!r}]\n" + code,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == ""
