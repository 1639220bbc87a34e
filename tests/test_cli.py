"""The first hour at the command line: ``python -m redaction`` and ``make run`` in subprocesses.
Every mistake a newcomer can make (a missing file, a port in use, a bad setting) ends in one
line on standard error naming the problem, never a traceback; ``--help`` describes each command
and its defaults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Subprocesses, some of them servers: not part of `make test-fast`.
pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120  # bounds a hang on a busy machine; not a performance threshold


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    clean.update(APPLICATIONINSIGHTS_CONNECTION_STRING="", **env)
    return subprocess.run(
        [sys.executable, "-m", "redaction", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *needles: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pii-redaction: ")
    for needle in needles:
        assert needle in lines[0]


# --- --help ------------------------------------------------------------------------------------


def test_help_lists_the_commands_with_what_each_does() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command, words in [
        ("serve", "serve /redact, /restore, /health"),
        ("redact", "redact one request"),
        ("emulator", "Azure AI Language PII API"),
    ]:
        assert command in result.stdout
        assert words in result.stdout


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("serve", ["--host HOST", "(default: 127.0.0.1)", "--port PORT", "(default: 7071)"]),
        ("redact", ["JSON file to read, or - for standard input (default: -)", "Exit status"]),
        ("emulator", ["(default: 5005)", "(default:", "emulator-key", "LANGUAGE_ENDPOINT"]),
    ],
)
def test_each_command_has_help_with_descriptions_and_defaults(
    command: str, expected: list[str]
) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for needle in expected:
        assert needle in text, needle


# --- redact ------------------------------------------------------------------------------------


def test_redact_a_missing_file_is_one_line_and_status_2() -> None:
    assert_one_line(run("redact", "missing.json"), 2, "missing.json", "no such file")


def test_redact_a_directory_is_one_line_and_status_2(tmp_path: Path) -> None:
    assert_one_line(run("redact", str(tmp_path)), 2, "is a directory")


def test_redact_the_readme_example_prints_the_answer() -> None:
    result = run("redact", "examples/chat.json", PII_DETECTOR="local")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "ok"
    assert "alice@example.com" not in result.stdout


# --- start-up: a port in use, a bad NER setting ------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", ["serve", "emulator"])
def test_a_port_in_use_is_one_line_and_status_1(command: str, taken_port: int) -> None:
    result = run(command, "--port", str(taken_port), PII_DETECTOR="local")
    if command == "emulator":  # the emulator prints its endpoint before it binds
        result.stderr = result.stderr.strip().splitlines()[-1]
    assert_one_line(result, 1, f"127.0.0.1:{taken_port}", "already in use", "--port")
    assert "serving" not in result.stderr


def test_a_ner_model_that_is_not_installed_stops_serve_naming_the_setting() -> None:
    result = run("serve", "--port", "1", PII_NER_MODEL="no_such_spacy_model_package")
    assert_one_line(result, 2, "PII_NER_MODEL")
    assert "no_such_spacy_model_package" not in result.stderr
    assert "serving" not in result.stderr


# --- make run PORT= ----------------------------------------------------------------------------


@pytest.mark.parametrize(("assignment", "port"), [([], "7071"), (["PORT=8123"], "8123")])
def test_make_run_serves_on_port(assignment: list[str], port: str) -> None:
    result = subprocess.run(
        ["make", "-n", "run", *assignment],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"-m redaction serve --host 127.0.0.1 --port {port}" in result.stdout
