"""Object store access (S3 API): presigned uploads and downloads, inspection of stored files."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import boto3
from botocore.client import Config as BotoConfig
from botocore.exceptions import ClientError

from sellerflow.config import Settings

MAGIC = {
    "application/pdf": [b"%PDF-"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "image/jpeg": [b"\xff\xd8\xff"],
}


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
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
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
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def attachment(filename: str) -> str:
    """A Content-Disposition that downloads: an ASCII fallback name and the exact UTF-8 one."""
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def magic_matches(content_type: str, head: bytes) -> bool:
    return any(head.startswith(m) for m in MAGIC.get(content_type, []))
