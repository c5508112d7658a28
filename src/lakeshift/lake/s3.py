"""An S3 lake root: credentials from the AWS profile, and a pyarrow filesystem that fails clearly.

Credentials are resolved once per run by boto3 from `aws.profile` (any kind of profile boto3
knows: keys, SSO, assumed roles) and handed to pyarrow's S3FileSystem and to every boto3 client;
the secret parts are registered with `lakeshift.redaction`, so they never reach a log line.

`pyarrow.fs.S3FileSystem` reads and writes the bytes; its AWS SDK retries throttling, 5xx and
dropped connections inside each request (standard strategy: exponential backoff with jitter).
Around it, `RetryingS3Handler` retries whole metadata operations (list, stat, open, delete, move)
through `lakeshift.lake.retry`, logging each retry, and turns what cannot succeed (access denied,
missing bucket) into a one-line `TerminalError`. Object stores have no folders: `create_dir` does
nothing, so no zero-byte folder markers are left among the data files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from lakeshift.errors import ConfigError, TerminalError
from lakeshift.lake.retry import classify, with_retry
from lakeshift.redaction import register_secret

SDK_ATTEMPTS = 8  # per request, inside pyarrow's AWS SDK
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class S3Location:
    """Bucket and prefix of the lake, with the AWS session that reaches them."""

    bucket: str
    prefix: str
    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    session: Any = field(default=None, repr=False, compare=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the boto3 session and clients, which do not pickle: the profile
        names the credentials, resolved again where the location is unpickled."""
        return {**self.__dict__, "session": None, "_clients": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import boto3
        import botocore.exceptions

        if state["session"] is None:
            try:
                state["session"] = boto3.Session(
                    profile_name=state["profile"], region_name=state["region"]
                )
            except botocore.exceptions.ProfileNotFound:
                raise ConfigError(
                    f"aws.profile {state['profile']!r} of migration_config.cfg is not in the AWS "
                    "config files of this machine, where the lake was handed over"
                ) from None
        object.__setattr__(self, "__dict__", state)

    @property
    def root(self) -> str:
        """The lake root as pyarrow names it: `bucket/prefix`."""
        return "/".join(part for part in (self.bucket, self.prefix) if part)

    def uri(self, path: str = "") -> str:
        return f"s3://{path or self.root}"

    def client(self, service: str) -> Any:
        """A boto3 client that does not retry by itself: `with_retry` retries, and logs it.

        Clients are made once per service (boto3 clients are thread-safe; making one is slow).
        """
        from botocore.config import Config

        if service in self._clients:
            return self._clients[service]
        self._clients[service] = self.session.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
        return self._clients[service]


def open_location(
    bucket: str,
    prefix: str = "",
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> S3Location:
    """Resolve the profile's credentials and the region; a missing profile is a ConfigError."""
    try:
        import boto3
        import botocore.exceptions
    except ModuleNotFoundError:
        raise ConfigError(
            "an S3 lake needs boto3; install lakeshift with its extra: pip install 'lakeshift[aws]'"
        ) from None
    if not bucket or "/" in bucket:
        raise ConfigError(f"aws.s3_bucket {bucket!r} is not a bucket name (no s3://, no /)")
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(
            f"aws.profile {profile!r} of migration_config.cfg is not in the AWS config files "
            "(~/.aws/config, ~/.aws/credentials)"
        ) from None
    return S3Location(
        bucket=bucket,
        prefix=prefix.strip("/"),
        region=region or session.region_name or DEFAULT_REGION,
        endpoint_url=endpoint_url,
        profile=profile,
        session=session,
    )


def native_filesystem(location: S3Location, attempts: int = SDK_ATTEMPTS) -> pafs.S3FileSystem:
    """pyarrow's own S3 filesystem, with the session's credentials; the SDK tries each request
    `attempts` times."""
    credentials = location.session.get_credentials()
    if credentials is None:
        raise TerminalError(
            f"no AWS credentials found for profile {location.profile or '(default)'}: "
            "set aws.profile in migration_config.cfg or the usual AWS environment variables"
        )
    frozen = credentials.get_frozen_credentials()
    register_secret(frozen.secret_key)
    register_secret(frozen.token)
    options: dict[str, Any] = {}
    if location.endpoint_url:
        parts = urlsplit(location.endpoint_url)
        options = {
            "endpoint_override": parts.netloc or parts.path,
            "scheme": parts.scheme or "https",
        }
    return pafs.S3FileSystem(
        access_key=frozen.access_key,
        secret_key=frozen.secret_key,
        session_token=frozen.token,
        region=location.region,
        # Small files go up as one PutObject; the multipart upload starts only when needed.
        allow_delayed_open=True,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=attempts),
        connect_timeout=10,
        request_timeout=120,
        **options,
    )


def s3_filesystem(location: S3Location) -> pafs.FileSystem:
    """Metadata calls retried (and logged) by lakeshift, data requests by pyarrow's SDK."""
    return pafs.PyFileSystem(
        RetryingS3Handler(
            native_filesystem(location), native_filesystem(location, attempts=1), location
        )
    )


class _CheckedStream:
    """A file object over a native output stream whose failures become lakeshift errors."""

    def __init__(self, stream: pa.NativeFile, path: str):
        self.stream = stream
        self.path = path
        self.closed = False

    def _checked(self, what: str, operation: Any) -> Any:
        try:
            return operation()
        except Exception as error:
            failure = classify(error, f"S3 {what} s3://{self.path}")
            if failure is None:
                raise
            raise failure from None

    def write(self, data: Any) -> int:
        return int(self._checked("write", lambda: self.stream.write(data)))

    def tell(self) -> int:
        return int(self.stream.tell())

    def flush(self) -> None:
        self._checked("flush", self.stream.flush)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._checked("upload", self.stream.close)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


class RetryingS3Handler(pafs.FileSystemHandler):
    """Delegates to S3FileSystem, retrying and explaining failures (see the module docstring)."""

    def __init__(
        self,
        fs: pafs.S3FileSystem,
        metadata_fs: pafs.S3FileSystem | None = None,
        location: S3Location | None = None,
    ):
        self.fs = fs  # streams: the SDK retries each request of a read or an upload
        self.metadata_fs = metadata_fs or fs  # one request per call: `with_retry` retries it
        self.location = location  # its boto3 client deletes objects

    def _call(self, what: str, path: str, operation: Any) -> Any:
        return with_retry(f"S3 {what} s3://{path}", operation)

    def get_type_name(self) -> str:
        return "lakeshift-s3"

    def normalize_path(self, path: str) -> str:
        return str(self.fs.normalize_path(path))

    def equals(self, other: Any) -> bool:
        return isinstance(other, RetryingS3Handler) and self.fs.equals(other.fs)

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        label = paths[0] if len(paths) == 1 else f"{len(paths)} paths"
        return list(self._call("stat", label, lambda: self.metadata_fs.get_file_info(paths)))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return list(
            self._call("list", selector.base_dir, lambda: self.metadata_fs.get_file_info(selector))
        )

    def create_dir(self, path: str, recursive: bool) -> None:
        """Object stores have no folders; writing an object creates its prefix."""

    def delete_dir(self, path: str) -> None:
        self._call("delete", path, lambda: self.metadata_fs.delete_dir(path))

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self._call(
            "delete", path, lambda: self.metadata_fs.delete_dir_contents(path, missing_dir_ok)
        )

    def delete_root_dir_contents(self) -> None:
        raise TerminalError("lakeshift never empties a whole S3 account")

    def delete_file(self, path: str) -> None:
        """One DeleteObject. pyarrow's own delete writes an empty `folder/` object in place of a
        folder it empties, and every replaced generation left such markers behind."""
        if self.location is None:
            self._call("delete", path, lambda: self.metadata_fs.delete_file(path))
            return
        bucket, _, key = path.partition("/")
        client = self.location.client("s3")
        self._call("delete", path, lambda: client.delete_object(Bucket=bucket, Key=key))

    def move(self, src: str, dest: str) -> None:
        self._call("move", f"{src} to {dest}", lambda: self.metadata_fs.move(src, dest))

    def copy_file(self, src: str, dest: str) -> None:
        self._call("copy", f"{src} to {dest}", lambda: self.metadata_fs.copy_file(src, dest))

    def open_input_stream(self, path: str) -> pa.NativeFile:
        return self._call("read", path, lambda: self.fs.open_input_stream(path))

    def open_input_file(self, path: str) -> pa.NativeFile:
        return self._call("read", path, lambda: self.fs.open_input_file(path))

    def open_output_stream(self, path: str, metadata: Any) -> pa.NativeFile:
        stream = self._call("write", path, lambda: self.fs.open_output_stream(path, metadata))
        return pa.PythonFile(_CheckedStream(stream, path), mode="w")

    def open_append_stream(self, path: str, metadata: Any) -> pa.NativeFile:
        raise TerminalError(f"s3://{path}: S3 objects cannot be appended to")
