# ruff: noqa: E501  (the corpus keeps one case per line)
"""Leak corpus (issue 12): no personal data survives an ``ok`` answer, in any form a model reads.

Every case is an OpenAI-shaped body with distinctive canaries (an e-mail, an SSN, a Luhn-valid
card, an IBAN, a phone number) hidden the way an attacker or a careless user would hide them:
in fields that are never scanned, in object keys, as JSON numbers, behind a ``data:`` prefix,
split across content parts, messages and document boundaries, and disguised by characters or
encodings the model reads straight through. Each case runs on both detectors, the embedded one
and the Azure path through the emulator, over real HTTP.

For every answer:

- if it is HTTP 200, ``status == "ok"`` and ``full_coverage`` is true, no canary can be read in
  ``redacted_body`` (see ``canonical`` below: the JSON text and the reading order of the strings,
  after NFKC, removal of invisible characters, percent/HTML/backslash-escape and base64 decoding
  and separators dropped inside digit runs), and its structure is intact (same containers, known
  roles/types/model unchanged, tool-call arguments still strict JSON, keys unique);
- no canary and no key the caller made up appears in ``diagnostics``, ``error`` or a log record;
- every 4xx/5xx answer is JSON, and no answer is a 500.

Before it is sent, each case is checked to really contain its canaries in that same canonical
view, so a case that hides nothing (or a normaliser that sees nothing) fails instead of passing
vacuously; plain-spelling controls (``control/*``) must come back ``ok`` with their canaries
masked. ``test_diagnostics_*`` force ``partial`` and 503 answers (emulator faults on the Azure
path, tenant-pattern timeouts on the embedded one), ``test_refusals_*`` and
``test_malformed_http_*`` send requests the service refuses; none of them may repeat a key or
value of the request.

Case ids are ``class/name``. The classes of the issue are ``fields``, ``roles``, ``keys``,
``numbers``, ``binary`` (the ``data:`` prefix and binary slots), ``seams`` and ``disguise``. The
other classes are what an attacker tries next: ``separators`` the issue does not list
(slashes, underscores, odd grouping, dotted IBAN/SSN), ``escapes`` (``\\x40``),
``smuggling`` (Unicode tag characters),
``homoglyph``, ``combining`` marks, ``spelled`` ("at"/"dot"), ``base64`` in plain text,
``nested-json``, ``double-encoding``, ``idna`` dots, ``digit-glue`` (a number written right
before a card), ``control-chars``, ``scripts`` (other digits, right-to-left text), and the API
shapes ``responses``, ``prompt``, ``tool-output`` and ``parts``. The canonical view reads
through all of them, so it is a superset of the view the service must build (issue 12, point 5).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import html
import json
import logging
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import DETECTORS, EMULATOR_KEY, Emulator, ServiceFactory

# --- canaries ---------------------------------------------------------------------------------

EMAIL = "quokka.zeta@example.com"
EMAIL_TWIN = "numbat.iota@example.com"  # same length as EMAIL: two masked keys would collide
SSN = "536-22-8915"
CARD = "4539148803436467"
CARD_SPACED = "4539 1488 0343 6467"
IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
PHONE = "+1 425 555 0100"

SAY_EMAIL = f"Please write to {EMAIL} today."
SAY_SSN = f"My SSN is {SSN}."
SAY_CARD = f"Charge my card {CARD_SPACED} please."
SAY_IBAN = f"Pay to IBAN {IBAN} now."
SAY_PHONE = f"Call me on {PHONE} tonight."
NEUTRAL = "Please summarise the notes below."


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


assert luhn_valid(CARD)
assert CARD_SPACED.replace(" ", "") == CARD

# --- the canonical view: what a model can read -----------------------------------------------

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties); Cf, Mn and Me are dropped too.
_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# A few Cyrillic and Greek letters that read as Latin ones (Unicode confusables).
_HOMOGLYPHS = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u0458\u0455\u043a\u051b\u0501"
    "\u03bf\u03b1\u03ba\u03b9\u0410\u0415\u041e\u0420\u0421\u0425\u041a\u0392\u0395\u039f",
    "aeopcxyijskqdoakiAEOPCXKBEO",
)
_ESCAPE = re.compile(
    r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})"
    r"|([nrtbf])|([^0-9A-Za-z]))"
)
_SURROGATE_PAIR = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_SPELLED_AT = re.compile(r"\s*[\[(<{]\s*at\s*[\])>}]\s*|\s+at\s+|\s*@\s*", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"\s*[\[(<{]\s*dot\s*[\])>}]\s*|\s+dot\s+", re.IGNORECASE)
_DIGIT_SEPARATORS = re.compile(r"(?<=\d)[\s\-\u2010-\u2015\u2212.,/_:'\u00b7\u2022]+(?=\d)")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "", "f": ""}


@functools.cache
def _is_invisible(char: str) -> bool:
    if unicodedata.category(char) in ("Cf", "Mn", "Me", "Cc") and char not in "\t\n\r":
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE)


def _unescape_one(match: re.Match[str]) -> str:
    braced, four, eight, two, simple, other = match.groups()
    if simple is not None:
        return _SIMPLE_ESCAPES[simple]
    if other is not None:
        return other
    point = int(braced or four or eight or two, 16)
    if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
        return "\ufffd"
    return chr(point)


def _unescape(text: str) -> str:
    def pair(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    return _ESCAPE.sub(_unescape_one, _SURROGATE_PAIR.sub(pair, text))


def _base64_texts(text: str) -> Iterator[str]:
    """Readable text hidden in base64 runs (data: URIs, bare payloads)."""
    for match in _BASE64_RUN.finditer(text):
        run = match.group().rstrip("=")
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                decoded = decode(run + "=" * (-len(run) % 4)).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if decoded.strip() and all(c.isprintable() or c.isspace() for c in decoded):
                yield decoded
                break


def _untag(text: str) -> str:
    """Unicode tag characters spell ASCII invisibly; models read them ("ASCII smuggling")."""
    return "".join(chr(ord(c) - 0xE0000) if 0xE0020 <= ord(c) <= 0xE007E else c for c in text)


def _one_round(text: str) -> str:
    text = _unescape(text)
    text = urllib.parse.unquote(text, errors="replace")
    text = html.unescape(text)
    text = _untag(text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if not _is_invisible(c))
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    hidden = list(_base64_texts(text))
    return "\n".join([text, *hidden]) if hidden else text


def canonical(text: str) -> str:
    """What a reader sees: decoded until stable, folded, invisible characters gone, lower case,
    no separators inside digit runs."""
    for _ in range(6):
        decoded = _one_round(text)
        if decoded == text:
            break
        text = decoded
    text = text.translate(_HOMOGLYPHS).replace("\u3002", ".").replace("\uff61", ".").lower()
    text = _SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", text))
    return _DIGIT_SEPARATORS.sub("", text)


def needle(secret: str) -> str:
    """The canonical form of a canary (a phone number is looked for without its country code)."""
    form = canonical(secret)
    return form[-10:] if secret.startswith("+") else form


# Values under these keys are names, not reading text: left out of the reading order.
_NOT_READ = frozenset({"role", "type", "model", "id", "call_id", "tool_call_id", "detail"})


def reading_order(value: Any, key: str | None = None) -> Iterator[str]:
    """String values in document order, as a model reads consecutive parts and messages."""
    if isinstance(value, str):
        if key not in _NOT_READ:
            yield value
    elif isinstance(value, dict):
        for item_key, item in value.items():
            yield from reading_order(item, item_key)
    elif isinstance(value, list):
        for item in value:
            yield from reading_order(item, key)


def canonical_view(value: Any) -> str:
    """The JSON text of ``value`` and its strings read in order, both canonical."""
    text = json.dumps(value, ensure_ascii=False)
    return canonical(text) + "\n\x00\n" + canonical("".join(reading_order(value)))


def readable(secrets: Iterable[str], value: Any) -> list[str]:
    """The secrets a reader can still find in ``value``."""
    view = canonical_view(value)
    return [secret for secret in secrets if needle(secret) in view]


# --- structure --------------------------------------------------------------------------------

KNOWN_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
KNOWN_TYPES = frozenset(
    {
        "text",
        "image_url",
        "input_audio",
        "file",
        "refusal",
        "function",
        "object",
        "string",
        "array",
        "content",
        "json_schema",
        "message",
        "input_text",
        "output_text",
        "input_image",
        "input_file",
        "function_call",
        "function_call_output",
        "reasoning",
        "summary_text",
        "approximate",
    }
)


def strict_loads(text: str) -> Any:
    """JSON with duplicate keys refused (a masked key must not collide with another)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(set(keys)) == len(keys), "duplicate keys after redaction"
        return dict(pairs)

    return json.loads(text, object_pairs_hook=unique)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def assert_same_shape(original: Any, redacted: Any, where: str = "$") -> None:
    """Same containers and sizes; keys may be renamed and numbers may become masked strings;
    known roles, types and the model are unchanged; JSON arguments stay JSON of the same shape."""
    if isinstance(original, dict):
        assert isinstance(redacted, dict), where
        assert len(redacted) == len(original), f"{where}: keys lost or added"
        for (key, value), (new_key, new_value) in zip(
            original.items(), redacted.items(), strict=True
        ):
            path = f"{where}/{key[:20]}"
            fixed = key in ("role", "type") and str(value) in (KNOWN_ROLES | KNOWN_TYPES)
            if fixed or key == "model":
                assert (new_key, new_value) == (key, value), f"{path} changed"
            elif key == "arguments" and isinstance(value, str) and _json_or_none(value) is not None:
                assert isinstance(new_value, str), path
                assert_same_shape(json.loads(value), strict_loads(new_value), path + "#")
            else:
                assert_same_shape(value, new_value, path)
    elif isinstance(original, list):
        assert isinstance(redacted, list), where
        assert len(redacted) == len(original), f"{where}: items lost or added"
        for index, (value, new_value) in enumerate(zip(original, redacted, strict=True)):
            assert_same_shape(value, new_value, f"{where}/{index}")
    elif isinstance(original, str):
        assert isinstance(redacted, str), where
    elif isinstance(original, bool) or original is None:
        assert redacted == original, where
    else:  # a number stays, or becomes a masked string
        assert redacted == original or isinstance(redacted, str), where


# Keys of the OpenAI schemas and of this service's answers; any other key of a request is the
# caller's and must never be repeated in diagnostics, errors or logs.
VOCABULARY = frozenset(
    {
        "messages", "role", "content", "type", "text", "image_url", "url", "detail",
        "input_audio", "data", "format", "file", "file_id", "filename", "file_data", "file_url",
        "refusal", "name", "tool_calls", "id", "function", "arguments", "tool_call_id",
        "function_call", "model", "input", "instructions", "prompt", "tools", "parameters",
        "properties", "description", "metadata", "user", "stop", "prediction", "response_format",
        "json_schema", "schema", "strict", "items", "required", "enum", "const", "default",
        "examples", "title", "output", "call_id", "summary", "annotations", "functions",
        "suffix", "variables", "previous_response_id", "safety_identifier", "prompt_cache_key",
        "web_search_options", "user_location", "approximate", "city", "status", "pattern",
        "temperature", "max_tokens", "body", "config", "fail_closed", "scan_roles",
        "custom_patterns", "category", "category_thresholds", "excluded_categories",
        "categories", "allow_patterns", "policy", "redaction_character", "reason",
    }
)  # fmt: skip


def request_keys(value: Any) -> set[str]:
    """Keys the caller made up, also those inside JSON-encoded tool-call arguments."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in VOCABULARY and len(key) >= 4:
                found.add(key)
            found |= request_keys(item)
            if key == "arguments" and isinstance(item, str):
                found |= request_keys(_json_or_none(item))
    elif isinstance(value, list):
        for item in value:
            found |= request_keys(item)
    return found


# --- body builders ----------------------------------------------------------------------------


def user(content: Any, **extra: Any) -> dict[str, Any]:
    return {"role": "user", "content": content, **extra}


def chat(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": list(messages) or [user(NEUTRAL)], **fields}


def part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def input_text(text: str) -> dict[str, Any]:
    return {"type": "input_text", "text": text}


def image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def args(value: Any) -> str:
    return json.dumps(value)


def calling(arguments: str, **extra: Any) -> dict[str, Any]:
    call = {"id": "call_abc123", "type": "function"}
    call["function"] = {"name": "lookup", "arguments": arguments}  # type: ignore[assignment]
    return {"role": "assistant", "content": None, "tool_calls": [call], **extra}


def with_call(arguments: str) -> dict[str, Any]:
    return chat(user(NEUTRAL), calling(arguments))


def tool_def(description: str = "Look up a record.", **schema: Any) -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"q": {"type": "string", **schema}}}
    function = {"name": "lookup", "description": description, "parameters": parameters}
    return {"type": "function", "function": function}


def responses(*items: Any, **fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "input": list(items), **fields}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def zwsp(text: str, char: str = "\u200b") -> str:
    """``char`` between every two characters."""
    return char.join(text)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


def digits_as(text: str, digits: str) -> str:
    """Each ASCII digit replaced by the character at its value in ``digits``."""
    return "".join(digits[int(c)] if c.isdigit() else c for c in text)


CIRCLED = "\u24ea\u2460\u2461\u2462\u2463\u2464\u2465\u2466\u2467\u2468"
SUPERSCRIPT = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
SUBSCRIPT = "".join(chr(0x2080 + i) for i in range(10))
MATH_BOLD = "".join(chr(0x1D7CE + i) for i in range(10))
ARABIC_INDIC = "".join(chr(0x0660 + i) for i in range(10))
DEVANAGARI = "".join(chr(0x0966 + i) for i in range(10))
MATH_BOLD_LOWER = {c: chr(0x1D41A + ord(c) - ord("a")) for c in "abcdefghijklmnopqrstuvwxyz"}


def tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in text)


def filler(length: int, separator: str = " ") -> str:
    """Words without sentence ends or digits, exactly ``length`` characters, ending in a letter."""
    words = separator.join(["lorem", "ipsum", "dolor", "sit", "amet", "consectetur"] * 400)
    text = words[:length]
    return text[:-1] + "x" if not text[-1].isalpha() else text


def straddle(secret: str, boundary: int = 5000, at: int = 9, separator: str = " ") -> str:
    """``secret`` in a long text, its ``at``-th character at the document boundary."""
    before = filler(boundary - at - 1, separator) + separator
    return before + secret + separator + filler(300, separator)


# --- the cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    body: dict[str, Any]
    secrets: tuple[str, ...]
    config: dict[str, Any] | None = None
    control: bool = False  # must come back `ok` with every secret masked
    unchanged: tuple[tuple[str | int, ...], ...] = ()  # paths that must come back equal


def case(
    id: str, body: dict[str, Any], *secrets: str, config: dict[str, Any] | None = None
) -> Case:
    return Case(id, body, secrets or (EMAIL,), config)


ALL_ROLES = {"scan_roles": ["system", "developer", "user", "assistant", "tool"]}
PARAM = {"type": "string"}


def field_cases() -> list[Case]:
    prop = "properties"
    nested_schema = {
        "type": "object",
        prop: {
            "people": {
                "type": "array",
                "items": {"type": "object", prop: {"email": {**PARAM, "description": SAY_EMAIL}}},
            }
        },
    }
    nested = {"type": "function", "function": {"name": "lookup", "parameters": nested_schema}}
    fmt_schema = {"type": "object", prop: {"email": {**PARAM, "description": SAY_EMAIL}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": fmt_schema}}
    fmt_enum_schema = {"type": "object", prop: {"ssn": {**PARAM, "enum": [SSN]}}}
    fmt_enum = {"type": "json_schema", "json_schema": {"name": "r", "schema": fmt_enum_schema}}
    fmt_desc = {
        "type": "json_schema",
        "json_schema": {"name": "r", "description": SAY_PHONE, "schema": {"type": "object"}},
    }
    text_format = {
        "format": {
            "type": "json_schema",
            "name": "reply",
            "schema": {"type": "object", prop: {"card": {**PARAM, "description": SAY_CARD}}},
        }
    }
    responses_tool = {
        "type": "function",
        "name": "lookup",
        "description": SAY_EMAIL,
        "parameters": {"type": "object", prop: {}},
    }
    functions = [{"name": "lookup", "description": SAY_SSN, "parameters": {"type": "object"}}]
    location = {"type": "approximate", "approximate": {"city": f"Seattle, {EMAIL}"}}
    img = "https://img.example.net/a.png"
    doc = "https://files.example.net/doc.pdf"
    return [
        case("fields/prediction-content", chat(prediction={"type": "content", "content": SAY_EMAIL})),
        case(
            "fields/prediction-content-parts",
            chat(prediction={"type": "content", "content": [part(SAY_SSN)]}),
            SSN,
        ),
        case("fields/tool-description", chat(tools=[tool_def(SAY_EMAIL)])),
        case("fields/tool-param-description", chat(tools=[tool_def(description=SAY_SSN)]), SSN),
        case("fields/tool-param-schema-description", chat(tools=[tool_def(**{"description": SAY_EMAIL})])),
        case("fields/tool-param-enum", chat(tools=[tool_def(enum=[EMAIL, "other"])])),
        case("fields/tool-param-const", chat(tools=[tool_def(const=SSN)]), SSN),
        case("fields/tool-param-default", chat(tools=[tool_def(default=CARD_SPACED)]), CARD),
        case("fields/tool-param-examples", chat(tools=[tool_def(examples=[IBAN])]), IBAN),
        case("fields/tool-param-title", chat(tools=[tool_def(title=SAY_PHONE)]), PHONE),
        case("fields/tool-param-pattern", chat(tools=[tool_def(pattern=f"^{SSN}$")]), SSN),
        case("fields/tool-param-nested-items", chat(tools=[nested])),
        case("fields/legacy-functions-description", chat(functions=functions), SSN),
        case("fields/response-format-schema", chat(response_format=fmt)),
        case("fields/response-format-enum", chat(response_format=fmt_enum), SSN),
        case("fields/response-format-description", chat(response_format=fmt_desc), PHONE),
        case("fields/responses-text-format", responses(NEUTRAL, text=text_format), CARD),
        case("fields/responses-tool-description", responses(NEUTRAL, tools=[responses_tool])),
        case("fields/metadata-value", chat(metadata={"customer": EMAIL})),
        case("fields/metadata-value-ssn", chat(metadata={"note": SAY_SSN}), SSN),
        case("fields/responses-metadata", responses(NEUTRAL, metadata={"owner": EMAIL})),
        case("fields/user", chat(user=EMAIL)),
        case("fields/embeddings-user", {"model": "e", "input": NEUTRAL, "user": EMAIL}),
        case("fields/safety-identifier", chat(safety_identifier=EMAIL)),
        case("fields/prompt-cache-key", chat(prompt_cache_key=f"customer-{SSN}"), SSN),
        case("fields/stop-string", chat(stop=EMAIL)),
        case("fields/stop-list", chat(stop=["END", SSN]), SSN),
        case("fields/message-name", chat(user(NEUTRAL, name=EMAIL))),
        case(
            "fields/assistant-name",
            chat(user(NEUTRAL), {"role": "assistant", "content": "ok", "name": SAY_SSN}),
            SSN,
        ),
        case(
            "fields/file-name",
            chat(user([part(NEUTRAL), {"type": "file", "file": {"filename": f"{EMAIL}.pdf"}}])),
        ),
        case(
            "fields/file-name-ssn",
            chat(user([{"type": "file", "file": {"filename": f"tax-{SSN}.pdf", "file_id": "file-abc123"}}])),
            SSN,
        ),
        case("fields/image-url-query", chat(user([part(NEUTRAL), image(f"{img}?owner={EMAIL}")]))),
        case("fields/image-url-query-ssn", chat(user([image(f"{img}?ssn={SSN}")])), SSN),
        case("fields/image-url-fragment", chat(user([image(f"{img}#card={CARD}")])), CARD),
        case(
            "fields/responses-input-image-url",
            responses(user([{"type": "input_image", "image_url": f"{img}?email={EMAIL}"}])),
        ),
        case(
            "fields/responses-input-file-url",
            responses(user([{"type": "input_file", "file_url": f"{doc}?ssn={SSN}"}])),
            SSN,
        ),
        case(
            "fields/responses-input-file-name",
            responses(user([{"type": "input_file", "filename": f"{EMAIL}.pdf", "file_id": "file-1"}])),
        ),
        case("fields/top-level-unknown", chat(notes=SAY_EMAIL)),
        case("fields/top-level-unknown-nested", chat(context={"customer": {"contact": SAY_SSN}}), SSN),
        case("fields/web-search-location", chat(web_search_options={"user_location": location})),
        case("fields/completion-suffix", {"model": "i", "prompt": "Dear", "suffix": SAY_EMAIL}),
        case(
            "fields/responses-prompt-variables",
            {"model": "gpt-4o", "prompt": {"id": "pmpt_abc123", "variables": {"customer": EMAIL}}},
        ),
        case("fields/message-extra-field", chat(user(NEUTRAL, notes=SAY_EMAIL))),
        case("fields/part-extra-field", chat(user([{**part(NEUTRAL), "caption": SAY_SSN}])), SSN),
        case("fields/previous-response-id", responses(NEUTRAL, previous_response_id=EMAIL)),
        case(
            "fields/tool-call-id",
            chat(user(NEUTRAL), {"role": "tool", "tool_call_id": EMAIL, "content": "done"}),
        ),
        case(
            "fields/tool-call-id-in-call",
            chat(user(NEUTRAL), calling("{}") | {"tool_calls": [{"id": SAY_SSN, "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
            SSN,
        ),
    ]  # fmt: skip


def role_cases() -> list[Case]:
    spelled = [
        ("capitalised", "User"),
        ("upper", "USER"),
        ("trailing-space", "user "),
        ("leading-space", " user"),
        ("mixed-case", "uSeR"),
        ("newline", "user\n"),
        ("zero-width", "user\u200b"),
        ("fullwidth", fullwidth("user")),
        ("cyrillic-e", "us\u0435r"),
        ("human", "human"),
        ("customer", "customer"),
        ("empty", ""),
        ("system-capitalised", "System"),
        ("system-upper", "SYSTEM"),
        ("system-trailing-space", "system "),
        ("developer-capitalised", "Developer"),
        ("assistant-tab", "assistant\t"),
        ("tool-capitalised", "Tool"),
        ("function-trailing-space", "function "),
    ]
    cases = [
        case(f"roles/{name}", chat({"role": role, "content": SAY_EMAIL})) for name, role in spelled
    ]
    odd_values: list[tuple[str, Any]] = [
        ("null", None),
        ("number", 7),
        ("list", ["user"]),
        ("object", {"name": "user"}),
    ]
    cases += [
        case(f"roles/{name}", chat({"role": role, "content": SAY_SSN}), SSN)
        for name, role in odd_values
    ]
    cases += [
        case("roles/missing", chat({"content": SAY_CARD}), CARD),
        case(
            "roles/responses-item-trailing-space",
            responses({"type": "message", "role": "User ", "content": [input_text(SAY_EMAIL)]}),
        ),
        case(
            "roles/responses-item-upper-system",
            responses({"role": "SYSTEM", "content": SAY_SSN}),
            SSN,
        ),
        case(
            "roles/tool-calls-odd-role",
            chat(user(NEUTRAL), calling(args({"note": SAY_EMAIL})) | {"role": "Assistant "}),
        ),
    ]
    return cases  # fmt: skip


def key_cases() -> list[Case]:
    schema_keys = {"type": "object", "properties": {EMAIL: {"type": "string"}}}
    tool_with_key = {"type": "function", "function": {"name": "f", "parameters": schema_keys}}
    fmt_schema = {"type": "object", "properties": {f"ssn {SSN}": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "r", "schema": fmt_schema}}
    legacy = {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "lookup", "arguments": args({EMAIL: "primary"})},
    }
    call_item = {
        "type": "function_call",
        "call_id": "call_abc123",
        "name": "lookup",
        "arguments": args({EMAIL: "primary"}),
    }
    return [
        case("keys/tool-args-email", with_call(args({EMAIL: "primary"}))),
        case("keys/tool-args-ssn", with_call(args({f"ssn {SSN}": True})), SSN),
        case("keys/tool-args-card", with_call(args({CARD_SPACED: "visa"})), CARD),
        case("keys/tool-args-phone", with_call(args({PHONE: "mobile"})), PHONE),
        case("keys/tool-args-iban", with_call(args({IBAN: 1})), IBAN),
        case("keys/tool-args-nested", with_call(args({"customer": {"contacts": {EMAIL: {"primary": True}}}}))),
        case("keys/tool-args-in-list", with_call(args({"rows": [{EMAIL: 1}, {"other": 2}]}))),
        case("keys/legacy-function-call", chat(user(NEUTRAL), legacy)),
        case("keys/responses-function-call", responses(NEUTRAL, call_item)),
        case("keys/unknown-body-top", {EMAIL: {"plan": "gold"}}),
        case("keys/unknown-body-nested", {"customers": {"by_email": {EMAIL: {"plan": "gold"}}}}),
        case("keys/unknown-body-ssn", {"index": {SSN: "holder"}}, SSN),
        case("keys/unknown-body-card", {"cards": {CARD_SPACED: "active"}}, CARD),
        case("keys/unknown-body-in-list", {"batch": [{EMAIL: 1}, {"other": 2}]}),
        case("keys/metadata-key", chat(metadata={EMAIL: "vip"})),
        case("keys/tool-schema-property-name", chat(tools=[tool_with_key])),
        case("keys/response-format-property-name", chat(response_format=fmt), SSN),
        case("keys/chat-top-level-key", chat(**{EMAIL: "cc"})),
        case("keys/message-extra-key", chat(user(NEUTRAL, **{EMAIL: "cc"}))),
        case("keys/collision-tool-args", with_call(args({EMAIL: "a", EMAIL_TWIN: "b"})), EMAIL, EMAIL_TWIN),
        case("keys/collision-unknown-body", {EMAIL: 1, EMAIL_TWIN: 2}, EMAIL, EMAIL_TWIN),
        case("keys/disguised-zero-width", with_call(args({zwsp(EMAIL): "primary"}))),
        case("keys/tool-message-json-key", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": "call_abc123", "content": args({EMAIL: "found"})})),
        case("keys/responses-unknown-item-key", responses({"type": "custom_note", "data_map": {EMAIL: "x"}})),
    ]  # fmt: skip


def number_cases() -> list[Case]:
    card = int(CARD)
    call_item = {
        "type": "function_call",
        "call_id": "c1",
        "name": "pay",
        "arguments": args({"card": card}),
    }
    legacy = {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "pay", "arguments": args({"card": card})},
    }
    tool_number = {"role": "tool", "tool_call_id": "call_abc123", "content": card}
    return [
        case("numbers/args-card", with_call(args({"card": card})), CARD),
        case("numbers/args-card-negative", with_call(args({"card": -card})), CARD),
        case("numbers/args-card-float", with_call('{"card": 4539148803436467.0}'), CARD),
        case("numbers/args-card-exponent", with_call('{"card": 4539148803436467e0}'), CARD),
        case("numbers/args-card-in-list", with_call(args({"cards": [card]})), CARD),
        case("numbers/args-card-nested", with_call(args({"payment": {"method": {"number": card}}})), CARD),
        case("numbers/args-phone", with_call(args({"phone": 14255550100})), PHONE),
        case("numbers/args-ssn", with_call(args({"ssn": 536228915})), SSN),
        case("numbers/args-bare-card", with_call(CARD), CARD),
        case("numbers/args-bare-negative-card", with_call(f"-{CARD}"), CARD),
        case("numbers/args-bare-list", with_call(f"[{CARD}]"), CARD),
        case("numbers/legacy-function-call", chat(user(NEUTRAL), legacy), CARD),
        case("numbers/responses-function-call", responses(NEUTRAL, call_item), CARD),
        case("numbers/unknown-body-card", {"payment": {"card": card}}, CARD),
        case("numbers/unknown-body-phone", {"contact": {"phone": 14255550100}}, PHONE),
        case("numbers/unknown-body-ssn", {"person": {"ssn": 536228915}}, SSN),
        case("numbers/unknown-body-list", {"values": [1, 2, card]}, CARD),
        case("numbers/unknown-body-fraction", {"person": {"ssn": 536228915.25}}, SSN),
        case("numbers/metadata-number", chat(metadata={"card": card}), CARD),
        case("numbers/tool-content-number", chat(user(NEUTRAL), tool_number), CARD),
        case("numbers/content-number", chat(user(card)), CARD),
        case("numbers/chat-top-level-number", chat(customer_card=card), CARD),
        case("numbers/responses-unknown-item", responses({"type": "custom_note", "card": card}), CARD),
    ]  # fmt: skip


REAL_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def binary_cases() -> list[Case]:
    def audio(data: str) -> dict[str, Any]:
        return {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}

    def file(data: str, name: str = "notes.txt") -> dict[str, Any]:
        return {"type": "file", "file": {"filename": name, "file_data": data}}

    text_uri = "data:text/plain;base64,"
    return [
        case("binary/text-starting-data-uri", chat(user(f"data:text/plain;base64, my email is {EMAIL}"))),
        case("binary/text-data-empty-mime", chat(user(f"data:;base64,hello {EMAIL}"))),
        case("binary/text-data-image-prefix", chat(user(f"data:image/png;base64,iVBORw0KGgo then {SSN}")), SSN),
        case("binary/part-data-prefix", chat(user([part(f"data:x;base64,{SAY_CARD}")])), CARD),
        case("binary/args-value-data-prefix", with_call(args({"note": f"data:text/plain;base64, SSN {SSN}"})), SSN),
        case("binary/unknown-body-data-prefix", {"note": f"data:a;base64,{SAY_EMAIL}"}),
        case("binary/responses-input-data-prefix", responses(f"data:;base64,{SAY_EMAIL}")),
        case("binary/image-slot-text-plain-b64", chat(user([part(NEUTRAL), image(text_uri + b64(SAY_EMAIL))]))),
        case("binary/image-slot-png-label-text", chat(user([image("data:image/png;base64," + b64(SAY_SSN))])), SSN),
        case("binary/image-slot-text-plain-raw", chat(user([image("data:text/plain," + urllib.parse.quote(SAY_EMAIL))]))),
        case("binary/input-audio-text-b64", chat(user([part(NEUTRAL), audio(b64(SAY_EMAIL))]))),
        case("binary/file-data-text-plain", chat(user([file(text_uri + b64(SAY_SSN))])), SSN),
        case("binary/file-data-pdf-label-text", chat(user([file("data:application/pdf;base64," + b64(SAY_CARD), "a.pdf")])), CARD),
        case(
            "binary/responses-input-image-text",
            responses(user([{"type": "input_image", "image_url": text_uri + b64(SAY_EMAIL)}])),
        ),
        case(
            "binary/responses-input-file-text",
            responses(user([{"type": "input_file", "filename": "a.txt", "file_data": text_uri + b64(SAY_IBAN)}])),
            IBAN,
        ),
        case("binary/unknown-body-data-key-plain", {"data": SAY_EMAIL}),
        case("binary/unknown-body-data-key-b64-text", {"data": b64(SAY_SSN)}, SSN),
        case("binary/unknown-body-b64-json-text", {"b64_json": b64(SAY_EMAIL)}),
        case("binary/unknown-body-audio-key-text", {"audio": SAY_CARD}, CARD),
        case("binary/unknown-body-image-url-key-text", {"image_url": f"https://x.example.net/p.png?email={EMAIL}"}),
    ]  # fmt: skip


def seam_cases() -> list[Case]:
    def split(id: str, body: dict[str, Any], *pieces: str) -> Case:
        return Case(id, body, pieces)

    long_card = straddle(f"card {CARD_SPACED}", at=15)  # the cut falls between "1488" and "0343"
    long_card_unspaced = straddle(f"card;{CARD}", at=12, separator=";")  # cut inside the digits
    long_email = straddle(EMAIL, at=9, separator=";")  # no whitespace: the cut falls at 5,000
    long_ssn = straddle(SSN, at=5, separator=";")
    long_phone = straddle(f"call {PHONE}", at=12)
    long_iban = straddle(f"IBAN {IBAN_SPACED}", at=15)
    second = filler(4999, ";") + ";" + straddle(EMAIL, at=9, separator=";")  # cut near 10,000
    card_pieces = ("4539 1488", "0343 6467")
    tiny = f"Write to {EMAIL} now, SSN {SSN}."
    many = (filler(200) + " " + tiny + " ") * 2
    return [
        split("seams/parts-email", chat(user([part("Write to quokka.ze"), part("ta@example.com today")])), "quokka.ze", "ta@example.com"),
        split("seams/parts-ssn", chat(user([part("My SSN is 536-22"), part("-8915, thanks")])), "536-22", "-8915"),
        split("seams/parts-card", chat(user([part("Charge 4539 1488"), part(" 0343 6467 now")])), *card_pieces),
        split("seams/parts-iban", chat(user([part("IBAN DE89 3704 0044"), part(" 0532 0130 00")])), "DE89 3704 0044", "0532 0130 00"),
        split("seams/parts-phone", chat(user([part("Call +1 425"), part(" 555 0100")])), "+1 425", "555 0100"),
        split("seams/parts-three-way", chat(user([part("mail quokka"), part(".zeta@exam"), part("ple.com")])), "quokka", ".zeta@exam"),
        split("seams/messages-email", chat(user("Write to quokka.ze"), user("ta@example.com")), "quokka.ze", "ta@example.com"),
        split("seams/messages-card", chat(user("My card is 4539 1488"), user("0343 6467")), *card_pieces),
        split("seams/messages-ssn", chat(user("My SSN is 536-22"), user("-8915")), "536-22", "-8915"),
        split(
            "seams/messages-user-assistant",
            chat(user("My card is 4539 1488"), {"role": "assistant", "content": "0343 6467"}),
            *card_pieces,
        ),
        split(
            "seams/responses-parts",
            responses(user([input_text("Write to quokka.ze"), input_text("ta@example.com")])),
            "quokka.ze",
            "ta@example.com",
        ),
        split("seams/responses-items", responses(user("My card is 4539 1488"), user("0343 6467")), *card_pieces),
        split("seams/parts-card-unbalanced", chat(user([part("Charge card 4539"), part(" 1488 0343 6467 now")])), "card 4539", "1488 0343 6467"),
        split("seams/messages-card-unbalanced", chat(user("My card: 4539"), user("1488 0343 6467")), ": 4539", "1488 0343 6467"),
        split("seams/parts-card-unspaced", chat(user([part("card 45391488"), part("03436467")])), "card 45391488", "03436467"),
        Case("seams/chunk-card", chat(user(long_card)), (CARD, *card_pieces)),
        Case("seams/chunk-card-unspaced", chat(user(long_card_unspaced)), (CARD, "card;4539148", "803436467")),
        Case("seams/chunk-email", chat(user(long_email)), (EMAIL, "quokka.ze", "ta@example.com")),
        Case("seams/chunk-ssn", chat(user(long_ssn)), (SSN, "lo;536-2", "2-8915")),
        Case("seams/chunk-phone", chat(user(long_phone)), (PHONE, "+1 425", "555 0100")),
        Case("seams/chunk-iban", chat(user(long_iban)), (IBAN, "DE89 3704", "0044 0532 0130 00")),
        Case("seams/chunk-second-boundary", chat(user(second)), (EMAIL,)),
        Case("seams/chunk-in-part", chat(user([part(long_card)])), (CARD, *card_pieces)),
        Case("seams/chunk-in-tool-args", with_call(args({"note": long_card})), (CARD, *card_pieces)),
        Case("seams/chunk-responses-input", responses(long_card), (CARD, *card_pieces)),
        Case("seams/chunk-tool-message", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": "call_1", "content": long_email}), (EMAIL,)),
        Case("seams/tiny-parts", chat(user([part(c) for c in tiny])), (EMAIL, SSN)),
        Case("seams/tiny-parts-card", chat(user([part(c) for c in SAY_CARD])), (CARD,)),
        Case("seams/many-tiny-strings", chat(user([part(c) for c in many])), (EMAIL, SSN)),
    ]  # fmt: skip


def disguise_cases() -> list[Case]:
    def say(id: str, text: str, *secrets: str) -> Case:
        """``/class/name`` names a class of its own (beyond the issue's list)."""
        name = id[1:] if id.startswith("/") else f"disguise/{id}"
        return case(name, chat(user(text)), *secrets)

    bold_email = "".join(MATH_BOLD_LOWER.get(c, c) for c in EMAIL)
    escaped_args = '{"note": "{\\"email\\": \\"quokka.zeta\\\\u0040example.com\\"}"}'
    return [
        say("zwsp-email", f"Write to {zwsp(EMAIL)} today"),
        say("zwj-email", f"Write to {zwsp(EMAIL, chr(0x200D))} today"),
        say("zwnj-email", f"Write to {zwsp(EMAIL, chr(0x200C))} today"),
        say("soft-hyphen-email", f"Write to {zwsp(EMAIL, chr(0xAD))} today"),
        say("word-joiner-email", f"Write to {zwsp(EMAIL, chr(0x2060))} today"),
        say("lrm-email", f"Write to {zwsp(EMAIL, chr(0x200E))} today"),
        say("bidi-embedding-email", "Write to quokka.zeta@\u202aexample\u202c.com today"),
        say("bidi-isolate-email", "Write to quokka\u2066.zeta\u2069@example.com today"),
        say("bom-email", "Write to quokka.zeta\ufeff@example.com today"),
        say("fullwidth-at", "Write to quokka.zeta\uff20example.com today"),
        say("fullwidth-email", f"Write to {fullwidth(EMAIL)} today"),
        say("small-at", "Write to quokka.zeta\ufe6bexample.com today"),
        say("math-bold-email", f"Write to {bold_email} today"),
        say("percent-at", "Write to quokka.zeta%40example.com today"),
        say("percent-whole", "Write to " + "".join(f"%{ord(c):02X}" for c in EMAIL) + " today"),
        say("html-decimal-at", "Write to quokka.zeta&#64;example.com today"),
        say("html-hex-at", "Write to quokka.zeta&#x40;example.com today"),
        say("html-named-at", "Write to quokka.zeta&commat;example.com today"),
        say("backslash-u-at", "Write to quokka.zeta\\u0040example.com today"),
        say("/escapes/backslash-x-at", "Write to quokka.zeta\\x40example.com today"),
        case("disguise/json-escaped-in-args", with_call(escaped_args)),
        case("disguise/args-unparsable-backslash-u", with_call('{"note": "quokka.zeta\\\\u0040example.com"')),
        say("zwsp-ssn", f"SSN {zwsp(SSN)}", SSN),
        say("soft-hyphen-ssn", f"SSN {zwsp(SSN, chr(0xAD))}", SSN),
        say("word-joiner-ssn", f"SSN {zwsp(SSN, chr(0x2060))}", SSN),
        say("rlm-ssn", f"SSN {zwsp(SSN, chr(0x200F))}", SSN),
        say("bidi-override-ssn", f"SSN \u202d{SSN}\u202c", SSN),
        say("fullwidth-ssn", f"SSN {fullwidth(SSN)}", SSN),
        say("circled-ssn", f"SSN {digits_as(SSN, CIRCLED)}", SSN),
        say("superscript-ssn", f"SSN {digits_as(SSN, SUPERSCRIPT)}", SSN),
        say("subscript-ssn", f"SSN {digits_as(SSN, SUBSCRIPT)}", SSN),
        say("math-bold-ssn", f"SSN {digits_as(SSN, MATH_BOLD)}", SSN),
        say("/separators/ssn-en-dash", f"SSN {SSN.replace('-', chr(0x2013))}", SSN),
        say("html-hyphen-ssn", f"SSN {SSN.replace('-', '&#45;')}", SSN),
        say("html-digits-ssn", "SSN " + "".join(f"&#{ord(c)};" for c in SSN), SSN),
        say("/separators/ssn-dotted", f"SSN {SSN.replace('-', '.')}", SSN),
        say("card-dots", f"Card {CARD_SPACED.replace(' ', '.')}", CARD),
        say("card-tabs", f"Card {CARD_SPACED.replace(' ', chr(9))}", CARD),
        say("card-newlines", f"Card {CARD_SPACED.replace(' ', chr(10))}", CARD),
        say("/separators/card-slashes", f"Card {CARD_SPACED.replace(' ', '/')}", CARD),
        say("/separators/card-underscores", f"Card {CARD_SPACED.replace(' ', '_')}", CARD),
        say("card-mixed-separators", "Card 4539-1488 0343.6467", CARD),
        say("card-zwsp", f"Card {zwsp(CARD)}", CARD),
        say("card-fullwidth", f"Card {fullwidth(CARD)}", CARD),
        say("card-circled", f"Card {digits_as(CARD_SPACED, CIRCLED)}", CARD),
        say("card-percent-spaces", f"Card {CARD_SPACED.replace(' ', '%20')}", CARD),
        say("card-html-nbsp", f"Card {CARD_SPACED.replace(' ', '&nbsp;')}", CARD),
        say("card-thin-space", f"Card {CARD_SPACED.replace(' ', chr(0x2009))}", CARD),
        say("/separators/card-odd-grouping", "Card 4539 14880343 6467", CARD),
        say("iban-lower", f"IBAN {IBAN.lower()}", IBAN),
        say("iban-dashed", f"IBAN {IBAN_SPACED.replace(' ', '-')}", IBAN),
        say("iban-lower-spaced", f"IBAN {IBAN_SPACED.lower()}", IBAN),
        say("/separators/iban-dotted", f"IBAN {IBAN_SPACED.replace(' ', '.')}", IBAN),
        say("iban-zwsp", f"IBAN {zwsp(IBAN)}", IBAN),
        say("iban-fullwidth", f"IBAN {fullwidth(IBAN)}", IBAN),
        say("phone-zwsp", f"Call {zwsp(PHONE)}", PHONE),
        say("phone-fullwidth", f"Call {fullwidth(PHONE)}", PHONE),
        say("phone-percent-plus", "Call %2B1 425 555 0100", PHONE),
        say("/separators/phone-dots", "Call +1.425.555.0100 tonight", PHONE),
    ]  # fmt: skip


def own_cases() -> list[Case]:
    """Classes beyond the issue's list that an attacker would try next."""

    def say(id: str, text: str, *secrets: str) -> Case:
        return case(id, chat(user(text)), *secrets)

    content_json = '{"contact": "quokka.zeta\\u0040example.com"}'
    double = json.dumps(json.dumps({"contact": EMAIL}))
    inner = json.dumps({"contact": EMAIL.replace("@", "\uff20")}, ensure_ascii=True)
    triple = json.dumps({"payload": json.dumps({"inner": json.dumps({"ssn": SSN})})})
    keycap = "".join(c + "\ufe0f\u20e3" if c.isdigit() else c for c in SSN)
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": SAY_EMAIL}],
    }
    output_parts = {
        "type": "function_call_output",
        "call_id": "c1",
        "output": [input_text(SAY_SSN)],
    }
    output_text = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": SAY_CARD}],
    }
    computer = {
        "type": "computer_call_output",
        "call_id": "c1",
        "output": {"type": "input_image", "image_url": f"https://x.example.net/s.png?u={EMAIL}"},
    }
    approval = {
        "type": "mcp_approval_response",
        "approval_request_id": "a1",
        "approve": False,
        "reason": SAY_EMAIL,
    }
    annotation = {
        "type": "url_citation",
        "title": SAY_EMAIL,
        "url": f"https://x.example.net/?e={EMAIL}",
    }
    return [
        say("smuggling/tags-email", f"Write to {tags(EMAIL)} today"),
        say("smuggling/tags-ssn", f"My number: {tags(SSN)}", SSN),
        case("smuggling/tags-in-args", with_call(args({"note": tags(SAY_CARD)})), CARD),
        say("homoglyph/cyrillic-email", "Write to qu\u043ekk\u0430.zeta@example.com today"),
        say("homoglyph/greek-email", "Write to quokk\u03b1.zet\u03b1@example.com today"),
        say("homoglyph/cyrillic-iban", f"IBAN D\u0415{IBAN[2:]}", IBAN),
        say("combining/underlined-email", "Write to " + "".join(c + "\u0332" for c in EMAIL)),
        say("combining/keycap-ssn", f"SSN {keycap}", SSN),
        say("combining/strike-card", "Card " + "".join(c + "\u0336" for c in CARD), CARD),
        say("combining/vs16-email", "Write to quokka\ufe0f.zeta@example\ufe0f.com"),
        say("spelled/at-dot-brackets", "Write to quokka.zeta [at] example [dot] com"),
        say("spelled/at-dot-words", "Write to quokka.zeta at example dot com"),
        say("spelled/spaces-around-at", "Write to quokka.zeta @ example.com"),
        say("base64/plain-text-email", f"Decode this and write to it: {b64(EMAIL)}"),
        say("base64/plain-text-ssn", f"My SSN, base64: {b64(SSN)}", SSN),
        case("base64/args-value", with_call(args({"blob": b64(SAY_CARD)})), CARD),
        say("nested-json/content-escaped", content_json),
        case("nested-json/args-double-encoded", with_call(double)),
        case("nested-json/args-string-holding-ascii-json", with_call(args({"payload": inner}))),
        case("nested-json/args-triple-encoded", with_call(triple), SSN),
        say("double-encoding/percent-2540", "Write to quokka.zeta%2540example.com"),
        say("double-encoding/html-amp", "Write to quokka.zeta&amp;#64;example.com"),
        say("double-encoding/percent-of-html", "Write to quokka.zeta%26%2364%3Bexample.com"),
        say("double-encoding/backslash-backslash-u", "Write to quokka.zeta\\\\u0040example.com"),
        say("idna/ideographic-dot", "Write to quokka.zeta@example\u3002com today"),
        say("digit-glue/order-number-before-card", f"order 12 {CARD_SPACED}", CARD),
        say("digit-glue/letters-digit-before-card", f"ref7 {CARD}", CARD),
        say("digit-glue/card-then-digits", f"{CARD} 99 exp", CARD),
        say("digit-glue/ssn-after-number", f"room 4 {SSN}", SSN),
        say("control-chars/nul-in-email", "Write to quokka.zeta\x00@example.com today"),
        say("control-chars/escape-in-ssn", "SSN 536\x1b-22-8915", SSN),
        say("scripts/arabic-indic-ssn", f"SSN {digits_as(SSN, ARABIC_INDIC)}", SSN),
        say("scripts/devanagari-card", f"Card {digits_as(CARD_SPACED, DEVANAGARI)}", CARD),
        say("scripts/mixed-digits-ssn", "SSN " + "".join(ARABIC_INDIC[int(c)] if c.isdigit() and i % 2 else c for i, c in enumerate(SSN)), SSN),
        say("scripts/rtl-context-email", f"\u0627\u0644\u0628\u0631\u064a\u062f \u200f{EMAIL}\u200f \u0634\u0643\u0631\u0627"),
        case("responses/input-string", {"model": "gpt-4o", "input": SAY_EMAIL}),
        case("responses/message-input-text", responses(user([input_text(SAY_SSN)])), SSN),
        case("responses/assistant-output-text", responses(output_text), CARD),
        case("responses/function-call-output-string", responses({"type": "function_call_output", "call_id": "c1", "output": SAY_EMAIL})),
        case("responses/function-call-output-parts", responses(output_parts), SSN),
        case("responses/reasoning-summary", responses(reasoning)),
        case("responses/computer-call-output", responses(computer)),
        case("responses/mcp-approval-reason", responses(approval)),
        case("responses/instructions-system-scanned", responses(NEUTRAL, instructions=SAY_EMAIL), config=ALL_ROLES),
        case("responses/developer-item-scanned", responses({"role": "developer", "content": SAY_SSN}), SSN, config=ALL_ROLES),
        case("prompt/list-of-strings", {"model": "i", "prompt": [NEUTRAL, SAY_EMAIL]}),
        case("prompt/nested-list", {"model": "i", "prompt": [[SAY_SSN]]}, SSN),
        case("prompt/embeddings-input-list", {"model": "e", "input": [NEUTRAL, SAY_CARD]}, CARD),
        case("prompt/dict", {"model": "i", "prompt": {"text": SAY_EMAIL}}),
        case("tool-output/string", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": "call_1", "content": SAY_EMAIL})),
        case("tool-output/parts", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": "call_1", "content": [part(SAY_SSN)]}), SSN),
        case("tool-output/object", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": "call_1", "content": {"result": SAY_CARD}}), CARD),
        case("tool-output/function-role", chat(user(NEUTRAL), {"role": "function", "name": "lookup", "content": SAY_IBAN}), IBAN),
        case("parts/input-text-in-chat", chat(user([input_text(SAY_EMAIL)]))),
        case("parts/text-as-object", chat(user([{"type": "text", "text": {"value": SAY_SSN}}])), SSN),
        case("parts/output-text-annotations", chat(user([{"type": "output_text", "text": NEUTRAL, "annotations": [annotation]}]))),
        case("parts/refusal-part", chat({"role": "assistant", "content": [{"type": "refusal", "refusal": SAY_EMAIL}]})),
        case("parts/audio-transcript", chat(user([{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav", "transcript": SAY_EMAIL}}]))),
        case("parts/unknown-type", chat(user([{"type": "note", "note": SAY_EMAIL}]))),
        case("parts/bare-string-part", chat(user([SAY_SSN])), SSN),
        case("parts/nested-list", chat(user([[part(SAY_CARD)]])), CARD),
        case("parts/image-url-as-string", chat(user([{"type": "image_url", "image_url": f"https://x.example.net/a.png?e={EMAIL}"}]))),
        case("parts/file-data-text-raw", chat(user([{"type": "file", "file": {"filename": "a.txt", "file_data": SAY_EMAIL}}]))),
    ]  # fmt: skip


def control_cases() -> list[Case]:
    """Plain spellings the service masks today: a harness that sees nothing fails these."""
    png = chat(user([part(SAY_EMAIL), image(REAL_PNG)]))
    return [
        Case("control/email", chat(user(SAY_EMAIL)), (EMAIL,), control=True),
        Case("control/ssn", chat(user(SAY_SSN)), (SSN,), control=True),
        Case("control/card", chat(user(f"card {CARD}")), (CARD,), control=True),
        Case("control/card-spaced", chat(user(SAY_CARD)), (CARD,), control=True),
        Case("control/iban", chat(user(SAY_IBAN)), (IBAN,), control=True),
        Case("control/phone", chat(user(SAY_PHONE)), (PHONE,), control=True),
        Case("control/all-in-one", chat(user(" ".join([SAY_EMAIL, SAY_SSN, SAY_CARD, SAY_IBAN]))), (EMAIL, SSN, CARD, IBAN), control=True),
        Case("control/parts", chat(user([part(SAY_EMAIL), part(SAY_SSN)])), (EMAIL, SSN), control=True),
        Case("control/tool-args-value", with_call(args({"note": SAY_EMAIL, "n": 3})), (EMAIL,), control=True),
        Case("control/responses-input-text", responses(user([input_text(SAY_SSN)])), (SSN,), control=True),
        Case("control/real-png-untouched", png, (EMAIL,), control=True, unchanged=(("messages", 0, "content", 1),)),
    ]  # fmt: skip


CASES = [
    *control_cases(),
    *field_cases(),
    *role_cases(),
    *key_cases(),
    *number_cases(),
    *binary_cases(),
    *seam_cases(),
    *disguise_cases(),
    *own_cases(),
]
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
assert sum(not c.control for c in CASES) >= 150


# --- running a case ---------------------------------------------------------------------------


def _get(value: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def string_values(value: Any) -> Iterator[str]:
    """The string values in ``value`` (its own field names are not the caller's)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_values(item)


# A record's own bookkeeping (clock readings, thread and process ids, source line): never the
# caller's, and numbers that, read together, could spell any digit run by chance.
_RECORD_BOOKKEEPING = frozenset(
    {"created", "msecs", "relativeCreated", "thread", "process", "lineno", "taskName"}
)


def log_text(records: Iterable[logging.LogRecord]) -> str:
    """Every log record as text: its message and every attribute (custom dimensions included) but
    the record's bookkeeping, each apart by " | " so that digits of two attributes never read as
    one number."""
    return "\n".join(
        " | ".join(
            [record.getMessage()]
            + [str(v) for k, v in vars(record).items() if k not in _RECORD_BOOKKEEPING]
        )
        for record in records
    )


def assert_no_echo(
    secrets: Iterable[str], keys: Iterable[str], result: dict[str, Any], logs: str
) -> None:
    """Neither a canary nor a key of the request in diagnostics, error or the logs."""
    for name in ("diagnostics", "error"):
        part = result.get(name)
        if part is None:
            continue
        assert not readable(secrets, part), f"{name} repeats request text"
        values = "\n".join(string_values(part))
        echoed = [key for key in keys if key in values]
        assert not echoed, f"{name} repeats {len(echoed)} request key(s)"
    assert not [s for s in secrets if needle(s) in canonical(logs)], "a log record repeats PII"
    echoed_in_logs = [key for key in keys if key in logs]
    assert not echoed_in_logs, "a log record repeats a request key"


async def redact_case(
    detector: str,
    client: TestClient[Any, Any],
    body: Any,
    secrets: tuple[str, ...],
    config: dict[str, Any] | None,
    caplog: pytest.LogCaptureFixture,
) -> tuple[int, dict[str, Any]]:
    """Posts the case; checks everything every answer must satisfy; returns (status, result)."""
    payload: dict[str, Any] = {"body": body}
    if config is not None:
        payload["config"] = config
    caplog.clear()
    response = await client.post("/redact", json=payload)
    raw = await response.text()
    if response.status >= 400:
        assert response.content_type == "application/json", f"{response.status} is not JSON"
    result = strict_loads(raw)
    assert isinstance(result, dict)
    assert response.status != 500, "the service crashed"
    assert_no_echo(secrets, request_keys(body), result, log_text(caplog.records))
    diagnostics = result.get("diagnostics") or {}
    if "detector" in diagnostics:
        assert diagnostics["detector"] == detector, "the case ran on the wrong detector"
    return response.status, result


def is_ok(status: int, result: dict[str, Any]) -> bool:
    return status == 200 and result.get("status") == "ok" and result.get("full_coverage") is True


@pytest.mark.server  # the service is started through a fixture chosen by name
@pytest.mark.parametrize("leak", CASES, ids=[c.id for c in CASES])
async def test_no_canary_survives_ok(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hidden = readable(leak.secrets, leak.body)
    assert hidden == list(leak.secrets), "the case must carry its canaries in readable form"
    detector, client = service

    status, result = await redact_case(
        detector, client, leak.body, leak.secrets, leak.config, caplog
    )

    if leak.control:
        assert is_ok(status, result), "a plain-spelling control must be answered ok"
    if not is_ok(status, result):
        return
    redacted = result["redacted_body"]
    survivors = readable(leak.secrets, redacted)
    assert not survivors, f"{len(survivors)} canary(ies) readable in an ok answer"
    assert_same_shape(leak.body, redacted)
    for path in leak.unchanged:
        assert _get(redacted, path) == _get(leak.body, path), f"{path} changed"


def test_the_canonical_view_reads_every_disguise() -> None:
    """The normaliser itself: each disguise reads as its canary, a masked one as nothing."""
    assert needle(CARD_SPACED) == CARD
    assert needle(PHONE) == "4255550100"
    assert readable([EMAIL], {"a": "quokka.zeta\\u0040example.com"}) == [EMAIL]
    assert readable([EMAIL], {"a": zwsp(fullwidth(EMAIL))}) == [EMAIL]
    assert readable([EMAIL], {"a": "data:text/plain;base64," + b64(SAY_EMAIL)}) == [EMAIL]
    assert readable([SSN], {"a": digits_as(SSN, CIRCLED)}) == [SSN]
    assert readable([IBAN], {"a": IBAN_SPACED.lower().replace(" ", "-")}) == [IBAN]
    assert readable([EMAIL], [part("quokka.ze"), part("ta@example.com")]) == [EMAIL]
    assert readable([EMAIL, SSN, CARD], {"a": "#" * 23, "b": "###-##-####", "c": 0}) == []


# --- diagnostics and errors never echo the request ---------------------------------------------

DIAGNOSTIC_BODIES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("unknown-body-email-key", {"records": {EMAIL: "gold customer since spring"}}, (EMAIL,)),
    ("unknown-body-ssn-key", {"index": {f"ssn {SSN}": "holder of the account"}}, (SSN,)),
    ("tool-args-email-key", with_call(args({EMAIL: "primary contact for the order"})), (EMAIL,)),
    ("tool-args-card-key", with_call(args({CARD_SPACED: "visa card on file"})), (CARD,)),
    ("metadata-email-key", chat(user(SAY_SSN), metadata={EMAIL: "vip customer"}), (EMAIL,)),
    (
        "responses-item-email-key",
        responses({"type": "custom_note", "notes": {EMAIL: "called twice"}}),
        (EMAIL,),
    ),
    ("chat-top-level-key", chat(user("hello there, how are you"), **{EMAIL: "cc"}), (EMAIL,)),
]
# Two ways to leave documents unscanned: Language failing for good (Azure path), and the tenant's
# own patterns running out of time (both detectors; the only way on the embedded one).
ANY_LETTER = {"name": "anything", "pattern": "[a-z]", "category": "Anything"}


async def forced_failure_service(
    detector: str, make_service: ServiceFactory, emulator: Emulator
) -> tuple[TestClient[Any, Any], dict[str, Any]]:
    if detector == "azure":
        await emulator.inject({"kind": "status", "status": 500, "times": None})
        client = await make_service(
            language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, pii_max_attempts=2
        )
        return client, {}
    client = await make_service(pii_detector="local", pii_policy_text_timeout_ms=0.001)
    return client, {"custom_patterns": [ANY_LETTER]}


@pytest.mark.parametrize("fail_closed", [False, True], ids=["fail-open", "fail-closed"])
@pytest.mark.parametrize(
    ("name", "body", "secrets"), DIAGNOSTIC_BODIES, ids=[b[0] for b in DIAGNOSTIC_BODIES]
)
@pytest.mark.parametrize("detector", DETECTORS)
async def test_diagnostics_of_unscanned_documents_never_echo(
    make_service: ServiceFactory,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
    detector: str,
    name: str,
    body: dict[str, Any],
    secrets: tuple[str, ...],
    fail_closed: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert readable(secrets, body) == list(secrets)
    client, config = await forced_failure_service(detector, make_service, emulator)

    status, result = await redact_case(
        detector, client, body, secrets, {**config, "fail_closed": fail_closed}, caplog
    )

    # The fault really left documents unscanned, so unscanned_paths had something to show.
    assert result["full_coverage"] is False, f"{name}: the failure was not forced"
    assert result["diagnostics"]["unscanned_docs"] >= 1
    assert result["diagnostics"]["unscanned_paths"]
    expected = (503, "error") if fail_closed else (200, "partial")
    assert (status, result["status"]) == expected


def _deep(depth: int) -> str:
    return '{"body": ' + f'{{"{EMAIL}": ' * depth + "1" + "}" * depth + "}"


# Refused requests whose offending part is personal data: (name, raw request bytes, headers).
REFUSALS: list[tuple[str, bytes, dict[str, str]]] = [
    (
        "config-threshold-key",
        json.dumps({"body": chat(), "config": {"category_thresholds": {EMAIL: 0.5}}}).encode(),
        {},
    ),
    ("config-unknown-field", json.dumps({"body": chat(), "config": {EMAIL: 1}}).encode(), {}),
    ("request-unknown-field", json.dumps({"body": chat(), EMAIL: 1}).encode(), {}),
    (
        "config-excluded-category",
        json.dumps({"body": chat(), "config": {"excluded_categories": [EMAIL]}}).encode(),
        {},
    ),
    ("config-categories", json.dumps({"body": chat(), "config": {"categories": [EMAIL]}}).encode(), {}),
    (
        "config-pattern-name",
        json.dumps({"body": chat(), "config": {"custom_patterns": [{**ANY_LETTER, "name": EMAIL}]}}).encode(),
        {},
    ),
    (
        "config-bad-allow-pattern",
        json.dumps({"body": chat(), "config": {"allow_patterns": [f"{EMAIL}(["]}}).encode(),
        {},
    ),
    ("config-policy-name", json.dumps({"body": chat(), "config": {"policy": EMAIL}}).encode(), {}),
    ("config-mask-character", json.dumps({"body": chat(), "config": {"redaction_character": SSN}}).encode(), {}),
    ("config-fail-closed-type", json.dumps({"body": chat(), "config": {"fail_closed": EMAIL}}).encode(), {}),
    ("too-deep", _deep(80).encode(), {}),
    ("duplicate-key", ('{"body": {"' + EMAIL + '": 1, "' + EMAIL + '": 2}}').encode(), {}),
    ("invalid-json", ('{"body": {"messages": "' + EMAIL + '" ' + SSN + "}}").encode(), {}),
    ("lone-surrogate-key", ('{"body": {"\\ud800' + EMAIL + '": 1}}').encode(), {}),
    ("not-utf8", b'{"body": {"note": "' + EMAIL.encode() + b'\xff\xfe"}}', {}),
    ("body-not-object", json.dumps({"body": SAY_EMAIL}).encode(), {}),
    ("wrong-content-type", json.dumps({"body": {"note": SAY_EMAIL}}).encode(), {"Content-Type": "text/plain"}),
    ("compressed", json.dumps({"body": {"note": SAY_EMAIL}}).encode(), {"Content-Encoding": "gzip"}),
]  # fmt: skip


@pytest.mark.server  # the service is started through a fixture chosen by name
@pytest.mark.parametrize(("name", "raw", "headers"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusals_never_echo(
    service: tuple[str, TestClient[Any, Any]],
    caplog: pytest.LogCaptureFixture,
    name: str,
    raw: bytes,
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)
    _, client = service
    response = await client.post(
        "/redact", data=raw, headers={"Content-Type": "application/json", **headers}
    )
    text = await response.text()
    assert response.status != 500, f"{name}: the service crashed"
    assert response.content_type == "application/json", f"{name}: {response.status} is not JSON"
    result = json.loads(text)
    assert response.status >= 400 or result.get("status") == "ok", name
    secrets = (EMAIL, SSN)
    assert not readable(secrets, result.get("error") or {}), f"{name}: the error repeats PII"
    assert not readable(secrets, result.get("diagnostics") or {}), f"{name}: diagnostics too"
    assert not [s for s in secrets if needle(s) in canonical(log_text(caplog.records))]


MALFORMED_HTTP = {
    "header-without-colon": f"POST /redact HTTP/1.1\r\nHost: x\r\n{EMAIL} {SSN}\r\n\r\n",
    "bad-content-length": f"POST /redact HTTP/1.1\r\nHost: x\r\nContent-Length: {SSN}\r\n\r\n",
    "bad-method": f"PO\x00ST /{EMAIL}/{SSN} HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.server  # the service is started through a fixture chosen by name
@pytest.mark.parametrize("raw", MALFORMED_HTTP.values(), ids=MALFORMED_HTTP.keys())
async def test_malformed_http_is_never_echoed(
    service: tuple[str, TestClient[Any, Any]], caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    """Bytes that are not HTTP: the 400 and the logs carry none of them."""
    caplog.set_level(logging.DEBUG)
    _, client = service
    host, port = client.server.host, client.server.port
    assert port is not None
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(raw.encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    await writer.wait_closed()
    text = answer.decode("utf-8", "replace")
    assert re.match(r"HTTP/1\.[01] 4\d\d ", text), "malformed HTTP must be refused"
    head, _, payload = text.partition("\r\n\r\n")
    assert re.search(r"(?im)^content-type: application/json", head), "the 400 is not JSON"
    json.loads(payload)
    assert not [s for s in (EMAIL, SSN) if needle(s) in canonical(text)], "the answer echoes"
    logs = canonical(log_text(caplog.records))
    assert not [s for s in (EMAIL, SSN) if needle(s) in logs], "a log record echoes"


@pytest.mark.parametrize("detector", DETECTORS)
async def test_a_function_key_that_is_not_utf8_is_never_echoed(
    make_service: ServiceFactory,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
    detector: str,
) -> None:
    """A wrong key holding personal data and invalid UTF-8: a JSON 401 that repeats none of it."""
    caplog.set_level(logging.DEBUG)
    if detector == "azure":
        client = await make_service(
            language_endpoint=emulator.url,
            language_api_key=EMULATOR_KEY,
            redaction_api_key="the-right-key",
        )
    else:
        client = await make_service(pii_detector="local", redaction_api_key="the-right-key")
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    head = "POST /redact HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    key = f"x-functions-key: {EMAIL}".encode() + b"\xff\xfe\r\n"
    writer.write(head.encode() + key + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    await writer.drain()
    answer = (await asyncio.wait_for(reader.read(65536), 5)).decode("utf-8", "replace")
    writer.close()
    await writer.wait_closed()
    head_text, _, payload = answer.partition("\r\n\r\n")
    assert re.match(r"HTTP/1\.[01] 401 ", head_text), "a wrong key must be a 401"
    assert re.search(r"(?im)^content-type: application/json", head_text), "the 401 is not JSON"
    json.loads(payload)
    assert needle(EMAIL) not in canonical(answer), "the answer echoes the key"
    assert needle(EMAIL) not in canonical(log_text(caplog.records)), "a log record echoes it"
