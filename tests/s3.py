"""A real S3-compatible server for the tests: moto in server mode on loopback.

`s3_server` (tests/conftest.py) starts one for the session on a free port;
`s3_bucket` gives each test a bucket of its own on it. Requests go over HTTP
through boto3, as they would to AWS or MinIO; moto does not check signatures
or expiry, so the tests assert what the URLs carry instead.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REGION = "us-east-1"
ACCESS_KEY = "studio-test-key"
SECRET_KEY = "studio-test-secret"


@dataclass(frozen=True)
class S3Bucket:
    name: str
    endpoint: str

    def env(self) -> dict[str, str]:
        """The environment of a process that stores its files in this bucket."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object's key (under `prefix`), sorted."""
        pages = self.client().get_paginator("list_objects_v2")
        return sorted(
            obj["Key"]
            for page in pages.paginate(Bucket=self.name, Prefix=prefix)
            for obj in page.get("Contents", [])
        )

    def read(self, key: str) -> bytes:
        body = self.client().get_object(Bucket=self.name, Key=key)["Body"]
        return bytes(body.read())

    def use(self, settings: Any, storage_dir: Path) -> None:
        """Make the bucket this process's default storage, as STORAGE_BACKEND=s3
        does (with the settings code itself); STORAGE_DIR names `storage_dir`,
        which nothing may write to."""
        from studio.settings import default_storage_settings

        settings.STORAGE_BACKEND = "s3"
        settings.STORAGE_DIR = settings.MEDIA_ROOT = storage_dir
        settings.STORAGES = {
            **settings.STORAGES,
            "default": default_storage_settings("s3", storage_dir),
        }


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Any
    body: bytes


def fetch(url: str) -> Fetched:
    """GET `url` as a client following a redirect would: no studio cookie or
    token goes along."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return Fetched(response.status, response.headers, response.read())


def presigned_query(url: str) -> dict[str, str]:
    """The query parameters of a presigned URL (one value each)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder` (none when it does not exist)."""
    return (
        sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    )
