"""Broken copies of the APIM fragments fail the suite: the player is shown to catch mistakes.

Each mutant is a copy of apim/fragments/pii-anonymization.xml (or pii-deanonymization.xml) with
one deliberate slip, the kind a hand edit of a policy expression makes: forwarding an ``ok``
answer without full coverage, treating the function's 503 as success, dropping the fail-closed
``return-response``, inverting the fail-closed default, casting a variable to the wrong type,
cutting the body out of the wrong field of the answer (inbound and outbound), not sending the
restore token, a .NET type APIM does not allow (System.IO.File), a C# syntax error.

The copy goes through what tests/test_apim_flow.py does with the real fragments: compiled with
Mono against the context model, checked against APIM's allow-list, then played through the
tenant policy against the served function (embedded detector), or against a stand-in for an
answer the function never gives. A mutant is caught when it does not compile, uses what the
allow-list refuses, throws while played, or makes a scenario's forwarded body or client answer
differ from the correct fragment's in the same scenario. Each mutant names the check expected
to catch it, so a mutant that slips past that check (or whose edit no longer applies to the
fragment) fails here.

Without Mono these tests skip, as test_apim_flow.py's do (APIM_REQUIRE_MONO=1 makes it a failure).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.apim.player import (
    FRAGMENTS,
    NAMED_VALUES,
    TENANT_POLICY,
    Documents,
    Message,
    PolicyError,
    Runner,
    compile_policies,
    mono_missing,
    workdir_for,
)
from tests.conftest import ServiceFactory
from tests.test_apim_flow import (
    CHAT,
    FUNCTION_KEY,
    MODEL_ANSWER,
    RESTORE_FUNCTION_KEY,
    RESTORE_KEY,
    UNTRUSTED,
    Model,
    compact,
    gateway,
    header,
    play,
    redacted_chat,
    refused,
)

pytestmark = pytest.mark.server

ANONYMIZATION = "pii-anonymization"
DEANONYMIZATION = "pii-deanonymization"
ORIGINALS = {path.stem: path for path in FRAGMENTS}


# --- the mutants ----------------------------------------------------------------------------------


def swap(old: str, new: str) -> Callable[[str], str]:
    """Replaces ``old``, which must occur exactly once in the fragment, by ``new``."""

    def edit(text: str) -> str:
        assert text.count(old) == 1, f"the mutation site occurs {text.count(old)} times: {old!r}"
        return text.replace(old, new)

    return edit


def drop(start: str, end: str) -> Callable[[str], str]:
    """Removes the text from ``start`` (which must occur exactly once) up to the next ``end``."""

    def edit(text: str) -> str:
        assert text.count(start) == 1, f"the mutation site occurs {text.count(start)} times"
        at = text.index(start)
        stop = text.index(end, at)
        return text[:at] + text[stop:]

    return edit


@dataclass(frozen=True)
class Mutant:
    name: str
    fragment: str  # stem of the fragment the copy is made of
    edit: Callable[[str], str]
    caught_by: str  # "compile", "allow-list" or the scenario that must tell it apart


MUTANTS = [
    # The slip issue 18 tried by hand: an ok answer without full coverage is forwarded.
    Mutant(
        "ok-forwarded-without-full-coverage",
        ANONYMIZATION,
        swap(
            'if (answerStatus == "ok" &amp;&amp; covered &amp;&amp; hasBody) { return ""; }',
            'if (answerStatus == "ok" &amp;&amp; hasBody) { return ""; }',
        ),
        "ok-without-full-coverage",
    ),
    # Any 503 of the function counts as a success (the fragment then forwards what it cut out).
    Mutant(
        "503-treated-as-success",
        ANONYMIZATION,
        swap(
            'if (status == 413) { return "payload-too-large"; }',
            'if (status == 413) { return "payload-too-large"; }\n'
            '        if (status == 503) { return ""; }',
        ),
        "partial-fail-closed",
    ),
    # The fail-closed branch is gone: a blocked request is not answered with 503 by the gateway.
    Mutant(
        "fail-closed-branch-dropped",
        ANONYMIZATION,
        drop(
            "<choose>\n        <when condition='@((string)context.Variables"
            '["piiRedactionOutcome"] == "blocked")\'>',
            "</fragment>",
        ),
        "partial-fail-closed",
    ),
    # Fail-closed only when the tenant writes "false": the default lets failures through.
    Mutant(
        "fail-closed-default-inverted",
        ANONYMIZATION,
        swap(
            '<set-variable name="piiRedactionFailClosed" value=\'@(!string.Equals(',
            '<set-variable name="piiRedactionFailClosed" value=\'@(string.Equals(',
        ),
        "partial-fail-closed",
    ),
    # The body is cut out of the wrong field of the function's answer (the restore fragment's).
    Mutant(
        "redacted-body-read-from-the-wrong-field",
        ANONYMIZATION,
        swap('key == "redacted_body"', 'key == "restored_body"'),
        "ok",
    ),
    # A type APIM does not allow in policy expressions: compiles and runs on Mono, refused by APIM.
    Mutant(
        "type-not-on-the-allow-list",
        ANONYMIZATION,
        swap(
            'if (content.Trim().Length == 0) { return "empty"; }',
            'if (content.Trim().Length == 0) { return "empty"; }\n'
            '        if (System.IO.File.Exists("/etc/pii-redaction-off")) { return "disabled"; }',
        ),
        "allow-list",
    ),
    # A syntax error: a statement without its semicolon.
    Mutant(
        "syntax-error",
        ANONYMIZATION,
        swap(
            "bool escaped = false;\n                bool expectKey",
            "bool escaped = false\n                bool expectKey",
        ),
        "compile",
    ),
    # A value of the wrong type where the outcome is read (compiles; throws when played).
    Mutant(
        "outcome-cast-to-the-wrong-type",
        ANONYMIZATION,
        swap(
            'if ((bool)context.Variables["piiRedactionFailClosed"]) { return "blocked"; }',
            'if ((bool)context.Variables["piiRedactionFailureReason"]) { return "blocked"; }',
        ),
        "partial-fail-closed",
    ),
    # The restored body is cut out of the wrong field: the client keeps the placeholders.
    Mutant(
        "restored-body-read-from-the-wrong-field",
        DEANONYMIZATION,
        swap('key == "restored_body"', 'key == "redacted_body"'),
        "placeholder",
    ),
    # The restore request goes without the token: the function cannot restore.
    Mutant(
        "restore-token-not-sent",
        DEANONYMIZATION,
        swap(
            'request["restore_token"] = context.Variables.GetValueOrDefault&lt;string&gt;'
            '("piiRestoreToken");\n',
            "",
        ),
        "placeholder",
    ),
    # A syntax error in the outbound fragment: an unbalanced parenthesis.
    Mutant(
        "syntax-error-outbound",
        DEANONYMIZATION,
        swap(
            'if (token.Length == 0) { return "not-needed"; }',
            'if ((token.Length == 0) { return "not-needed"; }',
        ),
        "compile",
    ),
]


def documents_for(fragments: dict[str, Path]) -> Documents:
    return Documents.load(
        [fragments[stem] for stem in sorted(fragments)] + [TENANT_POLICY], NAMED_VALUES
    )


def mutated_copy(mutant: Mutant, directory: Path) -> dict[str, Path]:
    """The policy files with the mutant's fragment replaced by its broken copy."""
    original = ORIGINALS[mutant.fragment]
    text = original.read_text()
    broken = mutant.edit(text)
    assert broken != text
    copy = directory / original.name  # same stem: the tenant policy includes it by that id
    copy.write_text(broken)
    return {**ORIGINALS, mutant.fragment: copy}


# --- the scenarios --------------------------------------------------------------------------------


class Echo(Model):
    """A model that repeats the user's message (placeholders and all) in its answer."""

    async def __call__(self, request: Message) -> Message:
        said = json.loads(request.body or "")["messages"][1]["content"]
        reply = {"id": "chatcmpl-2", "choices": [{"message": {"content": f"You wrote: {said}"}}]}
        self.answer = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        return await super().__call__(request)


@dataclass(frozen=True)
class Seen:
    """What a scenario shows from outside the gateway."""

    forwarded: str | None  # the body the model got (None: the gateway answered itself)
    status: int
    body: str | None
    outcomes: tuple[str, str]  # x-pii-redaction-outcome, x-pii-restore-outcome ("" if absent)


@dataclass(frozen=True)
class Scenario:
    function: dict[str, Any] | None  # the served function's settings; None: the stand-in answers
    expect: Callable[[Seen], bool]  # what the correct fragment does, checked on every run
    settings: dict[str, str] = field(default_factory=dict)
    echo: bool = False


PARTIAL = {"pii_deadline_s": 1e-6, "pii_cache_enabled": False}
SCENARIOS = {
    "ok": Scenario({}, lambda seen: seen.forwarded == redacted_chat()),
    "ok-without-full-coverage": Scenario(
        None, lambda seen: seen.forwarded is None and seen.status == 503
    ),
    "partial-fail-closed": Scenario(
        PARTIAL, lambda seen: seen.forwarded is None and seen.status == 503
    ),
    "partial-fail-open": Scenario(
        PARTIAL,
        lambda seen: seen.forwarded == compact(CHAT) and seen.body == MODEL_ANSWER,
        {"piiFailClosed": "false"},
    ),
    "placeholder": Scenario(
        {"pii_restore_key": RESTORE_KEY},
        lambda seen: (
            "alice@example.com" not in (seen.forwarded or "alice@example.com")
            and "alice@example.com" in (seen.body or "")
            and seen.outcomes == ("redacted", "restored")
        ),
        {"piiMaskStyle": "placeholder"},
        echo=True,
    ),
}


async def function_for(
    scenario: Scenario, make_service: ServiceFactory, aiohttp_server: Any
) -> str:
    if scenario.function is not None:
        client = await make_service(
            pii_detector="local",
            redaction_api_key=FUNCTION_KEY,
            redaction_restore_api_key=RESTORE_FUNCTION_KEY,
            **scenario.function,
        )
        return str(client.server.make_url("")).rstrip("/")
    status, media, text = UNTRUSTED["ok-without-full-coverage"]

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=text, content_type=media)

    app = web.Application()
    app.router.add_post("/redact", answer)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


async def observe(
    documents: Documents, runner: Runner, function_url: str, scenario: Scenario
) -> Seen:
    player = gateway(documents, runner, function_url)
    model = Echo() if scenario.echo else Model()
    run, _ = await play(player, scenario.settings, model=model)
    outcomes = tuple(
        header(run.client, name) if name in {k.lower() for k in run.client.headers} else ""
        for name in ("x-pii-redaction-outcome", "x-pii-restore-outcome")
    )
    return Seen(
        None if run.forwarded is None else run.forwarded.body,
        run.client.status,
        run.client.body,
        (outcomes[0], outcomes[1]),
    )


# --- compiling ------------------------------------------------------------------------------------


def require_mono() -> None:
    missing = mono_missing()
    if missing:
        if os.environ.get("APIM_REQUIRE_MONO") == "1":
            pytest.fail(f"APIM_REQUIRE_MONO=1 but {missing}")
        pytest.skip(f"the APIM policy player needs Mono: {missing}")


def refusals(runner: Runner) -> list[str]:
    answer = runner.call("inspect")
    assert answer["ok"], answer
    return sorted({f"{r['in']}: {why}" for r in answer["references"] if (why := refused(r))})


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Documents], Runner]]:
    """Compiles a set of policy files and starts its runner; stops them all at the end."""
    require_mono()
    base = tmp_path_factory.mktemp("apim-mutants")
    started: list[Runner] = []

    def start(documents: Documents) -> Runner:
        workdir = workdir_for(documents, base)
        compile_policies(documents, workdir)
        runner = Runner(workdir)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.close()


@pytest.fixture(scope="module")
def correct(build: Callable[[Documents], Runner]) -> tuple[Documents, Runner]:
    documents = documents_for(ORIGINALS)
    runner = build(documents)
    assert refusals(runner) == []
    return documents, runner


# --- the tests ------------------------------------------------------------------------------------


def test_every_scenario_named_by_a_mutant_exists_and_the_names_are_unique() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    checks = {"compile", "allow-list", *SCENARIOS}
    assert {m.caught_by for m in MUTANTS} <= checks
    assert {m.fragment for m in MUTANTS} == set(ORIGINALS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
async def test_a_broken_copy_of_a_fragment_is_caught(
    mutant: Mutant,
    correct: tuple[Documents, Runner],
    build: Callable[[Documents], Runner],
    make_service: ServiceFactory,
    aiohttp_server: Any,
    tmp_path: Path,
) -> None:
    documents = documents_for(mutated_copy(mutant, tmp_path))
    if mutant.caught_by == "compile":
        with pytest.raises(PolicyError, match=r"error CS\d+"):
            build(documents)
        return
    runner = build(documents)  # a PolicyError here fails the test: caught, but not as declared

    problems = refusals(runner)
    if mutant.caught_by == "allow-list":
        assert problems, f"{mutant.name} passed the allow-list check"
        assert any("System.IO.File is not on APIM's allow-list" in p for p in problems), problems
        return
    assert problems == [], problems

    scenario = SCENARIOS[mutant.caught_by]
    url = await function_for(scenario, make_service, aiohttp_server)
    expected = await observe(*correct, url, scenario)
    assert scenario.expect(expected), f"the correct fragment in {mutant.caught_by}: {expected}"
    try:
        seen = await observe(documents, runner, url, scenario)
    except PolicyError:
        return  # an expression threw, or returned what its place cannot take: the suite fails
    assert seen != expected, f"{mutant.name} behaves as the correct fragment in {mutant.caught_by}"
    assert not scenario.expect(seen), seen


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_the_correct_fragments_pass_every_scenario(
    name: str,
    correct: tuple[Documents, Runner],
    make_service: ServiceFactory,
    aiohttp_server: Any,
) -> None:
    scenario = SCENARIOS[name]
    url = await function_for(scenario, make_service, aiohttp_server)
    seen = await observe(*correct, url, scenario)
    assert scenario.expect(seen), seen
