"""Refusing hostile input before any work is done (pure)."""

from __future__ import annotations

import json

import pytest

from redaction.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from redaction.http.decoding import check_headers, parse_request
from redaction.models import InputLimits

LIMITS = InputLimits(max_body_bytes=10_000, max_depth=8, max_strings=50)


def test_a_valid_request() -> None:
    request = parse_request(b'{"body": {"messages": []}, "config": {"fail_closed": true}}', LIMITS)
    assert request.config.fail_closed is True
    assert request.config.scan_roles == ["user", "assistant", "tool"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"body": ' + b'{"a": ' * 9 + b"1" + b"}" * 10,
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_nesting_is_limited(raw: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="nest"):
        parse_request(raw, InputLimits(10**7, 8, 10**6))


def test_string_count_is_limited() -> None:
    raw = json.dumps({"body": {"messages": [{"content": "x"}] * 60}}).encode()
    with pytest.raises(PayloadTooLargeError):
        parse_request(raw, LIMITS)


def test_body_bytes_are_limited() -> None:
    with pytest.raises(PayloadTooLargeError):
        parse_request(b" " * 10_001, LIMITS)


def test_huge_numbers_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="number"):
        parse_request(b'{"body": {"n": ' + b"9" * 5000 + b"}}", LIMITS)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"Content-Type": "text/plain"}, UnsupportedMediaTypeError),
        ({"content-type": "multipart/form-data"}, UnsupportedMediaTypeError),
        ({"Content-Encoding": "gzip"}, UnsupportedMediaTypeError),
    ],
)
def test_headers_are_checked(headers: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        check_headers(headers, 10, LIMITS)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.x+json"],
)
def test_json_media_types_pass(content_type: str) -> None:
    check_headers({"Content-Type": content_type}, 10, LIMITS)


def test_errors_never_carry_values() -> None:
    raw = json.dumps({"body": {}, "config": {"scan_roles": "jane.doe@example.com"}}).encode()
    with pytest.raises(InvalidRequestError) as raised:
        parse_request(raw, LIMITS)
    text = f"{raised.value} {raised.value.details}"
    assert "config.scan_roles" in text
    assert "jane" not in text


def test_unknown_keys_are_not_repeated_when_they_look_like_data() -> None:
    raw = json.dumps({"body": {}, "config": {"jane.doe@example.com": 1}}).encode()
    with pytest.raises(InvalidRequestError) as raised:
        parse_request(raw, LIMITS)
    assert "jane" not in f"{raised.value} {raised.value.details}"
