"""Retry what may succeed on a second try; fail at once, with one clear line, what never will.

Every S3 and Glue call lakeshift makes itself goes through `with_retry`. Errors are sorted into
`TransientError` (throttling, 5xx, dropped or timed-out connections: retried with exponential
backoff and full jitter, each retry logged) and `TerminalError` (access denied, missing bucket,
bad credentials, anything else the service refused: raised at once). The sorting reads botocore
errors by their code and pyarrow's S3 errors by the AWS error name in their message.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from loguru import logger

from lakeshift.errors import LakeshiftError, TerminalError, TransientError
from lakeshift.redaction import redact

T = TypeVar("T")

TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
        "InternalError",
        "InternalFailure",
        "InternalServiceException",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "OperationTimeoutException",
        "ConcurrentModificationException",
    }
)
# What to tell the user for the refusals they can fix; other codes are named as they come.
TERMINAL_HINTS = {
    "AccessDenied": "access denied: check that the AWS profile's IAM policy allows this on the bucket/database",
    "AccessDeniedException": "access denied: check that the AWS profile's IAM policy allows this",
    "Forbidden": "access denied (HTTP 403): check the AWS profile's IAM policy and the bucket policy",
    "NoSuchBucket": "the bucket does not exist: check aws.s3_bucket in migration_config.cfg",
    "InvalidAccessKeyId": "the access key is not valid: check the AWS profile's credentials",
    "SignatureDoesNotMatch": "the secret key does not match: check the AWS profile's credentials",
    "ExpiredToken": "the session token has expired: log in again (aws sso login) and rerun",
    "ExpiredTokenException": "the session token has expired: log in again and rerun",
    "UnrecognizedClientException": "the credentials are not valid for this service",
}
# pyarrow's S3 errors read "AWS Error SLOW_DOWN during PutObject operation: ..."
_ARROW_TRANSIENT = (
    "SLOW_DOWN",
    "THROTTLING",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_FAILURE",
    "NETWORK_CONNECTION",
    "REQUEST_TIMEOUT",
    "REQUEST_TIME_TOO_SKEWED",
    "HTTP status 500",
    "HTTP status 502",
    "HTTP status 503",
    "HTTP status 504",
    "curlCode",
    "Connection reset",
)
_ARROW_TERMINAL = {
    "ACCESS_DENIED": "AccessDenied",
    "HTTP status 403": "Forbidden",
    "NO_SUCH_BUCKET": "NoSuchBucket",
    "INVALID_ACCESS_KEY_ID": "InvalidAccessKeyId",
    "SIGNATURE_DOES_NOT_MATCH": "SignatureDoesNotMatch",
    "EXPIRED_TOKEN": "ExpiredToken",
}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""

    attempts: int = 8
    base_seconds: float = 0.1
    cap_seconds: float = 20.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


DEFAULT_POLICY = RetryPolicy()


def _one_line(text: str) -> str:
    text = re.sub(r"\s*\(Request ID: [^)]*\)", "", text)
    return redact(" ".join(text.split()))


def classify(error: BaseException, what: str) -> LakeshiftError | None:
    """The lakeshift error `error` means for the operation `what`; None when it is not an AWS error."""
    if isinstance(error, LakeshiftError):
        return error
    try:
        import botocore.exceptions as botocore_errors
    except ModuleNotFoundError:  # pragma: no cover - pyarrow-only installs
        botocore_errors = None
    if botocore_errors is not None:
        if isinstance(error, botocore_errors.ClientError):
            return _from_code(
                what,
                str(error.response.get("Error", {}).get("Code", "")),
                int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0),
                str(error.response.get("Error", {}).get("Message", "")),
            )
        if isinstance(
            error,
            botocore_errors.ConnectionError
            | botocore_errors.HTTPClientError
            | botocore_errors.ReadTimeoutError,
        ):
            return TransientError(f"{what}: connection problem: {_one_line(str(error))}")
        if isinstance(error, botocore_errors.NoCredentialsError | botocore_errors.ProfileNotFound):
            return TerminalError(f"{what}: {_one_line(str(error))}; configure aws.profile")
    if isinstance(error, FileNotFoundError):
        return None  # a missing object is an answer, not a failure of the service
    if isinstance(error, OSError):
        message = str(error)
        for token, code in _ARROW_TERMINAL.items():
            if token in message:
                return TerminalError(f"{what}: {TERMINAL_HINTS[code]} ({code})")
        if any(token in message for token in _ARROW_TRANSIENT):
            return TransientError(f"{what}: {_one_line(message)}")
        if "AWS Error" in message:
            return TerminalError(f"{what}: {_one_line(message)}")
    return None


def _from_code(what: str, code: str, status: int, message: str) -> LakeshiftError:
    if code in TRANSIENT_CODES or status >= 500 or status == 429:
        return TransientError(f"{what}: {code or status} {_one_line(message)}".rstrip())
    hint = TERMINAL_HINTS.get(code) or TERMINAL_HINTS.get("Forbidden" if status == 403 else "")
    if hint:
        return TerminalError(f"{what}: {hint} ({code or status})")
    return TerminalError(f"{what}: {code or status}: {_one_line(message)}")


def with_retry(
    what: str,
    operation: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `operation`, retrying transient failures; raise TerminalError/TransientError otherwise.

    >>> with_retry("S3 list s3://bucket/prefix", lambda: 42)
    42
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except Exception as error:
            failure = classify(error, what)
            if failure is None:
                raise
            if isinstance(failure, TransientError) and attempt < policy.attempts:
                delay = policy.delay(attempt)
                logger.warning(
                    "{} (attempt {} of {}); retrying in {:.2f}s",
                    failure,
                    attempt,
                    policy.attempts,
                    delay,
                )
                sleep(delay)
                continue
            if isinstance(failure, TransientError):
                raise TransientError(f"{failure}; gave up after {attempt} attempts") from None
            raise failure from None
    raise AssertionError("unreachable")  # pragma: no cover
