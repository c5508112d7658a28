"""S3 and Glue on moto in server mode, a fault-injecting proxy in front of it, S3 demo projects.

Everything listens on 127.0.0.1 with free ports; no request leaves the machine. Credentials are
a test profile in a temporary AWS credentials file, so the profile path is the one exercised.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from openpyxl import Workbook

from lakeshift.demo.data import create_demo_database
from lakeshift.demo.files import INVENTORY, write_demo_configs

REGION = "eu-west-1"
PROFILE = "lakeshift-test"
DEMO_ROWS = 900
SECRET_KEY = "test-secret-key-never-logged"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server (S3, Glue, Athena, STS) for the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def aws_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A named profile with fake keys; no developer credentials or metadata service are used."""
    folder = tmp_path_factory.mktemp("aws")
    (folder / "credentials").write_text(
        f"[{PROFILE}]\naws_access_key_id = AKIATESTLAKESHIFT\n"
        f"aws_secret_access_key = {SECRET_KEY}\n",
        encoding="utf-8",
    )
    (folder / "config").write_text(f"[profile {PROFILE}]\nregion = {REGION}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "credentials"))
        patch.setenv("AWS_CONFIG_FILE", str(folder / "config"))
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield PROFILE


def aws_client(service: str, endpoint: str) -> Any:
    """A client straight to moto (never through the proxy), for set-up and independent checks."""
    return boto3.Session(profile_name=PROFILE, region_name=REGION).client(
        service, endpoint_url=endpoint
    )


def new_bucket(endpoint: str) -> str:
    name = f"lake-{uuid.uuid4().hex[:12]}"
    aws_client("s3", endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    """A new, empty bucket for one test."""
    return new_bucket(moto_endpoint)


# --- fault injection -----------------------------------------------------------------------------
S3_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"
)
FAULTS: dict[str, tuple[int, str, str]] = {
    # name: (status, content type, body)
    "slowdown": (503, "application/xml", S3_ERROR.format(code="SlowDown", message="Reduce rate")),
    "internal": (500, "application/xml", S3_ERROR.format(code="InternalError", message="Oops")),
    "access_denied": (403, "application/xml", S3_ERROR.format(code="AccessDenied", message="No")),
    "glue_throttle": (
        400,
        "application/x-amz-json-1.1",
        json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}),
    ),
    "glue_denied": (
        400,
        "application/x-amz-json-1.1",
        json.dumps({"__type": "AccessDeniedException", "message": "Not allowed"}),
    ),
    "glue_internal": (
        500,
        "application/x-amz-json-1.1",
        json.dumps({"__type": "InternalServiceException", "message": "Oops"}),
    ),
}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te"}


@dataclass
class FaultRule:
    fault: str  # a FAULTS name, "reset" (before forwarding) or "reset_after" (after forwarding)
    method: str | None = None
    path_contains: str = ""
    target: str = ""  # X-Amz-Target of JSON services, e.g. "AWSGlue.BatchCreatePartition"
    skip: int = 0  # matching requests let through before the fault
    times: int | None = 1  # None: every matching request

    def matches(self, method: str, path: str, target: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and self.path_contains in path
            and (not self.target or self.target == target)
        )


@dataclass
class FaultPlan:
    rules: list[FaultRule] = field(default_factory=list)
    injected: list[tuple[str, str, str]] = field(default_factory=list)  # fault, method, path
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: str, **match: Any) -> None:
        self.rules.append(FaultRule(fault, **match))

    def take(self, method: str, path: str, target: str) -> str | None:
        with self.lock:
            self.requests += 1
            for rule in self.rules:
                if rule.times == 0 or not rule.matches(method, path, target):
                    continue
                if rule.skip:
                    rule.skip -= 1
                    continue
                if rule.times is not None:
                    rule.times -= 1
                self.injected.append((rule.fault, method, path))
                return rule.fault
        return None


def _proxy_handler(upstream: str, plan: FaultPlan) -> type[BaseHTTPRequestHandler]:
    host, port = upstream.removeprefix("http://").split(":")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reset(self) -> None:
            """Drop the connection with a TCP reset, as a failing load balancer does."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            connection.close()
            return response.status, response.getheaders(), content

        def _handle(self) -> None:
            body = self._body()
            fault = plan.take(self.command, self.path, self.headers.get("X-Amz-Target", ""))
            if fault == "reset":
                self._reset()
                return
            if fault in FAULTS:
                status, content_type, text = FAULTS[fault]
                payload = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header(
                    "Content-Length", "0" if self.command == "HEAD" else str(len(payload))
                )
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                return
            status, headers, content = self._forward(body)
            if fault == "reset_after":  # the service did the work; the answer is lost
                self._reset()
                return
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            length = dict((k.lower(), v) for k, v in headers).get("content-length", "0")
            self.send_header(
                "Content-Length", length if self.command == "HEAD" else str(len(content))
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # writes after an injected reset fail on purpose


@dataclass
class FaultProxy:
    endpoint: str
    plan: FaultPlan


@pytest.fixture
def fault_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A proxy to moto that injects the faults its plan names (`proxy.plan.add(...)`)."""
    plan = FaultPlan()
    server = _QuietServer(("127.0.0.1", 0), _proxy_handler(moto_endpoint, plan))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FaultProxy(f"http://127.0.0.1:{server.server_address[1]}", plan)
    server.shutdown()
    server.server_close()


# --- projects ------------------------------------------------------------------------------------
def s3_migration_config(folder: Path, bucket: str, endpoint: str, **aws: Any) -> None:
    """Point a demo project's migration_config.cfg at an S3 lake (and no local lake)."""
    path = folder / "migration_config.cfg"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.pop("lake", None)
    config["aws"] = {
        "s3_bucket": bucket,
        "profile": PROFILE,
        "region": REGION,
        "prefix": "migration/v1",
        "glue_database": bucket.replace("-", "_"),  # moto keeps state across tests
        "endpoint_url": endpoint,
        **aws,
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def write_s3_demo(folder: Path, bucket: str, endpoint: str) -> Path:
    """The demo project (SQLite source, five config files) with its lake on S3.

    Customers are cut into years instead of months: fewer, larger slices keep moto quick.
    """
    folder.mkdir(parents=True)
    create_demo_database(folder / "source.db", DEMO_ROWS, seed=5)
    write_demo_configs(folder)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in INVENTORY:
        sheet.append(
            ["year" if row[0] == "main.customers" and cell == "month" else cell for cell in row]
        )
    book.save(folder / "input_tables.xlsx")
    s3_migration_config(folder, bucket, endpoint)
    return folder / "config_meta.cfg"


@pytest.fixture
def s3_demo(tmp_path: Path, bucket: str, moto_endpoint: str) -> Path:
    """A small demo project whose lake is `s3://{bucket}/migration/v1` on moto, not yet run."""
    return write_s3_demo(tmp_path / "demo", bucket, moto_endpoint)


@dataclass(frozen=True)
class MotoAws:
    """Helpers the lake tests share: clients straight to moto, buckets, S3 demo projects."""

    endpoint: str
    region: str = REGION
    profile: str = PROFILE
    secret_key: str = SECRET_KEY
    demo_rows: int = DEMO_ROWS

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoint)

    def new_bucket(self) -> str:
        return new_bucket(self.endpoint)

    def write_demo(self, folder: Path, bucket: str, endpoint: str | None = None) -> Path:
        return write_s3_demo(folder, bucket, endpoint or self.endpoint)

    def point_at_s3(self, folder: Path, bucket: str) -> None:
        """Move a project's lake to `s3://{bucket}/migration/v1` on moto (Glue as its catalog)."""
        s3_migration_config(folder, bucket, self.endpoint)

    def objects(self, bucket: str) -> list[str]:
        keys: list[str] = []
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for page in pages:
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys


@pytest.fixture(scope="session")
def moto_aws(moto_endpoint: str) -> MotoAws:
    return MotoAws(moto_endpoint)
