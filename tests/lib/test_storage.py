"""Stored files in a folder or a bucket (moto's S3 server): downloads, deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse

from studio.lib.storage import download_response, stored_delete, stored_location
from tests.s3 import S3Bucket, fetch, files_under, presigned_query

NAME = "gateway-0.0.1-b7-signed.difypkg"
DISPOSITION = f'attachment; filename="{NAME}"'


@pytest.fixture
def folder(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def store(data: bytes, name: str = "builds/1/2/7/artifact.difypkg") -> str:
    return default_storage.save(name, ContentFile(data))


class TestDownloadsFromABucket:
    def test_a_download_is_a_redirect_to_a_presigned_url_of_the_object(
        self, s3_bucket: S3Bucket, settings: Any
    ) -> None:
        key = store(b"package bytes")
        response = download_response(key, filename=NAME)
        assert response.status_code == 302
        url = response["Location"]
        assert url.startswith(f"{s3_bucket.endpoint}/{s3_bucket.name}/{key}?")
        query = presigned_query(url)
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert query["X-Amz-Expires"] == "60"
        assert query["X-Amz-Signature"]
        assert query["response-content-disposition"] == DISPOSITION
        assert response["Cache-Control"] == "no-store"

        fetched = fetch(url)
        assert fetched.body == b"package bytes"
        assert fetched.headers["Content-Disposition"] == DISPOSITION
        assert fetched.headers["Content-Type"] == "application/octet-stream"
        assert files_under(settings.STORAGE_DIR) == []

    def test_the_url_expires_after_the_setting(
        self, s3_bucket: S3Bucket, settings: Any
    ) -> None:
        settings.S3_DOWNLOAD_EXPIRY_SECONDS = 15
        response = download_response(store(b"x"), filename=NAME)
        assert presigned_query(response["Location"])["X-Amz-Expires"] == "15"

    def test_a_name_with_spaces_and_accents_keeps_its_disposition(
        self, s3_bucket: S3Bucket
    ) -> None:
        filename = "café plugin-1.0.0-b3-unsigned.difypkg"
        response = download_response(store(b"x"), filename=filename)
        fetched = fetch(response["Location"])
        assert fetched.headers["Content-Disposition"] == (
            "attachment; filename*=utf-8''caf%C3%A9%20plugin-1.0.0-b3-unsigned.difypkg"
        )

    def test_an_object_gone_from_the_bucket_is_not_found(
        self, s3_bucket: S3Bucket
    ) -> None:
        key = store(b"x")
        s3_bucket.client().delete_object(Bucket=s3_bucket.name, Key=key)
        with pytest.raises(FileNotFoundError):
            download_response(key, filename=NAME)

    def test_no_name_is_not_found(self, s3_bucket: S3Bucket) -> None:
        with pytest.raises(FileNotFoundError):
            download_response("", filename=NAME)

    def test_with_s3_downloads_stream_the_studio_sends_the_bytes(
        self, s3_bucket: S3Bucket, settings: Any
    ) -> None:
        settings.S3_DOWNLOADS = "stream"
        response = download_response(store(b"streamed bytes"), filename=NAME)
        assert isinstance(response, FileResponse)
        assert response.status_code == 200
        assert response["Content-Disposition"] == DISPOSITION
        assert int(response["Content-Length"]) == len(b"streamed bytes")
        assert b"".join(response.streaming_content) == b"streamed bytes"
        response.file_to_stream.close()

    def test_streaming_an_object_gone_from_the_bucket_is_not_found(
        self, s3_bucket: S3Bucket, settings: Any
    ) -> None:
        settings.S3_DOWNLOADS = "stream"
        with pytest.raises(FileNotFoundError):
            download_response("builds/none.difypkg", filename=NAME)


class TestDownloadsFromAFolder:
    def test_a_download_streams_the_file(self, folder: Path) -> None:
        key = store(b"folder bytes")
        response = download_response(key, filename=NAME)
        assert isinstance(response, FileResponse)
        assert response["Content-Disposition"] == DISPOSITION
        assert b"".join(response.streaming_content) == b"folder bytes"
        response.file_to_stream.close()

    def test_a_missing_file_is_not_found(self, folder: Path) -> None:
        with pytest.raises(FileNotFoundError):
            download_response("builds/none.difypkg", filename=NAME)


class TestStoredLocation:
    def test_a_bucket_names_the_object(self, s3_bucket: S3Bucket) -> None:
        key = store(b"x")
        assert stored_location(key) == f"s3://{s3_bucket.name}/{key}"

    def test_a_folder_gives_the_local_path(self, folder: Path) -> None:
        key = store(b"x")
        assert stored_location(key) == str(folder / key)
        assert Path(stored_location(key)).read_bytes() == b"x"


class TestStoredDelete:
    def test_it_deletes_objects_and_takes_a_missing_one_calmly(
        self, s3_bucket: S3Bucket
    ) -> None:
        kept, gone = store(b"kept", "a/kept.bin"), store(b"gone", "a/gone.bin")
        assert stored_delete([gone, "a/never-there.bin"]) == []
        assert s3_bucket.keys() == [kept]

    def test_an_unreachable_bucket_is_logged_not_raised(
        self, s3_bucket: S3Bucket, settings: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        from tests.queueing import closed_port

        options = dict(settings.STORAGES["default"]["OPTIONS"])
        options["endpoint_url"] = f"http://127.0.0.1:{closed_port()}"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": options},
        }
        assert stored_delete(["a/b.bin"]) == ["a/b.bin"]
        assert "could not delete stored file a/b.bin" in caplog.text

    def test_a_second_file_of_one_name_gets_another_name(
        self, s3_bucket: S3Bucket
    ) -> None:
        first, second = store(b"one", "a/same.bin"), store(b"two", "a/same.bin")
        assert first == "a/same.bin" and second != first
        assert s3_bucket.read(first) == b"one"
        assert s3_bucket.read(second) == b"two"
