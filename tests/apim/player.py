"""A player for the APIM policy subset the fragments use (tests only, never shipped).

API Management cannot run here. This walks a policy document the way the gateway does, in order:
``set-variable``, ``choose``/``when``/``otherwise``, ``send-request`` (with ``set-url``,
``set-method``, ``set-header``, ``set-body``), ``set-body``, ``set-header``, ``return-response``
(with ``set-status``), ``trace``, ``include-fragment`` and ``base``. Every policy expression is
compiled with Mono's C# compiler against a model of APIM's documented context
(``tests/apim/context.cs``) and evaluated in one Mono process that holds the context
(``tests/apim/runner.cs``); ``send-request`` is real HTTP. What it records: what APIM would
forward to the backend, what the client gets, the traces, each ``send-request`` exchange and the
final variables. Any other element is refused (``NotModelled``), so a policy that grows past the
subset fails loudly instead of being skipped. docs/apim.md lists what is not modelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FRAGMENTS = sorted((ROOT / "apim" / "fragments").glob("*.xml"))
TENANT_POLICY = ROOT / "apim" / "tenant-policy.example.xml"

# Named values are substituted into the policy text before anything is compiled, as APIM does.
# The function's URL is a fixed origin that send-request routes to the served app (its port
# changes from test to test; the compiled expressions do not). The trailing slash is deliberate:
# the fragments must trim it.
FUNCTION_ORIGIN = "https://pii-function.apim.test"
NAMED_VALUES = {
    "piiRedactionFunctionUrl": FUNCTION_ORIGIN + "/",
    "piiRedactionFunctionKey": "apim-player-function-key",
    "piiRestoreFunctionKey": "apim-player-restore-key",
}
# Namespaces an APIM expression sees without a using (the documented examples use Regex,
# Encoding, JObject and LINQ unqualified).
USINGS = (
    "System",
    "System.Collections.Generic",
    "System.Linq",
    "System.Text",
    "System.Text.RegularExpressions",
    "Newtonsoft.Json.Linq",
)
MODELLED = frozenset(
    {
        "base",
        "set-variable",
        "choose",
        "send-request",
        "set-body",
        "set-header",
        "return-response",
        "trace",
        "include-fragment",
    }
)


PACKAGES = "mono-mcs mono-runtime libnewtonsoft-json-cil-dev"


class NotModelled(AssertionError):
    """The policy uses an element or attribute the player does not model."""


class PolicyError(AssertionError):
    """A policy expression threw, or returned a type its place cannot take."""


def mono_missing() -> str | None:
    """Why the player cannot run here, or None."""
    for tool in ("mcs", "mono"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install {PACKAGES})"
    try:
        newtonsoft()
    except PolicyError as error:
        return str(error)
    return None


def is_expression(value: str | None) -> bool:
    return value is not None and value.strip().startswith(("@(", "@{"))


@dataclass
class Expression:
    id: int
    source: str  # file name
    element: str  # tag and name, for messages
    where: str  # "@attribute" or "text"
    code: str


@dataclass
class Documents:
    """The policy files with their named values substituted, and every expression in them."""

    roots: dict[str, ET.Element] = field(default_factory=dict)
    expressions: list[Expression] = field(default_factory=list)
    ids: dict[tuple[int, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: list[Path], named_values: dict[str, str]) -> Documents:
        documents = cls()
        for path in paths:
            text = path.read_text()
            for name, value in named_values.items():
                text = text.replace("{{" + name + "}}", value)
            leftover = re.findall(r"\{\{([\w.-]+)\}\}", text)
            assert not leftover, f"named values without a value in {path.name}: {leftover}"
            root = ET.fromstring(text)
            documents.roots[path.stem] = root
            for element in root.iter():
                label = element.tag + "".join(
                    f" {k}={element.attrib[k]!r}"
                    for k in ("name", "fragment-id")
                    if k in element.attrib
                )
                places = [(f"@{k}", v) for k, v in element.attrib.items() if is_expression(v)]
                if is_expression(element.text) and not len(element):
                    places.append(("text", (element.text or "").strip()))
                for where, code in places:
                    expression = Expression(
                        len(documents.expressions), path.name, label, where, code
                    )
                    documents.expressions.append(expression)
                    documents.ids[(id(element), where)] = expression.id
        return documents

    def csharp(self) -> str:
        lines = [f"using {namespace};" for namespace in USINGS]
        lines.append("public static class Expressions {")
        for expression in self.expressions:
            code = expression.code.strip()
            body = code[2:-1] if code.startswith("@{") else f"return {code[1:]};"
            lines.append(f"    // {expression.source}: <{expression.element}> {expression.where}")
            lines.append(
                f"    public static object E{expression.id}(IProxyRequestContext context) {{"
            )
            lines.append(f"        {body}")
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _mcs(*args: str) -> None:
    done = subprocess.run(
        ["mcs", "-nologo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise PolicyError(f"mcs {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def newtonsoft() -> Path:
    """Newtonsoft.Json.dll as Debian installs it for Mono (libnewtonsoft-json5.0-cil)."""
    found = sorted(Path("/usr/lib/cli").glob("Newtonsoft.Json-*/Newtonsoft.Json.dll"))
    found += sorted(Path("/usr/lib/mono/gac/Newtonsoft.Json").glob("*/Newtonsoft.Json.dll"))
    if not found:
        raise PolicyError(
            "Newtonsoft.Json.dll not found (apt-get install libnewtonsoft-json-cil-dev)"
        )
    return found[0]


def compile_policies(documents: Documents, workdir: Path) -> Path:
    """Context.dll, Expressions.dll and Runner.exe in workdir; the path of Expressions.dll."""
    workdir.mkdir(parents=True, exist_ok=True)
    refs = ["-r:System.Core", f"-r:{newtonsoft()}"]
    context = workdir / "Context.dll"
    _mcs("-target:library", f"-out:{context}", *refs, str(HERE / "context.cs"))
    source = workdir / "Expressions.cs"
    source.write_text(documents.csharp())
    assembly = workdir / "Expressions.dll"
    _mcs("-target:library", f"-out:{assembly}", *refs, f"-r:{context}", str(source))
    runner = workdir / "Runner.exe"
    _mcs(f"-out:{runner}", *refs, f"-r:{context}", str(HERE / "runner.cs"))
    return assembly


class Runner:
    """The Mono process that holds the context and evaluates the compiled expressions."""

    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            ["mono", str(workdir / "Runner.exe"), str(workdir / "Expressions.dll")],
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the Mono runner stopped (exit {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Message:
    """A request or response as the player sees it; the body is text."""

    status: int = 200
    reason: str = "OK"
    method: str = "POST"
    url: str = "https://gateway.test/openai/deployments/gpt/chat/completions"
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Exchange:
    """One send-request: what the gateway sent and what came back (None: no response)."""

    variable: str
    url: str
    method: str
    headers: dict[str, list[str]]
    body: str
    response: Message | None
    error: str | None = None


@dataclass
class Run:
    forwarded: Message | None  # what the backend got (None: the gateway answered itself)
    client: Message  # what the client got
    traces: list[dict[str, Any]]
    exchanges: list[Exchange]
    variables: dict[str, dict[str, Any]]  # name -> {"type", "text", "by"} as last set

    def trace(self, source: str) -> dict[str, Any]:
        (found,) = [t for t in self.traces if t["source"] == source]
        return found


Backend = Callable[[Message], Awaitable[Message]]


class ReturnResponse(Exception):
    """return-response: the pipeline stops here."""


@dataclass
class Player:
    documents: Documents
    runner: Runner
    routes: dict[str, str]  # origin in the policy -> base URL of the served app
    send_timeout_scale: float = 1.0  # send-request timeout="90" waits 90 s x this

    async def play(
        self,
        policy: str,
        request: Message,
        backend: Backend,
        *,
        request_id: str = "6f1c1a5e-4a44-4f57-9d1e-0c8e3c2b9a10",
        subscription_id: str | None = "sub-tenant-a",
        settings: dict[str, str] | None = None,
    ) -> Run:
        """Plays ``policy`` for one request; ``settings`` replace literal set-variable values of
        the policy itself (a tenant's copy of the example with its settings block edited)."""
        root = self.documents.roots[policy]
        literals = {
            e.attrib["name"]
            for e in root.iter("set-variable")
            if not is_expression(e.attrib.get("value"))
        }
        assert set(settings or {}) <= literals, (
            f"not literal settings: {set(settings or {}) - literals}"
        )
        self.settings = {
            id(e): (settings or {})[e.attrib["name"]]
            for e in root.iter("set-variable")
            if e.attrib["name"] in (settings or {})
        }
        self.traces: list[dict[str, Any]] = []
        self.exchanges: list[Exchange] = []
        self.variables: dict[str, dict[str, Any]] = {}
        self._call("reset", request_id=request_id, subscription_id=subscription_id)
        self._call(
            "set-request",
            method=request.method,
            url=request.url,
            headers=request.headers,
            body=request.body,
        )
        sections = {child.tag: child for child in root}
        forwarded: Message | None = None
        try:
            await self._walk(sections["inbound"], "request")
            forwarded = self._message("request")
            answer = await backend(forwarded)
            self._call(
                "set-response",
                response={
                    "status": answer.status,
                    "reason": answer.reason,
                    "headers": answer.headers,
                    "body": answer.body or "",
                },
            )
            await self._walk(sections["outbound"], "response")
            client = self._message("response")
        except ReturnResponse as returned:
            client = returned.args[0]
        return Run(forwarded, client, self.traces, self.exchanges, self.variables)

    # --- the elements ---------------------------------------------------------------------------

    async def _walk(self, parent: ET.Element, target: str) -> None:
        for element in parent:
            await self._element(element, target)

    async def _element(self, element: ET.Element, target: str) -> None:
        tag = element.tag
        if tag not in MODELLED:
            raise NotModelled(f"<{tag}> is not modelled by the player")
        if tag == "base":
            return
        if tag == "include-fragment":
            await self._walk(self.documents.roots[element.attrib["fragment-id"]], target)
        elif tag == "set-variable":
            name = element.attrib["name"]
            if (id(element), "@value") in self.documents.ids:
                answer = self._call(
                    "set-var", name=name, id=self.documents.ids[(id(element), "@value")]
                )
            else:
                value = self.settings.get(id(element), element.attrib["value"])
                answer = self._call("set-var-literal", name=name, value=value)
            self.variables[name] = {"type": answer["type"], "text": answer["text"], "by": tag}
        elif tag == "choose":
            await self._choose(element, target)
        elif tag == "send-request":
            await self._send_request(element)
        elif tag == "set-body":
            self._known(element, set())
            self._call("set-body", target=target, text=self._value(element, "text"))
        elif tag == "set-header":
            self._call("set-header", target=target, **self._header(element))
        elif tag == "return-response":
            raise ReturnResponse(self._return_response(element))
        elif tag == "trace":
            self._trace(element)

    def _known(self, element: ET.Element, attributes: set[str]) -> None:
        unknown = set(element.attrib) - attributes
        if unknown:
            raise NotModelled(f"<{element.tag}> attributes not modelled: {sorted(unknown)}")

    async def _choose(self, element: ET.Element, target: str) -> None:
        for branch in element:
            if branch.tag == "when":
                answer = self._eval(branch, "@condition")
                if answer["type"] != "System.Boolean":
                    raise PolicyError(f"a when condition returned {answer['type']}")
                if answer["bool"]:
                    await self._walk(branch, target)
                    return
            elif branch.tag == "otherwise":
                await self._walk(branch, target)
                return
            else:
                raise NotModelled(f"<{branch.tag}> inside <choose>")

    def _header(self, element: ET.Element) -> dict[str, Any]:
        self._known(element, {"name", "exists-action"})
        values = [self._value(value, "text") for value in element.iter("value")]
        return {
            "name": element.attrib["name"],
            "action": element.attrib.get("exists-action", "override"),
            "values": values,
        }

    async def _send_request(self, element: ET.Element) -> None:
        self._known(element, {"mode", "response-variable-name", "timeout", "ignore-error"})
        if element.attrib.get("mode", "new") != "new":
            raise NotModelled("send-request mode other than new")
        variable = element.attrib["response-variable-name"]
        url, method, body = "", "GET", ""
        headers: dict[str, list[str]] = {}
        for child in element:
            if child.tag == "set-url":
                url = self._value(child, "text")
            elif child.tag == "set-method":
                method = (child.text or "").strip()
            elif child.tag == "set-header":
                header = self._header(child)
                headers[header["name"]] = header["values"]
            elif child.tag == "set-body":
                self._known(child, set())
                body = self._value(child, "text")
            else:
                raise NotModelled(f"<{child.tag}> inside <send-request>")
        timeout = float(element.attrib.get("timeout", "60")) * self.send_timeout_scale
        exchange = Exchange(variable, url, method, headers, body, None)
        self.exchanges.append(exchange)
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = self.routes.get(origin, origin).rstrip("/") + url[len(origin) :]
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.request(
                    method,
                    target,
                    data=body.encode(),
                    headers={name: ",".join(values) for name, values in headers.items()},
                ) as response,
            ):
                text = await response.text()
                exchange.response = Message(
                    status=response.status,
                    reason=response.reason or "",
                    headers={k: response.headers.getall(k) for k in response.headers},
                    body=text,
                )
        except (TimeoutError, aiohttp.ClientError) as error:
            exchange.error = type(error).__name__
            if element.attrib.get("ignore-error", "false") != "true":
                raise PolicyError(f"send-request failed without ignore-error: {error!r}") from error
        response_json = None
        if exchange.response is not None:
            r = exchange.response
            response_json = {
                "status": r.status,
                "reason": r.reason,
                "headers": r.headers,
                "body": r.body,
            }
        self._call("set-response-var", name=variable, response=response_json)
        self.variables[variable] = {
            "type": "IResponse" if response_json else "null",
            "text": None,
            "by": "send-request",
        }

    def _return_response(self, element: ET.Element) -> Message:
        self._known(element, set())
        message = Message(status=200, reason="OK", headers={}, body="")
        for child in element:
            if child.tag == "set-status":
                self._known(child, {"code", "reason"})
                message.status = int(child.attrib["code"])
                message.reason = child.attrib.get("reason", "")
            elif child.tag == "set-header":
                header = self._header(child)
                message.headers[header["name"]] = header["values"]
            elif child.tag == "set-body":
                self._known(child, set())
                message.body = self._value(child, "text")
            else:
                raise NotModelled(f"<{child.tag}> inside <return-response>")
        return message

    def _trace(self, element: ET.Element) -> None:
        self._known(element, {"source", "severity"})
        record: dict[str, Any] = {
            "source": element.attrib["source"],
            "severity": element.attrib.get("severity", "verbose"),
            "metadata": {},
        }
        for child in element:
            if child.tag == "message":
                record["message"] = self._value(child, "text")
            elif child.tag == "metadata":
                record["metadata"][child.attrib["name"]] = self._value(child, "@value")
            else:
                raise NotModelled(f"<{child.tag}> inside <trace>")
        self.traces.append(record)

    # --- values ----------------------------------------------------------------------------------

    def _value(self, element: ET.Element, where: str) -> str:
        """An attribute or an element's text: the expression's result as text, or the literal."""
        if (id(element), where) in self.documents.ids:
            text = self._eval(element, where)["text"]
            return "" if text is None else str(text)
        raw = element.attrib.get(where[1:]) if where.startswith("@") else element.text
        return (raw or "").strip()

    def _eval(self, element: ET.Element, where: str) -> dict[str, Any]:
        return self._call("eval", id=self.documents.ids[(id(element), where)])

    def _message(self, target: str) -> Message:
        answer = self._call("get-message", target=target)
        if target == "request":
            return Message(method=answer["method"], headers=answer["headers"], body=answer["body"])
        return Message(status=answer["status"], headers=answer["headers"], body=answer["body"])

    def _call(self, op: str, **arguments: Any) -> dict[str, Any]:
        answer = self.runner.call(op, **arguments)
        if not answer["ok"]:
            where = ""
            if "id" in arguments:
                expression = self.documents.expressions[arguments["id"]]
                where = f" in {expression.source} <{expression.element}> {expression.where}"
            raise PolicyError(f"{op}{where}: {answer['error']}")
        return answer


def workdir_for(documents: Documents, base: Path) -> Path:
    """A build directory keyed by what is compiled, so a session compiles each version once."""
    digest = hashlib.sha256(documents.csharp().encode())
    for path in (HERE / "context.cs", HERE / "runner.cs"):
        digest.update(path.read_bytes())
    return base / digest.hexdigest()[:16]


async def no_backend(request: Message) -> Message:  # pragma: no cover - a guard
    raise AssertionError(f"the request reached the backend: {request.body!r}")


def echo_model(answer_for: Callable[[str], str]) -> Backend:
    """A model stand-in: records nothing, answers JSON built from the forwarded body."""

    async def backend(request: Message) -> Message:
        await asyncio.sleep(0)
        return Message(
            status=200,
            headers={"Content-Type": ["application/json; charset=utf-8"]},
            body=answer_for(request.body or ""),
        )

    return backend
