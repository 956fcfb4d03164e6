"""Stored files in a folder or an S3-compatible bucket: what differs between them.

Code reads and writes stored files only by name through Django's default
storage (`save`, `open`, `exists`, `delete`), never through a local path, so
the same code runs on both backends (settings.STORAGE_BACKEND). What differs is
here: how a download is answered, and how a stored file's place is told.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

log = logging.getLogger(__name__)

BINARY = "application/octet-stream"


def _s3(storage: Storage) -> Any:
    """`storage` when it is an S3 storage (django-storages'), else None."""
    from storages.backends.s3 import S3Storage

    return storage if isinstance(storage, S3Storage) else None


def download_response(name: str | None, *, filename: str) -> HttpResponseBase:
    """Answer a download of the stored file `name` as the attachment `filename`.

    On S3 (unless S3_DOWNLOADS=stream) a 302 to a presigned URL that expires
    after S3_DOWNLOAD_EXPIRY_SECONDS and makes the bucket send the same
    Content-Disposition; otherwise the file streamed by this process. The caller
    has checked access; it logs the download after this returns. Raises
    FileNotFoundError when there is no such file.
    """
    if not name:
        raise FileNotFoundError("no stored file")
    s3 = _s3(default_storage)
    if s3 is not None and settings.S3_DOWNLOADS == "redirect":
        if not s3.exists(name):
            raise FileNotFoundError(name)
        url = s3.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(
                    True, filename
                ),
                "ResponseContentType": BINARY,
            },
            expire=settings.S3_DOWNLOAD_EXPIRY_SECONDS,
        )
        response = HttpResponseRedirect(url)
        # Each download is checked and logged: never reuse a redirect.
        response["Cache-Control"] = "no-store"
        return response
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=BINARY,
    )


def stored_location(name: str) -> str:
    """Where the stored file `name` is, for people: a local path or s3://bucket/key."""
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        return storage.path(name)
    if (s3 := _s3(storage)) is not None:
        return f"s3://{s3.bucket_name}/{name}"
    return name


def stored_delete(names: list[str]) -> list[str]:
    """Delete stored files (one already gone is fine); return those that failed.

    Deleting is housekeeping after a commit: an unreachable bucket or folder is
    reported, never raised, so the change that asked for it stands.
    """
    failed = []
    for name in names:
        try:
            default_storage.delete(name)
        except Exception as exc:  # OSError from a folder, botocore's from S3
            log.warning("could not delete stored file %s: %s", name, exc)
            failed.append(name)
    return failed
