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


S3_ENV = {
    "STORAGE_BACKEND": "s3",
    "AWS_STORAGE_BUCKET_NAME": "studio-artifacts",
    "AWS_S3_ENDPOINT_URL": "https://s3.example.com",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
}

SHOW_STORAGE = (
    "from django.conf import settings; from django.core.files.storage import "
    "default_storage as s; o = settings.STORAGES['default']['OPTIONS']; "
    "print(s.__class__.__name__, s.bucket_name, s.endpoint_url, s.region_name, "
    "s.access_key, s.querystring_expire, s.file_overwrite, o.get('default_acl'))"
)


class TestStorageSettings:
    def test_filesystem_is_the_default(self) -> None:
        env = {"STORAGE_BACKEND": "", "STORAGE_DIR": "/srv/studio/storage"}
        result = manage(
            "shell",
            "--no-imports",
            "-c",
            "from django.core.files.storage import default_storage as s; "
            "print(s.__class__.__name__, s.location)",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["FileSystemStorage", "/srv/studio/storage"]

    def test_s3_stores_in_the_bucket_the_variables_name(self) -> None:
        result = manage(
            "shell",
            "--no-imports",
            "-c",
            SHOW_STORAGE,
            env={**S3_ENV, "S3_DOWNLOAD_EXPIRY_SECONDS": "30"},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "S3Storage",
            "studio-artifacts",
            "https://s3.example.com",
            "eu-west-1",
            "AKIDEXAMPLE",
            "30",
            "False",
            "None",
        ]

    def test_check_deploy_passes_with_s3(self) -> None:
        result = manage("check", "--deploy", env={**PRODUCTION_ENV, **S3_ENV})
        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout

    def test_an_unknown_backend_is_refused_at_start_up(self) -> None:
        result = manage("check", env={"STORAGE_BACKEND": "gcs"})
        assert result.returncode != 0
        assert "STORAGE_BACKEND must be one of filesystem, s3, not 'gcs'" in (
            result.stderr
        )

    def test_s3_without_a_bucket_is_refused_at_start_up(self) -> None:
        result = manage("check", env={**S3_ENV, "AWS_STORAGE_BUCKET_NAME": ""})
        assert result.returncode != 0
        assert "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME" in result.stderr

    def test_an_unknown_download_mode_is_refused_at_start_up(self) -> None:
        result = manage("check", env={**S3_ENV, "S3_DOWNLOADS": "proxy"})
        assert result.returncode != 0
        assert "S3_DOWNLOADS must be one of redirect, stream, not 'proxy'" in (
            result.stderr
        )

    def test_an_unknown_addressing_style_is_refused_at_start_up(self) -> None:
        result = manage("check", env={**S3_ENV, "AWS_S3_ADDRESSING_STYLE": "dns"})
        assert result.returncode != 0
        assert "AWS_S3_ADDRESSING_STYLE must be path or virtual, not 'dns'" in (
            result.stderr
        )
