"""The APIM policy fragment and the tenant example, checked against the function and the infra.

APIM cannot run here, so these tests read the policy XML and the C# inside it: the files must be
well-formed XML, every variable read must be set somewhere, every field read from the function's
answer must exist in ``redaction.models``, and named values must be created by the bicep. Where
Mono's C# compiler is installed, the string-only expressions are compiled and run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import types
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
FRAGMENT = ROOT / "apim" / "fragments" / "pii-anonymization.xml"
EXAMPLE = ROOT / "apim" / "tenant-policy.example.xml"
OUTBOUND = ROOT / "apim" / "fragments" / "pii-deanonymization.xml"
INFRA_FILES = sorted((ROOT / "infra").rglob("*.bicep"))
APIM_DOC = ROOT / "docs" / "telemetry.md"  # the gateway trace and its failure reasons

# The inputs of the system the fragment replaces (issue 7); tenants set exactly these.
INPUTS = (
    "piiInputContent",
    "piiAnonymizationEnabled",
    "piiExcludedCategories",
    "piiDetectionLanguage",
    "piiFailClosed",
    "piiScanRoles",
)
OUTPUT = "piiAnonymizedContent"
BODY_VARIABLES = {"piiInputContent", OUTPUT, "piiRedactAnswerText", "piiRedactedBodyText"}

READ_PATTERNS = (
    re.compile(r'context\.Variables\["(\w+)"\]'),
    re.compile(r'GetValueOrDefault<[^>]+>\(\s*"(\w+)"'),
    re.compile(r'Variables\.ContainsKey\(\s*"(\w+)"'),
)


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def expressions(root: ET.Element) -> list[tuple[ET.Element, str, str]]:
    """(element, where, code) for every policy expression: attribute values and element text."""
    found = []
    for element in root.iter():
        for name, value in element.attrib.items():
            if value.startswith(("@(", "@{")):
                found.append((element, f"@{name}", value))
        text = (element.text or "").strip()
        if text.startswith(("@(", "@{")):
            found.append((element, "text", text))
    return found


def code_of(root: ET.Element) -> str:
    return "\n".join(code for _, _, code in expressions(root))


def variables_read(root: ET.Element) -> set[str]:
    code = code_of(root)
    return {name for pattern in READ_PATTERNS for name in pattern.findall(code)}


def variables_set(root: ET.Element) -> set[str]:
    names = {e.attrib["name"] for e in root.iter("set-variable")}
    names |= {e.attrib["response-variable-name"] for e in root.iter("send-request")}
    return names


def set_variable_code(root: ET.Element, name: str) -> str:
    matches = [e.attrib["value"] for e in root.iter("set-variable") if e.attrib["name"] == name]
    assert len(matches) == 1, f"expected one set-variable {name!r}, found {len(matches)}"
    return matches[0]


def strip_strings(code: str) -> str:
    """The code with string and char literal contents removed (for bracket counting)."""
    code = re.sub(r'@"(?:[^"]|"")*"', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    return re.sub(r"'(?:\\.|[^'\\])'", "''", code)


def named_values_in_infra() -> dict[str, bool]:
    """Named value name -> secret flag, from the namedValues resources of the bicep files."""
    found: dict[str, bool] = {}
    for path in INFRA_FILES:
        text = path.read_text()
        for block in re.finditer(
            r"resource \w+ 'Microsoft\.ApiManagement/service/namedValues@[^']+' = \{(.*?)\n\}",
            text,
            re.S,
        ):
            body = block.group(1)
            name = re.search(r"^\s*name: '([^']+)'", body, re.M)
            assert name, f"namedValues resource without a literal name in {path}"
            found[name.group(1)] = bool(re.search(r"secret: true", body))
    return found


def model_of(annotation: object) -> type[BaseModel]:
    """The pydantic model inside an annotation such as ``Diagnostics | None``."""
    candidates = typing.get_args(annotation) or (annotation,)
    if isinstance(annotation, types.UnionType):
        candidates = annotation.__args__
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    raise AssertionError(f"{annotation!r} holds no pydantic model")


# --- well-formedness --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "tag"), [(FRAGMENT, "fragment"), (EXAMPLE, "policies"), (OUTBOUND, "fragment")]
)
def test_policy_files_are_well_formed_xml(path: Path, tag: str) -> None:
    root = parse(path)
    assert root.tag == tag
    assert expressions(root), "no policy expressions found: the parser is not looking right"


@pytest.mark.parametrize("path", [FRAGMENT, EXAMPLE, OUTBOUND])
def test_expressions_survive_xml_attribute_normalization(path: Path) -> None:
    """XML turns newlines in attributes into spaces: a // comment would swallow the rest."""
    for element, where, code in expressions(parse(path)):
        if where.startswith("@"):
            assert "//" not in strip_strings(code), f"// in <{element.tag} {where[1:]}>"


@pytest.mark.parametrize("path", [FRAGMENT, EXAMPLE, OUTBOUND])
def test_expressions_are_balanced_and_return(path: Path) -> None:
    for element, where, code in expressions(parse(path)):
        bare = strip_strings(code)
        for opening, closing in ("()", "{}", "[]"):
            assert bare.count(opening) == bare.count(closing), (
                f"{opening}{closing} in {element.tag} {where}"
            )
        if code.startswith("@{"):
            assert code.endswith("}"), f"{element.tag} {where}"
            assert "return" in bare, f"{element.tag} {where} lacks a return"
        else:
            assert code.endswith(")"), f"{element.tag} {where}"


# --- variables --------------------------------------------------------------------------------


def test_fragment_reads_the_documented_inputs() -> None:
    reads = variables_read(parse(FRAGMENT))
    assert set(INPUTS) <= reads, f"inputs never read: {set(INPUTS) - reads}"


def test_every_variable_the_fragment_reads_is_set() -> None:
    fragment, example = parse(FRAGMENT), parse(EXAMPLE)
    missing = variables_read(fragment) - variables_set(fragment) - variables_set(example)
    assert not missing, f"read by the fragment but set nowhere: {sorted(missing)}"


def test_example_sets_every_input_and_reads_only_what_exists() -> None:
    fragment, example = parse(FRAGMENT), parse(EXAMPLE)
    assert set(INPUTS) <= variables_set(example)
    missing = variables_read(example) - variables_set(example) - variables_set(fragment)
    missing -= variables_set(parse(OUTBOUND))
    assert not missing, f"read by the example but set nowhere: {sorted(missing)}"
    assert OUTPUT in variables_set(fragment)
    assert OUTPUT in variables_read(example)


def test_example_includes_the_fragment_after_setting_its_input_and_writes_the_body() -> None:
    order = [
        (e.tag, e.attrib.get("name") or e.attrib.get("fragment-id"))
        for e in parse(EXAMPLE).iter()
        if e.tag in {"set-variable", "include-fragment", "set-body"}
    ]
    include = order.index(("include-fragment", fragment_id_in_infra()))
    assert order.index(("set-variable", "piiInputContent")) < include
    set_body = [i for i, (tag, _) in enumerate(order) if tag == "set-body"]
    assert set_body
    assert set_body[0] > include


# --- the function's contract ------------------------------------------------------------------


def test_answer_fields_the_fragment_reads_exist_in_the_response_model() -> None:
    models = pytest.importorskip("redaction.models")
    code = code_of(parse(FRAGMENT))
    handles: dict[str, type[BaseModel]] = {"answer": models.RedactResponse}
    for local, field in re.findall(r'var (\w+) = answer\["(\w+)"\]', code):
        assert field in models.RedactResponse.model_fields, field
        handles[local] = model_of(models.RedactResponse.model_fields[field].annotation)
    assert handles.keys() >= {"answer", "diag", "err"}, handles
    read: dict[str, set[str]] = {}
    for local in handles:
        fields = set(re.findall(rf'\b{local}\["(\w+)"\]', code))
        fields |= set(re.findall(rf'\b{local}\.Value<[^>]+>\("(\w+)"\)', code))
        read[local] = fields
    read["answer"] |= set(re.findall(r'key == "(\w+)"', code))
    assert {"status", "full_coverage", "redacted_body"} <= read["answer"]
    for local, fields in read.items():
        unknown = fields - handles[local].model_fields.keys()
        assert not unknown, f"{local} ({handles[local].__name__}) has no {sorted(unknown)}"


def test_request_the_fragment_sends_matches_the_request_model() -> None:
    """RedactRequest and RedactConfig forbid unknown keys: a typo here is a 400 in production."""
    models = pytest.importorskip("redaction.models")
    code = code_of(parse(FRAGMENT))
    config_keys = set(re.findall(r'config\["(\w+)"\] =', code))
    request_keys = set(re.findall(r'request\["(\w+)"\] =', code))
    assert {"fail_closed", "correlation_id", "subscription_id"} <= config_keys
    assert config_keys <= models.RedactConfig.model_fields.keys()
    assert request_keys == {"body", "config"} <= models.RedactRequest.model_fields.keys()
    assert "context.RequestId" in code
    assert "context.Subscription.Id" in code


def test_fragment_posts_to_redact_with_the_function_key() -> None:
    send = next(parse(FRAGMENT).iter("send-request"))
    assert send.attrib["ignore-error"] == "true"
    assert (send.findtext("set-method") or "").strip() == "POST"
    assert (send.findtext("set-url") or "").rstrip().endswith('"/redact")')
    headers = {
        h.attrib["name"].lower(): (h.findtext("value") or "").strip()
        for h in send.iter("set-header")
    }
    assert headers["x-functions-key"] == "{{piiRedactionFunctionKey}}"
    assert headers["content-type"] == "application/json"


def test_send_request_timeout_is_just_above_the_function_deadline() -> None:
    timeout = int(next(parse(FRAGMENT).iter("send-request")).attrib["timeout"])
    main = (ROOT / "infra" / "main.bicep").read_text()
    deadline = int(re.search(r"param piiDeadlineSeconds int = (\d+)", main).group(1))
    ceiling = int(re.search(r"@maxValue\((\d+)\)\s*\nparam piiDeadlineSeconds", main).group(1))
    assert "PII_DEADLINE_S: string(piiDeadlineSeconds)" in main
    assert deadline <= ceiling < timeout <= ceiling + 15
    assert timeout < 230, "Azure's load balancer drops HTTP calls after 230 s"


def test_fail_closed_answers_503_with_reason_and_request_id() -> None:
    fragment = parse(FRAGMENT)
    (response,) = list(fragment.iter("return-response"))
    assert response.find("set-status").attrib["code"] == "503"
    body = response.findtext("set-body") or ""
    for needle in ('"PiiRedactionFailed"', '["failure_reason"]', "context.RequestId"):
        assert needle in body
    when = next(w for w in fragment.iter("when") if w.find("return-response") is not None)
    assert '"blocked"' in when.attrib["condition"]


# --- infra and docs ---------------------------------------------------------------------------


def fragment_id_in_infra() -> str:
    for path in INFRA_FILES:
        match = re.search(
            r"'Microsoft\.ApiManagement/service/policyFragments@[^']+' = \{.*?name: '([^']+)'"
            r".*?loadTextContent\('([^']+)'\)",
            path.read_text(),
            re.S,
        )
        if match:
            assert (path.parent / match.group(2)).resolve() == FRAGMENT
            return match.group(1)
    raise AssertionError("no policyFragments resource in infra/")


def test_named_values_are_created_by_the_infra() -> None:
    text = FRAGMENT.read_text() + OUTBOUND.read_text() + EXAMPLE.read_text()
    referenced = set(re.findall(r"\{\{([\w.-]+)\}\}", text))
    created = named_values_in_infra()
    assert referenced >= {"piiRedactionFunctionUrl", "piiRedactionFunctionKey"}
    assert referenced <= created.keys(), f"not created: {referenced - created.keys()}"
    assert created["piiRedactionFunctionKey"] is True, "the function key must be a secret"
    assert created["piiRestoreFunctionKey"] is True, "the restore key must be a secret"


def test_fragment_deployed_by_infra_is_the_one_the_example_includes() -> None:
    included = {e.attrib["fragment-id"] for e in parse(EXAMPLE).iter("include-fragment")}
    assert included == {fragment_id_in_infra(), OUTBOUND.stem}


def trace_dimensions(root: ET.Element) -> list[list[str]]:
    return [[m.attrib["name"] for m in trace.iter("metadata")] for trace in root.iter("trace")]


def test_traces_carry_the_documented_dimensions_and_never_the_body() -> None:
    fragment = parse(FRAGMENT)
    dimensions = trace_dimensions(fragment)
    assert len(dimensions) >= 2
    assert all(d == dimensions[0] for d in dimensions)
    built = re.findall(r'trace\["(\w+)"\] =', set_variable_code(fragment, "piiRedactionTrace"))
    assert set(built) == set(dimensions[0])
    documented = set(re.findall(r"^\| `(\w+)` \|", APIM_DOC.read_text(), re.M))
    assert set(dimensions[0]) <= documented, set(dimensions[0]) - documented
    traced_code = set_variable_code(fragment, "piiRedactionTrace")
    for trace in fragment.iter("trace"):
        traced_code += "".join(code for _, _, code in expressions(trace))
        traced_code += trace.findtext("message") or ""
    for variable in BODY_VARIABLES:
        assert variable not in traced_code, f"{variable} reaches a trace"


def test_failure_reasons_are_documented() -> None:
    code = set_variable_code(parse(FRAGMENT), "piiRedactionFailureReason")
    code += set_variable_code(parse(FRAGMENT), "piiRedactionSkip")
    reasons = set(re.findall(r'return "([\w: -]+?)(?:: )?"', code)) - {"", "disabled", "empty"}
    assert {"no-response", "payload-too-large", "http-", "service-error"} <= reasons
    doc = APIM_DOC.read_text()
    for reason in reasons:
        assert f"`{reason}" in doc, f"failure reason {reason!r} is not in docs/telemetry.md"


# --- the string-only expressions, compiled with Mono -------------------------------------------

HARNESS = """
using System;
using System.Collections.Generic;
using System.Linq;

public class Vars : Dictionary<string, object> {
    public T GetValueOrDefault<T>(string name, T fallback) {
        object value;
        return TryGetValue(name, out value) ? (T)value : fallback;
    }
    public T GetValueOrDefault<T>(string name) { return GetValueOrDefault<T>(name, default(T)); }
}
public class Ctx { public Vars Variables = new Vars(); }
public static class Expr { public static object Eval(Ctx context) { BODY } }
public static class Program {
    public static void Main() {
        var cases = Console.In.ReadToEnd().Split((char)29);
        var results = new List<string>();
        foreach (var item in cases) {
            var context = new Ctx();
            var pairs = item.Split(new[] { (char)30 }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var pair in pairs) {
                var parts = pair.Split(new[] { (char)31 }, 2);
                context.Variables[parts[0]] = parts[1];
            }
            results.Add(Convert.ToString(Expr.Eval(context)));
        }
        Console.Out.Write(string.Join(((char)29).ToString(), results));
    }
}
"""


def run_expression(code: str, cases: list[dict[str, str]], tmp_path: Path) -> list[str]:
    """Compiles one policy expression with a fake context and runs it once per case."""
    if not (shutil.which("mcs") and shutil.which("mono")):
        if os.environ.get("APIM_REQUIRE_MONO") == "1":
            pytest.fail("APIM_REQUIRE_MONO=1 but Mono is not installed")
        pytest.skip("Mono C# compiler not installed (apt-get install mono-mcs mono-runtime)")
    body = code[2:-1] if code.startswith("@{") else f"return {code[1:]};"
    source = tmp_path / "expr.cs"
    source.write_text(HARNESS.replace("BODY", body))
    program = tmp_path / "expr.exe"
    subprocess.run(
        ["mcs", "-nologo", f"-out:{program}", str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    stdin = chr(29).join(
        chr(30).join(f"{name}{chr(31)}{value}" for name, value in case.items()) for case in cases
    )
    done = subprocess.run(
        ["mono", str(program)], input=stdin, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.split(chr(29))


def test_redacted_body_is_cut_out_of_the_answer_byte_for_byte(tmp_path: Path) -> None:
    redacted = (
        '{"messages": [{"role": "user", "content": "say \\"redacted_body\\": {\\"x\\": 1} \\\\"}],'
        ' "metadata": {"when": "2024-05-01", "n": 1.50, "list": [{"a": []}, "}"]}}'
    )
    ok = (
        f'{{"status": "ok", "full_coverage": true, "redacted_body": {redacted}, '
        '"diagnostics": {}}'
    )
    last = f'{{"diagnostics": {{"redacted_body": {{"no": 1}}}}, "redacted_body":{redacted}}}'
    inner_key = (
        '{"status": "partial", "x": {"redacted_body": {"wrong": true}}, '
        '"redacted_body": {"right": 1}}'
    )
    cases = [
        ok,
        last,
        inner_key,
        '{"status": "error", "redacted_body": null, "error": {"code": "PiiRedactionFailed"}}',
        '{"redacted_body": [1, 2]}',
        "<html>Bad Gateway</html>",
        "",
        '{"redacted_body": {"cut": ',
    ]
    code = set_variable_code(parse(FRAGMENT), "piiRedactedBodyText")
    results = run_expression(code, [{"piiRedactAnswerText": case} for case in cases], tmp_path)
    assert results == [redacted, redacted, '{"right": 1}', "", "", "", "", ""]


def test_fail_closed_unless_explicitly_false(tmp_path: Path) -> None:
    code = set_variable_code(parse(FRAGMENT), "piiRedactionFailClosed")
    values = ["true", "false", " FALSE ", "no", ""]
    results = run_expression(code, [{}] + [{"piiFailClosed": value} for value in values], tmp_path)
    assert results == ["True", "True", "False", "False", "True", "True"]


def test_skip_reasons(tmp_path: Path) -> None:
    code = set_variable_code(parse(FRAGMENT), "piiRedactionSkip")
    cases = [
        {"piiInputContent": '{"messages": []}'},
        {"piiInputContent": '  {"messages": []}', "piiAnonymizationEnabled": "True"},
        {"piiInputContent": '{"messages": []}', "piiAnonymizationEnabled": "false"},
        {"piiInputContent": "   "},
        {"piiInputContent": "[1, 2]"},
        {"piiInputContent": "--boundary\r\nContent-Disposition: form-data"},
    ]
    results = run_expression(code, cases, tmp_path)
    assert results == ["", "", "disabled", "empty", "unsupported-body", "unsupported-body"]


# --- the outbound half: pii-deanonymization ------------------------------------------------------

RESTORE_VARIABLES = {"piiRestoreToken", "piiModelAnswerText", "piiRestoreAnswerText"}


def test_inbound_fragment_sends_the_mask_style_and_keeps_the_token() -> None:
    code = code_of(parse(FRAGMENT))
    assert 'config["mask_style"] = "placeholder"' in code
    assert 'answer["restore_token"]' in code
    assert "piiRestoreToken" in variables_set(parse(FRAGMENT))
    assert {"piiMaskStyle", "piiConversationId"} <= variables_set(parse(EXAMPLE))


def test_outbound_fragment_posts_to_restore_what_the_restore_model_accepts() -> None:
    models = pytest.importorskip("redaction.models")
    outbound = parse(OUTBOUND)
    (send,) = list(outbound.iter("send-request"))
    assert send.attrib["ignore-error"] == "true"
    assert (send.findtext("set-url") or "").rstrip().endswith('"/restore")')
    headers = {
        h.attrib["name"].lower(): (h.findtext("value") or "").strip()
        for h in send.iter("set-header")
    }
    assert headers["x-functions-key"] == "{{piiRestoreFunctionKey}}", "the restore key only"
    assert "piiRedactionFunctionKey" not in OUTBOUND.read_text().split("-->", 1)[1]
    code = code_of(outbound)
    request_keys = set(re.findall(r'request\["(\w+)"\] =', code))
    config_keys = set(re.findall(r'config\["(\w+)"\] =', code))
    assert request_keys == set(models.RestoreRequest.model_fields)
    assert config_keys == set(models.RestoreConfig.model_fields)
    assert set(re.findall(r'key == "(\w+)"', code)) <= set(models.RestoreResponse.model_fields)


def test_outbound_fragment_reads_only_variables_set_somewhere() -> None:
    outbound = parse(OUTBOUND)
    known = variables_set(outbound) | variables_set(parse(FRAGMENT)) | variables_set(parse(EXAMPLE))
    assert variables_read(outbound) <= known, variables_read(outbound) - known


def test_example_restores_in_outbound_after_base() -> None:
    outbound = parse(EXAMPLE).find("outbound")
    assert outbound is not None
    tags = [(e.tag, e.attrib.get("fragment-id")) for e in outbound]
    assert tags.index(("include-fragment", OUTBOUND.stem)) > tags.index(("base", None))


def test_the_token_and_bodies_never_reach_a_trace() -> None:
    for path in (FRAGMENT, OUTBOUND):
        root = parse(path)
        traced = "".join(code for trace in root.iter("trace") for _, _, code in expressions(trace))
        if path == FRAGMENT:
            traced += set_variable_code(root, "piiRedactionTrace")
        for variable in RESTORE_VARIABLES | BODY_VARIABLES | {"piiRestoredBodyText"}:
            assert variable not in traced, f"{variable} reaches a trace in {path.name}"


def test_infra_deploys_the_outbound_fragment() -> None:
    text = "".join(path.read_text() for path in INFRA_FILES)
    assert "pii-deanonymization.xml" in text


def test_restored_body_is_cut_out_of_the_restore_answer_byte_for_byte(tmp_path: Path) -> None:
    restored = '{"choices": [{"message": {"content": "Hi \\"Ann\\" } ]"}}], "created": 1.50}'
    cases = [
        f'{{"status": "ok", "restored_body": {restored}, "restored": 1}}',
        f'{{"x": {{"restored_body": {{"no": 1}}}}, "restored_body":{restored}}}',
        '{"status": "error", "error": {"code": "InvalidRestoreToken"}}',
        "",
        '{"restored_body": {"cut": ',
    ]
    code = set_variable_code(parse(OUTBOUND), "piiRestoredBodyText")
    results = run_expression(code, [{"piiRestoreAnswerText": case} for case in cases], tmp_path)
    assert results == [restored, restored, "", "", ""]
