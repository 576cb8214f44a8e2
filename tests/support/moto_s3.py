"""A real S3-compatible server for tests: moto's server mode on loopback, in a thread.

Moto checks nothing by default; here IAM authentication is switched on (its
`INITIAL_NO_AUTH_ACTION_COUNT`, through the server's `/moto-api/reset-auth`) once the bucket
and an IAM user exist, so every later request must carry a valid SigV4 signature (recomputed
by botocore's signer, independent of app/storage/sigv4.py) from a known access key whose
policy allows the action. Moto takes `x-amz-content-sha256` as given: it does not compare it
with the body, so tests read objects back to check what was stored.
"""

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
_S3_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass
class MotoS3:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    client: Any  # a boto3 S3 client with the same credentials, to inspect the bucket

    def objects(self) -> dict[str, bytes]:
        """Every object in the bucket, by key, as moto stores it."""
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return {
            item["Key"]: self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
            for item in listing.get("Contents", [])
        }


def _reset_auth(endpoint: str, count: str) -> str:
    """Set moto's count of unauthenticated requests still allowed; return the previous one."""
    response = httpx.post(f"{endpoint}/moto-api/reset-auth", content=count, trust_env=False)
    response.raise_for_status()
    return str(response.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])


@contextlib.contextmanager
def moto_s3(bucket: str = "kiln") -> Iterator[MotoS3]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    previous: str | None = None
    try:
        setup = boto3.session.Session(
            aws_access_key_id="setup", aws_secret_access_key="setup", region_name=REGION
        )
        iam = setup.client("iam", endpoint_url=endpoint)
        iam.create_user(UserName="kiln")
        iam.put_user_policy(
            UserName="kiln", PolicyName="s3-only", PolicyDocument=json.dumps(_S3_ONLY)
        )
        key = iam.create_access_key(UserName="kiln")["AccessKey"]
        path_style = Config(s3={"addressing_style": "path"})
        setup.client("s3", endpoint_url=endpoint, config=path_style).create_bucket(Bucket=bucket)
        previous = _reset_auth(endpoint, "0")  # from here on, every request is authenticated
        client = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=REGION,
        ).client("s3", endpoint_url=endpoint, config=path_style)
        yield MotoS3(endpoint, bucket, key["AccessKeyId"], key["SecretAccessKey"], client)
    finally:
        if previous is not None:
            _reset_auth(endpoint, previous)
        httpx.post(f"{endpoint}/moto-api/reset", trust_env=False)
        server.stop()
