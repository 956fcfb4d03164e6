"""The committed editor bundle: small enough, its licences shipped beside it,
and built from the committed lock file (bin/build-frontend rebuilds it)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import django_htmx

ROOT = Path(__file__).resolve().parent.parent
STATIC_JS = ROOT / "static" / "js"
BUNDLE = STATIC_JS / "editor.bundle.js"
LICENCES = STATIC_JS / "editor.bundle.LICENSES.txt"
LOCK = ROOT / "frontend" / "package-lock.json"
HTMX = Path(django_htmx.__file__).parent / "static" / "django_htmx"
CAP = 400 * 1024


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def bundled_packages() -> list[str]:
    banner = BUNDLE.read_text()[:4000].split("*/", 1)[0]
    listed = banner.split("Packages:", 1)[1].split()
    assert listed
    return listed


def test_the_pages_javascript_is_under_400_kib_gzipped() -> None:
    scripts = [*STATIC_JS.glob("*.js"), HTMX / "htmx-2.min.js", HTMX / "django-htmx.js"]
    assert BUNDLE in scripts
    total = sum(gzipped(path) for path in scripts)
    assert total < CAP, f"{total} bytes gzipped"


def test_the_licences_file_names_every_bundled_package() -> None:
    licences = LICENCES.read_text()
    headings = set(re.findall(r"^(\S+@\S+) \((\S+)\)$", licences, re.M))
    named = {name for name, _ in headings}
    assert set(bundled_packages()) <= named
    assert all(licence for _, licence in headings)
    assert "Copyright" in licences


def test_every_bundled_package_comes_from_the_lock_file() -> None:
    lock = json.loads(LOCK.read_text())
    locked = {
        f"{path.removeprefix('node_modules/')}@{entry['version']}"
        for path, entry in lock["packages"].items()
        if path and not entry.get("dev")
    }
    bundled = bundled_packages()
    assert set(bundled) <= locked
    names = {p.rsplit("@", 1)[0] for p in bundled}
    for wanted in (
        "@codemirror/view",
        "@codemirror/lang-python",
        "@codemirror/lang-yaml",
        "@codemirror/lang-markdown",
        "@codemirror/lang-json",
        "@codemirror/legacy-modes",
        "@codemirror/search",
    ):
        assert wanted in names


def test_node_modules_stays_out_of_the_repository() -> None:
    assert "/frontend/node_modules/" in (ROOT / ".gitignore").read_text().splitlines()
