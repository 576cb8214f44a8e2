"""Storage backends: local (keys confined to the root, no partial objects) and S3-compatible
(SigV4 checked against AWS's published example; behaviour against moto's S3 server on
loopback, with its IAM authentication on so every request's signature is verified)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.core.config import get_settings
from app.storage import ObjectNotFound, StorageError, load_bytes
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from app.storage.sigv4 import EMPTY_SHA256, amz_date, authorization
from tests.support.dsl import chat_dsl, make_app
from tests.support.files import PNG, upload
from tests.support.moto_s3 import moto_s3

ACCESS, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def test_sigv4_matches_the_aws_documentation_example() -> None:
    """docs.aws.amazon.com "Signature Version 4 signing process" (IAM ListUsers example)."""
    url = httpx.URL("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": "iam.amazonaws.com",
        "x-amz-date": amz_date(datetime(2015, 8, 30, 12, 36, tzinfo=UTC)),
    }
    header = authorization("GET", url, headers, EMPTY_SHA256, ACCESS, SECRET, "us-east-1", "iam")
    assert header == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


async def _stream(*parts: bytes, fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise ValueError("rejected mid-stream")


async def test_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert await storage.save("a/b.bin", _stream(b"he", b"llo")) == 5
    assert await load_bytes(storage, "a/b.bin") == b"hello"
    assert await storage.size("a/b.bin") == 5
    with pytest.raises(ValueError):
        await storage.save("a/c.bin", _stream(b"x", fail=True))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.bin"]
    for bad in ("../x", "/etc/passwd", "a/../../x", "a//b", ""):
        with pytest.raises(StorageError):
            await storage.save(bad, _stream(b"x"))
    await storage.delete("a/b.bin")
    await storage.delete("a/b.bin")
    with pytest.raises(ObjectNotFound):
        await storage.open("a/b.bin")


async def test_s3_storage_against_moto() -> None:
    with moto_s3() as s3:
        storage = S3Storage(s3.bucket, s3.access_key, s3.secret_key, endpoint=s3.endpoint)
        assert await storage.save("upload_files/x/1.png", _stream(PNG, b"!")) == len(PNG) + 1
        assert s3.objects() == {"upload_files/x/1.png": PNG + b"!"}
        assert await load_bytes(storage, "upload_files/x/1.png") == PNG + b"!"
        assert await storage.size("upload_files/x/1.png") == len(PNG) + 1
        big = bytes(range(256)) * 1024  # several chunks each way
        assert await storage.save(
            "upload_files/x/big.bin", _stream(big[:100_000], big[100_000:])
        ) == len(big)
        assert await load_bytes(storage, "upload_files/x/big.bin") == big
        with pytest.raises(ValueError):
            await storage.save("upload_files/x/2.png", _stream(b"x", fail=True))
        assert sorted(s3.objects()) == ["upload_files/x/1.png", "upload_files/x/big.bin"]
        await storage.delete("upload_files/x/1.png")
        await storage.delete("upload_files/x/1.png")
        assert sorted(s3.objects()) == ["upload_files/x/big.bin"]
        with pytest.raises(ObjectNotFound):
            await storage.open("upload_files/x/1.png")
        with pytest.raises(ObjectNotFound):
            await storage.size("upload_files/x/1.png")
        await storage.aclose()


async def test_moto_rejects_bad_signatures_and_unknown_keys() -> None:
    with moto_s3() as s3:
        wrong_secret = S3Storage(s3.bucket, s3.access_key, "not-the-secret", endpoint=s3.endpoint)
        unknown_key = S3Storage(
            s3.bucket, "AKIAUNKNOWN0000000000", s3.secret_key, endpoint=s3.endpoint
        )
        for storage, code in (
            (wrong_secret, "SignatureDoesNotMatch"),
            (unknown_key, "InvalidAccessKeyId"),
        ):
            with pytest.raises(StorageError, match=f"PUT answered HTTP 403 \\({code}\\)"):
                await storage.save("k", _stream(b"x"))
            with pytest.raises(StorageError, match=f"GET answered HTTP 403 \\({code}\\)"):
                await storage.open("k")
            with pytest.raises(StorageError, match="HEAD answered HTTP 403"):
                await storage.size("k")
            with pytest.raises(StorageError, match=f"DELETE answered HTTP 403 \\({code}\\)"):
                await storage.delete("k")
            await storage.aclose()
        assert s3.objects() == {}


async def test_uploads_and_previews_through_s3(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = await make_app(chat_dsl(name="S3 App"))
    with moto_s3() as s3:
        settings = get_settings()
        for name, value in {
            "storage_type": "s3", "s3_endpoint": s3.endpoint, "s3_bucket": s3.bucket,
            "s3_access_key": s3.access_key, "s3_secret_key": s3.secret_key,
        }.items():  # fmt: skip
            monkeypatch.setattr(settings, name, value)
        body = (await upload(client, key)).json()
        assert s3.objects() == {body["file_key"]: PNG}
        preview = await client.get(body["source_url"])
        assert preview.status_code == 200 and preview.content == PNG
        monkeypatch.setattr(settings, "upload_image_file_size_limit", 0)
        rejected = await upload(client, key, PNG, "x.png")  # over the limit mid-body
        assert rejected.status_code == 413
        assert s3.objects() == {body["file_key"]: PNG}  # nothing of it is left behind
