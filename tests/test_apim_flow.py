"""The APIM fragments, run: every policy expression compiled and the inbound/outbound flow played.

tests/apim/player.py compiles every ``@(...)`` and ``@{...}`` of apim/fragments/*.xml and
apim/tenant-policy.example.xml with Mono against a model of APIM's documented context, checks
that the compiled code uses only types and members on APIM's allow-list, and plays the tenant
policy (and through it both fragments) against the served function: ``send-request`` is real
HTTP to ``python -m redaction serve``'s app on the embedded detector and on the Azure path
(Language emulator). Each scenario asserts what APIM forwards to the backend, byte for byte, and
what the client gets, with the gateway's trace.

The player is a model of the gateway for this policy subset, not the gateway: docs/apim.md says
what it does not model. Without Mono these tests skip (CI installs it and sets
APIM_REQUIRE_MONO=1, which turns the skip into a failure).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.apim.player import (
    FRAGMENTS,
    FUNCTION_ORIGIN,
    NAMED_VALUES,
    TENANT_POLICY,
    Documents,
    Message,
    Player,
    Run,
    Runner,
    compile_policies,
    mono_missing,
    workdir_for,
)
from tests.conftest import EMULATOR_KEY, Emulator, ServiceFactory

pytestmark = pytest.mark.server

FUNCTION_KEY = NAMED_VALUES["piiRedactionFunctionKey"]
RESTORE_FUNCTION_KEY = NAMED_VALUES["piiRestoreFunctionKey"]
RESTORE_KEY = base64.b64encode(b"apim-player-restore-key-32-bytes").decode()
REQUEST_ID = "6f1c1a5e-4a44-4f57-9d1e-0c8e3c2b9a10"
SUBSCRIPTION = "sub-tenant-a"
TENANT = TENANT_POLICY.stem

# The chat request a client sends through the gateway, as bytes on the wire (the spacing and key
# order are the client's; what is not personal data must reach the model exactly so).
CHAT = (
    '{"model": "gpt-4o", "temperature": 0.2,\n'
    ' "messages": [{"role": "system", "content": "Be brief."},\n'
    '  {"role": "user", "content": "My email is alice@example.com and my SSN is 123-45-6789"}]}'
)
EMAIL_MASK = "#" * len("alice@example.com")
SSN_MASK = "#" * len("123-45-6789")
MODEL_ANSWER = '{"id": "chatcmpl-1", "choices": [{"message": {"content": "Noted."}}]}'


def names(text: str) -> list[str]:
    return text.split()


# --- APIM's allow-list ----------------------------------------------------------------------------
# Source: "API Management policy expressions", section ".NET Framework types allowed in policy
# expressions", https://learn.microsoft.com/azure/api-management/api-management-policy-expressions
# (MicrosoftDocs/azure-docs, articles/api-management/api-management-policy-expressions.md).
# Type -> "All" or the members listed there. The System.Security.Cryptography, X509 and
# System.Xml.Linq rows are left out (the fragments use none; add the row from the source first).


ALLOWED: dict[str, str | frozenset[str]] = {
    "Newtonsoft.Json.Formatting": "All",
    "Newtonsoft.Json.JsonConvert": frozenset({"SerializeObject", "DeserializeObject"}),
    **{
        f"Newtonsoft.Json.Linq.{name}": "All"
        for name in names(
            "Extensions JArray JConstructor JContainer JObject JProperty JRaw JToken "
            "JTokenType JValue"
        )
    },
    **{
        f"System.Collections.Generic.{name}": "All"
        for name in names(
            "Dictionary`2 HashSet`1 ICollection`1 IDictionary`2 IEnumerable`1 IEnumerator`1 "
            "IList`1 IReadOnlyCollection`1 IReadOnlyDictionary`2 ISet`1 KeyValuePair`2 "
            "List`1 Queue`1 Stack`1"
        )
    },
    **{
        f"System.{name}": "All"
        for name in names(
            "Array BitConverter Boolean Byte Char Convert DateTimeOffset Decimal Double "
            "Exception Guid Int16 Int32 Int64 Math MidpointRounding Nullable Random SByte "
            "Single String StringComparer StringComparison StringSplitOptions TimeSpan "
            "TimeZone TimeZoneInfo Tuple UInt16 UInt32 UInt64 Uri UriPartial"
        )
    },
    "System.DateTime": frozenset(
        names(
            "(Constructor) Add AddDays AddHours AddMilliseconds AddMinutes AddMonths "
            "AddSeconds AddTicks AddYears Date Day DayOfWeek DayOfYear DaysInMonth Hour "
            "IsDaylightSavingTime IsLeapYear MaxValue Millisecond Minute MinValue Month Now "
            "Parse Second Subtract Ticks TimeOfDay Today ToString UtcNow Year"
        )
    ),
    "System.DateTimeKind": frozenset({"Utc"}),
    "System.IO.StringReader": "All",
    "System.IO.StringWriter": "All",
    "System.Linq.Enumerable": "All",
    "System.Net.IPAddress": "All",
    "System.Net.WebUtility": "All",
    "System.Text.Encoding": "All",
    "System.Text.StringBuilder": "All",
    "System.Text.RegularExpressions.Capture": frozenset({"Index", "Length", "Value"}),
    "System.Text.RegularExpressions.CaptureCollection": frozenset({"Count", "Item"}),
    "System.Text.RegularExpressions.Group": frozenset({"Captures", "Success"}),
    "System.Text.RegularExpressions.GroupCollection": frozenset({"Count", "Item"}),
    "System.Text.RegularExpressions.Match": frozenset({"Empty", "Groups", "Result"}),
    "System.Text.RegularExpressions.Regex": frozenset(
        {"(Constructor)", "IsMatch", "Match", "Matches", "Replace", "Unescape", "Split"}
    ),
    "System.Text.RegularExpressions.RegexOptions": "All",
}
# What the C# language itself brings, not listed in the table because no expression could work
# without it: object's members (ToString on any value), and the delegate a lambda compiles to.
LANGUAGE: dict[str, frozenset[str]] = {
    "System.Object": frozenset({"ToString", "Equals", "GetHashCode"}),
    "System.Func`2": frozenset({".ctor"}),
}
# Emitted by the compiler, never named in an expression: the empty `params JsonConverter[]` of
# JToken.ToString(Formatting, params JsonConverter[]) is Array.Empty<JsonConverter>().
PARAMS_ARRAYS = frozenset({"Newtonsoft.Json.JsonConverter"})
# The documented context (tests/apim/context.cs declares these and nothing else the expressions
# may touch; the implementations behind them are the runner's).
CONTEXT_TYPES = frozenset(
    {"IProxyRequestContext", "IRequest", "IResponse", "IMessageBody", "ISubscription", "IUrl"}
)
CONTEXT_EXTENSIONS = frozenset({"ApimExtensions"})
# set-variable's documented result types (set-variable policy reference, "Allowed types"), and
# what the fragments store beyond them: JObject, as Microsoft's and many tenants' policies do
# (<set-variable value="@(context.Request.Body.As<JObject>(preserveContent: true))" />) though
# the list does not name it. Only a deployment shows whether a gateway refuses it.
SET_VARIABLE_TYPES = frozenset(
    f"System.{name}"
    for name in names(
        "Boolean SByte SByte[] Byte Byte[] UInt16 UInt32 UInt64 Int16 Int32 Int64 "
        "Decimal Single Double Guid String Char DateTime TimeSpan"
    )
)
SET_VARIABLE_BEYOND_THE_LIST = frozenset({"Newtonsoft.Json.Linq.JObject"})
# An operator is the documented member it stands for.
OPERATORS = {"op_Subtraction": "Subtract", "op_Addition": "Add"}


def member_name(member: str) -> str:
    if member == ".ctor":
        return "(Constructor)"
    if member.startswith(("get_", "set_")):
        return member[4:]
    return OPERATORS.get(member, member)


def refused(reference: dict[str, Any]) -> str | None:
    """Why one reference of the compiled code is not allowed in APIM, or None."""
    kind, member, role = reference["type"], reference["member"], reference["role"]
    if reference.get("assembly") == "Expressions":
        return None  # the expressions' own lambdas and their caches
    if reference.get("assembly") == "Context":
        if kind in CONTEXT_TYPES | CONTEXT_EXTENSIONS:
            return None
        return f"{kind} is the model's implementation, not APIM's documented context"
    if role == "params-array" and kind in PARAMS_ARRAYS:
        return None
    if kind in LANGUAGE and (member is None or member in LANGUAGE[kind]):
        return None
    allowed = ALLOWED.get(kind)
    if allowed is None:
        return f"{kind} is not on APIM's allow-list"
    if member is None or allowed == "All" or member_name(member) in allowed:
        return None
    return f"{kind}.{member} is not among the allowed members {sorted(allowed)}"


# --- compiling ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def documents() -> Documents:
    return Documents.load([*FRAGMENTS, TENANT_POLICY], NAMED_VALUES)


@pytest.fixture(scope="session")
def runner(documents: Documents, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    missing = mono_missing()
    if missing:
        if os.environ.get("APIM_REQUIRE_MONO") == "1":
            pytest.fail(f"APIM_REQUIRE_MONO=1 but {missing}")
        pytest.skip(f"the APIM policy player needs Mono: {missing}")
    workdir = workdir_for(documents, tmp_path_factory.mktemp("apim"))
    compile_policies(documents, workdir)
    process = Runner(workdir)
    yield process
    process.close()


def test_every_expression_of_every_policy_file_is_compiled(documents: Documents) -> None:
    sources = {e.source for e in documents.expressions}
    assert sources == {path.name for path in [*FRAGMENTS, TENANT_POLICY]}
    for path in [*FRAGMENTS, TENANT_POLICY]:
        # Every "@(" or "@{" that opens an attribute value or an element's text is one expression.
        raw = path.read_text()
        opened = len(re.findall(r"""=\s*["']\s*@[({]""", raw)) + len(re.findall(r">\s*@[({]", raw))
        assert opened == sum(e.source == path.name for e in documents.expressions), path.name


def test_compiled_expressions_use_only_what_apim_allows(runner: Runner) -> None:
    answer = runner.call("inspect")
    assert answer["ok"], answer
    references = answer["references"]
    assert any(r["type"] == "Newtonsoft.Json.Linq.JObject" for r in references)
    problems = sorted({f"{r['in']}: {why}" for r in references if (why := refused(r))})
    assert not problems, "\n".join(problems)


def test_the_allow_list_check_refuses_what_apim_refuses() -> None:
    def ref(kind: str, member: str | None, role: str = "member") -> dict[str, Any]:
        return {"type": kind, "member": member, "role": role, "assembly": "mscorlib"}

    assert refused(ref("System.IO.File", "ReadAllText"))
    assert refused(ref("System.Environment", "GetEnvironmentVariable"))
    assert refused(ref("System.DateTime", "get_DayOfWeek")) is None
    assert refused(ref("System.DateTime", "ToFileTime"))
    assert refused(ref("System.Text.RegularExpressions.Regex", "Escape"))
    assert refused(ref("Newtonsoft.Json.JsonConverter", None, "type"))
    assert refused({**ref("Context", "get_VariableValues"), "assembly": "Context"})


def test_the_player_models_every_element_the_policies_use(documents: Documents) -> None:
    from tests.apim.player import MODELLED

    structural = {"policies", "inbound", "backend", "outbound", "on-error", "fragment", "when"}
    structural |= {"otherwise", "set-url", "set-method", "value", "set-status", "message"}
    structural |= {"metadata"}
    used = {element.tag for root in documents.roots.values() for element in root.iter()}
    assert used - structural <= MODELLED, used - structural - MODELLED


# --- the served function and the gateway around it -----------------------------------------------


@pytest.fixture(params=names("embedded azure"))
def detector(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def function(detector: str, make_service: ServiceFactory, emulator: Emulator) -> Any:
    """Starts the function on the detector, with the key APIM sends; returns a starter."""

    async def start(**settings: Any) -> str:
        keys = {
            "redaction_api_key": FUNCTION_KEY,
            "redaction_restore_api_key": RESTORE_FUNCTION_KEY,
        }
        settings = {**keys, **settings}
        if detector == "embedded":
            client = await make_service(pii_detector="local", **settings)
        else:
            client = await make_service(
                language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, **settings
            )
        return str(client.server.make_url("")).rstrip("/")

    return start


def gateway(documents: Documents, runner: Runner, function_url: str) -> Player:
    return Player(documents, runner, {FUNCTION_ORIGIN: function_url}, send_timeout_scale=0.01)


class Model:
    """The backend behind the gateway: records what it gets and answers like a chat model."""

    def __init__(self, answer: str = MODEL_ANSWER) -> None:
        self.answer = answer
        self.received: list[Message] = []

    async def __call__(self, request: Message) -> Message:
        self.received.append(request)
        return Message(
            status=200,
            headers={"Content-Type": ["application/json; charset=utf-8"]},
            body=self.answer,
        )


async def play(
    player: Player,
    settings: dict[str, str] | None = None,
    body: str = CHAT,
    model: Model | None = None,
) -> tuple[Run, Model]:
    model = model or Model()
    request = Message(
        method="POST",
        headers={"Content-Type": ["application/json"], "x-conversation-id": ["conv-1"]},
        body=body,
    )
    run = await player.play(
        TENANT,
        request,
        model,
        request_id=REQUEST_ID,
        subscription_id=SUBSCRIPTION,
        settings=settings or {},
    )
    for name, value in run.variables.items():
        if value["by"] == "set-variable":
            allowed = SET_VARIABLE_TYPES | SET_VARIABLE_BEYOND_THE_LIST | {"null"}
            assert value["type"] in allowed, f"set-variable {name} holds a {value['type']}"
    return run, model


def header(message: Message, name: str) -> str:
    found = {k.lower(): v for k, v in message.headers.items()}
    return ",".join(found[name.lower()])


def assert_trace(run: Run, severity: str, **dimensions: str) -> None:
    trace = run.trace("pii-anonymization")
    assert trace["severity"] == severity
    assert trace["message"] == "pii-redaction"
    metadata = trace["metadata"]
    assert metadata["correlation_id"] == REQUEST_ID
    assert metadata["subscription_id"] == SUBSCRIPTION
    for name, value in dimensions.items():
        assert metadata[name] == value, (name, metadata)
    # Counts and reasons only: no body, no token, nothing personal.
    text = json.dumps(run.traces)
    for secret in ("alice@example.com", "123-45-6789", "restore_token", "Be brief."):
        assert secret not in text


def assert_blocked(run: Run, model: Model, reason: str) -> None:
    assert run.forwarded is None
    assert model.received == []
    assert run.client.status == 503
    assert header(run.client, "Content-Type") == "application/json"
    assert json.loads(run.client.body or "") == {
        "error": {
            "code": "PiiRedactionFailed",
            "type": "pii_redaction_failed",
            "message": (
                "The request was not forwarded because its personal data could not be redacted."
            ),
            "failure_reason": reason,
            "request_id": REQUEST_ID,
        }
    }
    assert_trace(run, "error", outcome="blocked", failure_reason=reason, fail_closed="true")


def redacted_chat() -> str:
    """CHAT as the function gives it back: masked, in the function's own serialization."""
    body = json.loads(CHAT)
    body["messages"][1]["content"] = f"My email is {EMAIL_MASK} and my SSN is {SSN_MASK}"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# --- the scenarios --------------------------------------------------------------------------------


async def test_tenant_off_forwards_the_original_without_calling_the_function(
    documents: Documents, runner: Runner, function: Any
) -> None:
    player = gateway(documents, runner, await function())
    run, model = await play(player, {"piiAnonymizationEnabled": "false"})
    assert run.exchanges == []
    assert run.forwarded is not None
    assert run.forwarded.body == CHAT
    assert model.received == [run.forwarded]
    assert run.client.status == 200
    assert run.client.body == MODEL_ANSWER
    assert header(run.client, "x-pii-redaction-outcome") == "disabled"
    assert header(run.client, "x-pii-restore-outcome") == "not-needed"
    assert_trace(run, "information", outcome="disabled", failure_reason="", http_status="0")


async def test_ok_forwards_the_redacted_body(
    documents: Documents, runner: Runner, function: Any, detector: str
) -> None:
    player = gateway(documents, runner, await function())
    run, model = await play(player)
    (call,) = run.exchanges
    # What the gateway sent to the function: the body as the client sent it, and the config.
    assert call.url == FUNCTION_ORIGIN + "/redact"
    assert call.headers["x-functions-key"] == [FUNCTION_KEY]
    assert call.headers["x-pii-caller"] == ["apim/pii-anonymization"]  # the audit's caller
    assert call.body == (
        '{"body":' + CHAT + ',"config":{"fail_closed":true,"excluded_categories":["PersonType"],'
        '"detection_language":"en","scan_roles":["user","assistant","tool"],'
        f'"conversation_id":"conv-1","correlation_id":"{REQUEST_ID}",'
        f'"subscription_id":"{SUBSCRIPTION}"}}}}'
    )
    assert call.response is not None
    assert call.response.status == 200
    assert run.forwarded is not None
    assert run.forwarded.body == redacted_chat()
    assert model.received == [run.forwarded]
    assert run.client.status == 200
    assert run.client.body == MODEL_ANSWER
    assert header(run.client, "x-pii-redaction-outcome") == "redacted"
    assert_trace(
        run,
        "information",
        outcome="redacted",
        failure_reason="",
        fail_closed="true",
        http_status="200",
        status="ok",
        full_coverage="true",
        entity_count="2",
        total_docs="1",
        unscanned_docs="0",
        detector="local" if detector == "embedded" else "azure",
        categories='{"Email":1,"USSocialSecurityNumber":1}',
    )
    assert run.trace("pii-deanonymization")["metadata"]["outcome"] == "not-needed"


def compact(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))


async def partial_function(function: Any, detector: str, emulator: Emulator) -> tuple[str, str]:
    """A function whose answer leaves a document unscanned, and the reason it gives."""
    # No detection cache: an earlier test's findings for the same text must not cover it.
    if detector == "embedded":
        return await function(pii_deadline_s=1e-6, pii_cache_enabled=False), "deadline"
    await emulator.inject({"kind": "document_error", "times": None})
    return await function(pii_cache_enabled=False), "document-error"


async def test_partial_fail_open_forwards_the_partial_redacted_body(
    documents: Documents, runner: Runner, function: Any, detector: str, emulator: Emulator
) -> None:
    url, reason = await partial_function(function, detector, emulator)
    run, model = await play(gateway(documents, runner, url), {"piiFailClosed": "false"})
    (call,) = run.exchanges
    assert call.response is not None
    answer = json.loads(call.response.body or "")
    assert (answer["status"], answer["full_coverage"]) == ("partial", False)
    assert run.forwarded is not None
    # The partial answer's redacted_body, as the function wrote it: on the Azure path what Language
    # could not scan was read by the embedded detector (fail-soft); the embedded detector that ran
    # out of time left its unscanned text unmasked.
    expected = compact(CHAT) if detector == "embedded" else redacted_chat()
    assert answer["diagnostics"]["fallback_docs"] == (0 if detector == "embedded" else 1)
    assert run.forwarded.body == expected
    assert model.received == [run.forwarded]
    assert run.client.body == MODEL_ANSWER
    assert header(run.client, "x-pii-redaction-outcome") == "forwarded-partial"
    assert_trace(
        run,
        "error",
        outcome="forwarded-partial",
        failure_reason=f"service-error: {reason}",
        fail_closed="false",
        http_status="200",
        status="partial",
        full_coverage="false",
        unscanned_docs="1",
    )


async def test_partial_fail_closed_answers_503_itself(
    documents: Documents, runner: Runner, function: Any, detector: str, emulator: Emulator
) -> None:
    url, reason = await partial_function(function, detector, emulator)
    run, model = await play(gateway(documents, runner, url))
    (call,) = run.exchanges
    assert call.response is not None
    assert call.response.status == 503
    assert json.loads(call.response.body or "")["error"]["code"] == "PiiRedactionFailed"
    assert_blocked(run, model, f"service-error: {reason}")


@pytest.mark.parametrize("fail_closed", names("true false"))
async def test_413_blocks_or_forwards_the_original(
    documents: Documents, runner: Runner, function: Any, fail_closed: str
) -> None:
    body = CHAT.replace("Be brief.", "Be brief. " * 120)
    assert len(body.encode()) > 1024
    player = gateway(documents, runner, await function(pii_max_body_bytes=1024))
    run, model = await play(player, {"piiFailClosed": fail_closed}, body=body)
    (call,) = run.exchanges
    assert call.response is not None
    assert call.response.status == 413
    if fail_closed == "true":
        assert_blocked(run, model, "payload-too-large")
        return
    assert run.forwarded is not None
    assert run.forwarded.body == body  # the original, byte for byte
    assert run.client.body == MODEL_ANSWER
    assert header(run.client, "x-pii-redaction-outcome") == "forwarded-original"
    assert_trace(run, "error", outcome="forwarded-original", failure_reason="payload-too-large")


async def test_a_503_that_is_not_a_redaction_failure_blocks_with_its_status(
    documents: Documents, runner: Runner, function: Any
) -> None:
    # Placeholder mode on a function without PII_RESTORE_KEY: 503 ServiceMisconfigured.
    player = gateway(documents, runner, await function())
    run, model = await play(player, {"piiMaskStyle": "placeholder"})
    (call,) = run.exchanges
    assert call.response is not None
    assert call.response.status == 503
    assert json.loads(call.response.body or "")["error"]["code"] == "ServiceMisconfigured"
    assert_blocked(run, model, "http-503")


@pytest.fixture
async def silent_origin() -> AsyncIterator[str]:
    """A server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_no_response_in_time_blocks(
    documents: Documents, runner: Runner, silent_origin: str
) -> None:
    # timeout="90" played at 0.01 x: the gateway gives up after 0.9 s, ignore-error leaves null.
    run, model = await play(gateway(documents, runner, silent_origin))
    (call,) = run.exchanges
    assert call.response is None
    assert call.error == "TimeoutError"
    assert_blocked(run, model, "no-response")
    assert run.trace("pii-anonymization")["metadata"]["http_status"] == "0"


async def test_no_response_fail_open_forwards_the_original(
    documents: Documents, runner: Runner, unused_tcp_port: int
) -> None:
    refused = f"http://127.0.0.1:{unused_tcp_port}"  # nothing listens: connection refused
    run, _ = await play(gateway(documents, runner, refused), {"piiFailClosed": "false"})
    (call,) = run.exchanges
    assert call.response is None
    assert run.forwarded is not None
    assert run.forwarded.body == CHAT
    assert header(run.client, "x-pii-redaction-outcome") == "forwarded-original"
    assert_trace(run, "error", outcome="forwarded-original", failure_reason="no-response")


# Answers a function (or what stands in front of it) must not be trusted with.
UNTRUSTED = {
    "html": (200, "text/html", "<html><body>Bad Gateway</body></html>"),
    "ok-without-full-coverage": (
        200,
        "application/json",
        '{"status":"ok","full_coverage":false,"redacted_body":{"messages":[]}}',
    ),
    "ok-with-coverage-as-a-string": (
        200,
        "application/json",
        '{"status":"ok","full_coverage":"true","redacted_body":{"messages":[]}}',
    ),
    "ok-without-redacted-body": (200, "application/json", '{"status":"ok","full_coverage":true}'),
}


@pytest.mark.parametrize("case", sorted(UNTRUSTED))
async def test_an_answer_that_is_not_a_valid_redaction_blocks(
    documents: Documents, runner: Runner, aiohttp_server: Any, case: str
) -> None:
    status, media, text = UNTRUSTED[case]

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=text, content_type=media)

    app = web.Application()
    app.router.add_post("/redact", answer)
    server = await aiohttp_server(app)
    run, model = await play(gateway(documents, runner, str(server.make_url("")).rstrip("/")))
    assert_blocked(run, model, "service-error: invalid-response")


async def test_placeholder_mode_carries_the_token_and_restores_the_answer(
    documents: Documents, runner: Runner, function: Any
) -> None:
    player = gateway(documents, runner, await function(pii_restore_key=RESTORE_KEY))

    def answer_for(forwarded: str) -> str:
        said = json.loads(forwarded)["messages"][1]["content"]
        reply = {"id": "chatcmpl-2", "choices": [{"message": {"content": f"You wrote: {said}"}}]}
        return json.dumps(reply, ensure_ascii=False, separators=(",", ":"))

    class Echo(Model):
        async def __call__(self, request: Message) -> Message:
            self.answer = answer_for(request.body or "")
            return await super().__call__(request)

    run, model = await play(player, {"piiMaskStyle": "placeholder"}, model=Echo())
    redact, restore = run.exchanges
    assert '"mask_style":"placeholder"' in redact.body
    assert redact.response is not None
    token = json.loads(redact.response.body or "")["restore_token"]
    assert run.forwarded is not None
    forwarded = json.loads(run.forwarded.body or "")
    content = forwarded["messages"][1]["content"]
    placeholders = re.findall(r"<\w+_\d+>", content)
    assert len(placeholders) == 2
    assert "alice@example.com" not in (run.forwarded.body or "")
    # The token travelled in piiRestoreToken from inbound to outbound, bound to this request.
    assert restore.url == FUNCTION_ORIGIN + "/restore"
    assert restore.headers["x-functions-key"] == [RESTORE_FUNCTION_KEY]
    assert restore.headers["x-pii-caller"] == ["apim/pii-deanonymization"]
    sent = json.loads(restore.body)
    assert sent["restore_token"] == token
    assert sent["config"] == {"correlation_id": REQUEST_ID, "subscription_id": SUBSCRIPTION}
    assert sent["body"] == json.loads(model.answer)
    # The client gets the model's answer with the originals back, byte for byte.
    expected = model.answer
    for placeholder, original in zip(
        placeholders, names("alice@example.com 123-45-6789"), strict=True
    ):
        expected = expected.replace(placeholder, original)
    assert run.client.status == 200
    assert run.client.body == expected
    assert header(run.client, "x-pii-restore-outcome") == "restored"
    assert header(run.client, "x-pii-redaction-outcome") == "redacted"
    assert run.trace("pii-deanonymization")["metadata"] == {
        "correlation_id": REQUEST_ID,
        "outcome": "restored",
    }
    assert_trace(run, "information", outcome="redacted")
    assert token not in json.dumps(run.traces)


TRUNCATED = '{"messages": [{"role": "user", "content": "My email is alice@example.com"'
MULTIPART = '--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nalice@example.com\r\n--b--'


@pytest.mark.parametrize(
    ("body", "reason", "calls"),
    [(TRUNCATED, "http-400", 1), (MULTIPART, "unsupported-body", 0)],
    ids=names("truncated-json multipart"),
)
@pytest.mark.parametrize("fail_closed", names("true false"))
async def test_a_body_apim_cannot_parse(
    documents: Documents,
    runner: Runner,
    function: Any,
    body: str,
    reason: str,
    calls: int,
    fail_closed: str,
) -> None:
    player = gateway(documents, runner, await function())
    run, model = await play(player, {"piiFailClosed": fail_closed}, body=body)
    assert len(run.exchanges) == calls
    if calls:
        (call,) = run.exchanges
        assert call.body.startswith('{"body":' + TRUNCATED + ',"config":')
        assert call.response is not None
        assert call.response.status == 400
    if fail_closed == "true":
        assert_blocked(run, model, reason)
        return
    assert run.forwarded is not None
    assert run.forwarded.body == body
    assert header(run.client, "x-pii-redaction-outcome") == "forwarded-original"
    assert_trace(run, "error", outcome="forwarded-original", failure_reason=reason)
