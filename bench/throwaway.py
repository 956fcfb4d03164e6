"""A throwaway studio for the page benchmarks: a temporary var dir and SQLite
database, Django set up with DEBUG off (templates and cursors as in
production), fast password hashing, migrated. Removed when the block ends.

    with throwaway_studio("bench-provider-pages-"):
        ...  # import models, make rows, time django.test.Client requests
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def throwaway_studio(prefix: str) -> Iterator[Path]:
    """Set up Django on a fresh database in a temporary folder; yield the folder."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["STUDIO_VAR_DIR"] = str(work)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.DEBUG = False
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        call_command("migrate", verbosity=0)
        # One log line per request would drown the figures.
        logging.getLogger("studio.request").setLevel(logging.WARNING)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
