from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Hq9Lw2Zr5Tn8Vb4Mc6Pd1Fs0Gj3Yk" * 2,
    "ALLOWED_HOSTS": "studio.example.com",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestProductionSettings:
    def test_check_deploy_reports_no_issue(self) -> None:
        result = manage("check", "--deploy", env=PRODUCTION_ENV)
        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout
        assert "WARNING" not in result.stderr + result.stdout

    def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(
        self,
    ) -> None:
        result = manage("check", env={"DEBUG": "0", "ALLOWED_HOSTS": "x"})
        assert result.returncode != 0
        assert "SECRET_KEY must be set when DEBUG is off" in result.stderr

    def test_it_explains_a_malformed_boolean(self) -> None:
        result = manage("check", env={"DEBUG": "maybe"})
        assert result.returncode != 0
        assert "DEBUG must be a boolean" in result.stderr
