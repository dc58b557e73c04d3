"""Object store access (S3 API): presigned uploads and downloads, inspection of stored files."""

import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import boto3
from botocore.client import Config as BotoConfig
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from sellerflow.config import Settings
from sellerflow.models import Document, utcnow
from sellerflow.vocabulary import DocumentStatus

MAGIC = {
    "application/pdf": [b"%PDF-"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "image/jpeg": [b"\xff\xd8\xff"],
}
# Where a presigned form uploads a file of an application: its documents, and the evidence of
# the seller it became (`<key>.checked` once checked, `check_upload`).
UPLOAD_FOLDERS = ("documents", "appeals")
_UPLOAD_KEY = re.compile(
    rf"^applications/[0-9a-f-]{{36}}/({'|'.join(UPLOAD_FOLDERS)})/([0-9a-f-]{{36}})$"
)


def upload_key(application_id: uuid.UUID, folder: str, object_id: uuid.UUID) -> str:
    assert folder in UPLOAD_FOLDERS
    return f"applications/{application_id}/{folder}/{object_id}"


def parse_upload_key(key: str) -> tuple[str, uuid.UUID] | None:
    """The folder and object id of an upload key; None for any other key (a checked copy, a
    signature's archive)."""
    found = _UPLOAD_KEY.match(key)
    return (found[1], uuid.UUID(found[2])) if found else None


# The file name a browser form's upload gets, from its type (the form cannot name the file).
FILE_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


# S3 could not be reached or dropped the connection: a later attempt may succeed. Anything else
# (access denied, a bad request) is a fault of ours and is not retried as an outage.
OUTAGE_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    ResponseStreamingError,
)


class StoreUnavailable(Exception):
    """S3 is unreachable or failing on its side (5xx); retry later."""


def is_outage(err: BaseException) -> bool:
    """Whether a botocore error means S3 is unavailable (unreachable, timed out, or 5xx)."""
    if isinstance(err, ClientError):
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500
    return isinstance(err, OUTAGE_ERRORS)


@contextmanager
def _outage_as_unavailable() -> Iterator[None]:
    try:
        yield
    except (ClientError, *OUTAGE_ERRORS) as err:
        if is_outage(err):
            raise StoreUnavailable(f"S3 unavailable: {err}") from err
        raise


@dataclass(frozen=True)
class StoredObject:
    size: int
    sha256: str
    head: bytes


def make_s3_client(settings: Settings, *, public: bool = False) -> Any:
    endpoint = settings.s3_public_endpoint_url if public else None
    return boto3.client(
        "s3",
        endpoint_url=endpoint or settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # Bounded so that a request or an activity attempt fails within seconds when S3 is
            # down: one retry (under a second of backoff), 2 s to connect, 5 s per socket read.
            retries={"total_max_attempts": 2, "mode": "standard"},
            connect_timeout=2,
            read_timeout=5,
        ),
    )


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.client = make_s3_client(settings)
        # Presigned URLs carry the host the browser will use.
        self.public_client = (
            make_s3_client(settings, public=True)
            if settings.s3_public_endpoint_url
            else self.client
        )

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def presigned_post(
        self,
        key: str,
        content_type: str,
        max_bytes: int,
        expires_in: int = 600,
        redirect_to: str | None = None,
    ) -> dict[str, Any]:
        """A browser form's target and fields; `redirect_to` sends the browser back after it."""
        fields: dict[str, str] = {"Content-Type": content_type}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ]
        if redirect_to is not None:
            fields["success_action_redirect"] = redirect_to
            conditions.append({"success_action_redirect": redirect_to})
        post = self.public_client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return {
            "url": post["url"],
            "fields": post["fields"],
            "expires_at": datetime.now(UTC) + timedelta(seconds=expires_in),
        }

    def presigned_get(self, key: str, filename: str, expires_in: int = 120) -> str:
        url: str = self.public_client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                # Never inline: an uploaded HTML or SVG must not render on our origin.
                "ResponseContentDisposition": attachment(filename),
                "ResponseContentType": "application/octet-stream",
            },
            ExpiresIn=expires_in,
        )
        return url

    def inspect(self, key: str, max_bytes: int) -> StoredObject | None:
        """Size, SHA-256 and first bytes of a stored object; None if it is not there."""
        with _outage_as_unavailable():
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            size = int(head["ContentLength"])
            if size > max_bytes:
                return StoredObject(size=size, sha256="", head=b"")
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            digest = hashlib.sha256()
            first = b""
            for chunk in body.iter_chunks(chunk_size=1 << 16):
                if not first:
                    first = chunk[:16]
                digest.update(chunk)
        return StoredObject(size=size, sha256=digest.hexdigest(), head=first)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _outage_as_unavailable():
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        with _outage_as_unavailable():
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def keys_under(self, prefix: str) -> list[str]:
        """Every key that starts with `prefix`."""
        return [key for page in self.pages_under(prefix) for key in page]

    def pages_under(self, prefix: str) -> Iterator[list[str]]:
        """The keys that start with `prefix`, a listing page (up to 1,000) at a time."""
        with _outage_as_unavailable():
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                yield [item["Key"] for item in page.get("Contents", [])]

    def delete_many(self, keys: list[str]) -> None:
        """Delete up to 1,000 keys in one request."""
        if not keys:
            return
        with _outage_as_unavailable():
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )

    def copy(self, source: str, target: str) -> bool:
        """Copy an object to another key; False if there is no object at `source`."""
        with _outage_as_unavailable():
            try:
                origin = {"Bucket": self.bucket, "Key": source}
                self.client.copy_object(Bucket=self.bucket, Key=target, CopySource=origin)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return True

    def ping(self) -> None:
        with _outage_as_unavailable():
            self.client.head_bucket(Bucket=self.bucket)


def attachment(filename: str) -> str:
    """A Content-Disposition that downloads: an ASCII fallback name and the exact UTF-8 one."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    encoded = quote(filename, safe="", errors="replace")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def magic_matches(content_type: str, head: bytes) -> bool:
    return any(head.startswith(m) for m in MAGIC.get(content_type, []))


def upload_error(content_type: str, stored: StoredObject, max_bytes: int) -> tuple[str, str] | None:
    """Why stored bytes cannot be the document declared with `content_type`, as (code, reason)."""
    if stored.size > max_bytes:
        return "document_too_large", f"the file is larger than {max_bytes} bytes"
    if not magic_matches(content_type, stored.head):
        return "document_corrupt", f"the file's content is not a valid {content_type}"
    return None


@dataclass(frozen=True)
class CheckedUpload:
    """Bytes a browser uploaded, checked: kept under `key`, or refused with `error`."""

    key: str | None
    stored: StoredObject
    error: tuple[str, str] | None


def check_upload(
    store: ObjectStore, upload_key: str, content_type: str, max_bytes: int
) -> CheckedUpload | None:
    """Check the file uploaded at `upload_key`; None if there is none.

    The upload form stays valid for minutes after the upload: what is checked is a copy under a
    key the form cannot write, so the bytes readers get are the bytes that were checked. A file
    too large or not of its declared type is deleted. Raises StoreUnavailable when S3 cannot
    answer."""
    kept_key = f"{upload_key}.checked"
    if not store.copy(upload_key, kept_key):
        return None
    stored = store.inspect(kept_key, max_bytes)
    if stored is None:
        return None
    error = upload_error(content_type, stored, max_bytes)
    if error is not None:
        store.delete(kept_key)
        store.delete(upload_key)
        return CheckedUpload(None, stored, error)
    store.delete(upload_key)
    return CheckedUpload(kept_key, stored, None)


def check_document(store: ObjectStore, doc: Document, max_bytes: int) -> bool:
    """Check the file stored for `doc` and record the outcome on it; False if there is none.

    Acceptable bytes set the stored size, SHA-256 and upload time. A file too large or not of
    its declared type is deleted and the document refused with an error code and reason.
    Raises StoreUnavailable when S3 cannot answer: the document is then left as it was.
    """
    checked = check_upload(store, doc.object_key, doc.content_type, max_bytes)
    if checked is None:
        return False
    if checked.key is None:
        assert checked.error is not None
        doc.status, (doc.error_code, doc.error_reason) = DocumentStatus.refused, checked.error
        return True
    doc.object_key, doc.status = checked.key, DocumentStatus.uploaded
    doc.stored_size, doc.sha256, doc.uploaded_at = (
        checked.stored.size,
        checked.stored.sha256,
        utcnow(),
    )
    return True


def file_check_pending(doc: Document) -> bool:
    """Uploaded while S3 could not be reached: its file has not been checked yet."""
    return doc.status == DocumentStatus.uploaded.value and doc.sha256 is None
