"""Tenant policy as plain values: compiling, matching, filtering, merging, named policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redaction.categories import ALL_CATEGORIES
from redaction.entities import Entity
from redaction.errors import InvalidRequestError, SettingsError
from redaction.http.decoding import validate_request
from redaction.models import RedactConfig
from redaction.policy.patterns import (
    PatternError,
    PatternSet,
    ScanTimeoutError,
    TextBudget,
    compile_pattern,
    compile_scan_pattern,
)
from redaction.policy.tenant import (
    CompiledPolicy,
    PolicyBook,
    compile_policy,
    load_named_policies,
    load_policy_versions,
    merge,
    policy_key,
)

EMPLOYEE = {"name": "employee", "pattern": r"\bEMP-\d{6}\b", "category": "EmployeeId"}
HOSTILE = {
    "backreference": r"(\w+)\s\1",
    "lookahead": r"\d+(?=X)",
    "lookbehind": r"(?<=id:)\d+",
    "atomic": r"(?>a+)b",
    "possessive": r"a++b",
    "byte escape": r"x\C",
    "empty match": r"a*",
    "boundary only": r"\b",
    "scans ahead": r"a(?:.*Z)?",
    "scans ahead on digits": r"\d(?:[^X]*X)?",
    "scans ahead on words": r"\d(?:\w+@)?",
    "scans ahead after a literal": r"\bEMP(?:.*Z)?",
    "scans ahead through a Unicode class": r"x(?:\p{L}*1)?",
    "program too large": r"(?:\pL{100}){10}",
    "repeats too often": r"a{1001}",
}


def config(**fields: Any) -> RedactConfig:
    return RedactConfig.model_validate(fields)


def compiled(**fields: Any) -> CompiledPolicy:
    return compile_policy(config(**fields))


def budget(per_text_s: float = 10.0) -> TextBudget:
    return TextBudget(per_text_s, float("inf"))


class SteppingClock:
    """Advances one second at every reading: any budget check after the first one fails."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


# ---- compiling patterns --------------------------------------------------------------------


@pytest.mark.parametrize("pattern", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_patterns_are_refused_without_quoting_them(pattern: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_scan_pattern(pattern)
    assert pattern not in str(caught.value)
    assert "\\" not in str(caught.value).replace(r"\C", "")


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(a|aa)+$", r"(\w+\s?)+$", r"\bEMP-\d{6}\b", r"(?i)cust[-_ ]?\d{7}", r"\d{3}"],
)
def test_patterns_that_backtrack_elsewhere_are_linear_here(pattern: str) -> None:
    compiled = compile_scan_pattern(pattern)
    assert compiled.search("a" * 100_000 + "!") is None


@pytest.mark.parametrize(
    "pattern",
    [
        r"foo(?:\s+bar)?",  # reads on after a match, but only over spaces: no match starts there
        r"\bEMP-\d{6}(?:\s*[A-Z])?",
        r"a(?:.{0,64}Z)?",  # a bounded look ahead costs a constant per match
        r"\p{Greek}+",
        r"[[:digit:]]{4}",
        r"\x{41}\d+",
        r"\QA.B\E\d",
        r"a(?i)b",
        r"(?<id>\d{4})",
    ],
)
def test_patterns_that_scan_ahead_only_boundedly_are_accepted(pattern: str) -> None:
    compile_scan_pattern(pattern)


def test_acceptance_reads_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same answer on any machine under any load: no timing decides it."""

    def no_clock() -> float:
        raise AssertionError("a clock was read")

    monkeypatch.setattr("time.perf_counter", no_clock)
    monkeypatch.setattr("time.monotonic", no_clock)
    compile_scan_pattern(EMPLOYEE["pattern"])
    with pytest.raises(PatternError):
        compile_scan_pattern(HOSTILE["scans ahead"])


def test_allow_patterns_may_match_empty_text() -> None:
    assert compile_pattern(r"a*").fullmatch("") is not None


def test_pattern_set_finds_what_each_pattern_finds() -> None:
    patterns = [r"\bEMP-\d{6}\b", r"\d{6}", r"zzz"]
    found = PatternSet([compile_scan_pattern(p) for p in patterns], patterns).find(
        "EMP-123456 and 654321", float("inf"), lambda: 0.0
    )
    assert sorted(found) == [(0, (0, 10)), (1, (4, 10)), (1, (15, 21))]


def test_a_screen_that_gives_up_falls_back_to_every_pattern() -> None:
    patterns = [r"\bEMP-\d{6}\b", r"\d{6}"]
    pattern_set = PatternSet([compile_scan_pattern(p) for p in patterns], patterns)

    class GaveUp:
        def Match(self, text: str) -> None:
            return None

    pattern_set._screen = GaveUp()
    found = pattern_set.find("EMP-123456", float("inf"), lambda: 0.0)
    assert sorted(found) == [(0, (0, 10)), (1, (4, 10))]


def test_offsets_are_code_points_with_emoji_and_accents() -> None:
    text = "😀 café 👩‍👩‍👧 EMP-123456 ñ"
    findings = compiled(custom_patterns=[EMPLOYEE]).find([text], budget())
    (entity,) = findings.entities[0]
    assert text[entity.offset : entity.end] == "EMP-123456"


def test_running_out_of_time_reports_the_text_not_scanned() -> None:
    policy = compiled(custom_patterns=[EMPLOYEE])
    clock = SteppingClock()
    texts = ["EMP-123456 EMP-654321", "no identifiers here"]
    findings = policy.find(texts, TextBudget(0.5, float("inf"), clock))
    assert findings.timed_out == [0]
    assert findings.entities == [[], []]


def test_the_pattern_set_raises_when_the_budget_is_spent() -> None:
    patterns = [r"\d"]
    pattern_set = PatternSet([compile_scan_pattern(patterns[0])], patterns)
    with pytest.raises(ScanTimeoutError):
        pattern_set.find("1 2 3", 0.5, SteppingClock())


def test_a_text_without_hits_is_never_timed_out() -> None:
    policy = compiled(custom_patterns=[EMPLOYEE])
    findings = policy.find(["nothing to find"], TextBudget(0.0, 0.0, SteppingClock()))
    assert findings.timed_out == []


# ---- custom pattern rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "valid", "invalid"),
    [
        ("luhn", "4111 1111 1111 1111", "4111 1111 1111 1112"),
        ("iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"),
        ("mod97", "0794 44", "0794 45"),
        ("mod11", "0000 0001 2146 438X", "0000 0001 2146 4381"),
        ("verhoeff", "12345-1", "12345-2"),
        ("damm", "5724-0", "5724-1"),
    ],
)
def test_validators_keep_only_checksum_valid_matches(
    validator: str, valid: str, invalid: str
) -> None:
    rule = {"name": "n", "pattern": r"[0-9A-Z][0-9A-Z -]{2,40}[0-9X]", "category": "AccountId"}
    policy = compiled(custom_patterns=[{**rule, "validator": validator}])
    findings = policy.find([f"a {valid} b", f"a {invalid} b"], budget())
    assert [len(found) for found in findings.entities] == [1, 0]


def test_context_words_are_required_near_the_match() -> None:
    rule = {**EMPLOYEE, "pattern": r"\b\d{6}\b", "context": ["employee", "staff no"]}
    policy = compiled(custom_patterns=[rule])
    texts = [
        "employee 123456",
        "Staff  No: 123456",
        "order 123456",
        "x" * 100 + " employee " + "y" * 100 + " 123456",
        "123456 for the EMPLOYEE",
        "employees 123456",
    ]
    findings = policy.find(texts, budget())
    assert [len(found) for found in findings.entities] == [1, 1, 0, 0, 1, 0]


def test_custom_entities_carry_category_and_score() -> None:
    policy = compiled(custom_patterns=[{**EMPLOYEE, "score": 0.42}])
    (entity,) = policy.find(["EMP-123456"], budget()).entities[0]
    assert entity == Entity(0, 10, "EmployeeId", 0.42)


# ---- filtering -----------------------------------------------------------------------------

TEXT = "Mail Alice@Example.com, call 555-0100, ticket EMP-123456"
EMAIL = Entity(5, 17, "Email", 0.9)
PHONE = Entity(29, 8, "PhoneNumber", 0.6)
EMPLOYEE_ID = Entity(46, 10, "EmployeeId", 0.8)
ALL = [EMAIL, PHONE, EMPLOYEE_ID]


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({}, ALL),
        ({"allow_list": ["Alice@Example.com"]}, [PHONE, EMPLOYEE_ID]),
        ({"allow_list": ["alice@example.com"]}, ALL),
        (
            {"allow_list": ["alice@example.com"], "allow_list_case_sensitive": False},
            [PHONE, EMPLOYEE_ID],
        ),
        ({"allow_list": ["  555-0100 "]}, [EMAIL, EMPLOYEE_ID]),
        ({"allow_patterns": [r"555-\d{4}"]}, [EMAIL, EMPLOYEE_ID]),
        ({"allow_patterns": [r"555"]}, ALL),
        ({"allow_patterns": [r"(?i)[a-z]+@example\.com"]}, [PHONE, EMPLOYEE_ID]),
        ({"min_confidence": 0.7}, [EMAIL, EMPLOYEE_ID]),
        (
            {"min_confidence": 0.85, "category_thresholds": {"EmployeeId": 0.5}},
            [EMAIL, EMPLOYEE_ID],
        ),
        ({"category_thresholds": {"Email": 0.95}}, [PHONE, EMPLOYEE_ID]),
        ({"categories": ["Email"]}, [EMAIL]),
        ({"categories": ["Email"], "custom_patterns": [EMPLOYEE]}, [EMAIL, EMPLOYEE_ID]),
        ({"excluded_categories": ["EmployeeId"], "custom_patterns": [EMPLOYEE]}, [EMAIL, PHONE]),
        ({"excluded_categories": ["PhoneNumber"]}, [EMAIL, EMPLOYEE_ID]),
    ],
)
def test_keep(fields: dict[str, Any], kept: list[Entity]) -> None:
    assert compiled(**fields).keep(TEXT, ALL) == kept


def test_allow_list_beats_a_custom_pattern_too() -> None:
    policy = compiled(custom_patterns=[EMPLOYEE], allow_list=["EMP-000000"])
    texts = ["EMP-000000 and EMP-123456"]
    found = policy.find(texts, budget()).entities[0]
    kept = policy.keep(texts[0], found)
    assert [texts[0][e.offset : e.end] for e in kept] == ["EMP-123456"]


# ---- checks and merging --------------------------------------------------------------------


def _validate(config: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        validate_request({"body": {}, "config": config})
    return caught.value


def test_categories_and_excluded_categories_cannot_both_be_given() -> None:
    error = _validate({"categories": ["Email"], "excluded_categories": []})
    assert {d["field"] for d in error.details} == {
        "config.categories",
        "config.excluded_categories",
    }


@pytest.mark.parametrize("field", ["categories", "excluded_categories"])
def test_unknown_category_names_are_refused_by_position(field: str) -> None:
    error = _validate({field: ["Email", "Nope"]})
    assert error.details == [
        {"field": f"config.{field}", "positions": [1], "valid": sorted(ALL_CATEGORIES)}
    ]


def test_custom_categories_are_valid_names_in_the_same_config() -> None:
    request = validate_request(
        {
            "body": {},
            "config": {
                "custom_patterns": [EMPLOYEE],
                "excluded_categories": ["EmployeeId"],
                "category_thresholds": {"EmployeeId": 0.9, "Email": 0.5},
            },
        }
    )
    assert request.config.category_thresholds["EmployeeId"] == 0.9
    error = _validate({"category_thresholds": {"Email": 0.5, "EmployeeId": 0.9}})
    assert error.details[0]["positions"] == [1]


def test_a_request_overrides_the_named_policy_field_by_field() -> None:
    named = config(
        fail_closed=True, allow_list=["Contoso"], min_confidence=0.7, excluded_categories=["URL"]
    )
    merged = merge(named, config(policy="p", min_confidence=0.2, categories=["Email"]))
    assert merged.fail_closed is True
    assert merged.allow_list == ["Contoso"]
    assert merged.min_confidence == 0.2
    assert merged.categories == ["Email"]
    assert merged.excluded_categories == []


def test_policy_key_depends_on_policy_content_only() -> None:
    assert policy_key(config(allow_list=["a"], correlation_id="1")) == policy_key(
        config(allow_list=["a"], correlation_id="2")
    )
    assert policy_key(config(allow_list=["a"])) != policy_key(config(allow_list=["b"]))


def test_compiled_policies_are_cached_in_a_bounded_lru() -> None:
    book = PolicyBook(cache_size=2)
    first = book.resolve(config(allow_list=["a"]))[1]
    assert book.resolve(config(allow_list=["a"]))[1] is first
    for value in ("b", "c"):
        book.resolve(config(allow_list=[value]))
    assert book.resolve(config(allow_list=["a"]))[1] is not first


def test_a_bad_request_pattern_names_its_field_not_its_text() -> None:
    book = PolicyBook()
    rules = [EMPLOYEE, {**EMPLOYEE, "name": "x", "pattern": r"(\d+)-\1"}]
    with pytest.raises(InvalidRequestError) as caught:
        book.resolve(config(custom_patterns=rules))
    assert caught.value.details[0]["field"] == "config.custom_patterns.1.pattern"
    assert r"\1" not in json.dumps([caught.value.message, caught.value.details])


def test_an_unknown_policy_name_is_a_400_that_does_not_repeat_it() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        PolicyBook().resolve(config(policy="secret-name"))
    assert "secret-name" not in json.dumps([caught.value.message, caught.value.details])


# ---- named policies ------------------------------------------------------------------------


def test_named_policies_come_from_the_setting_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    path.write_text(json.dumps({"hr": {"custom_patterns": [EMPLOYEE]}}), encoding="utf-8")
    named = load_named_policies(json.dumps({"finance": {"min_confidence": 0.8}}), str(path))
    assert sorted(named) == ["finance", "hr"]
    assert named["hr"].custom_patterns[0].category == "EmployeeId"


@pytest.fixture
def secret_pattern() -> str:
    return r"alice@example\.com(\d)\1"


@pytest.mark.parametrize(
    ("inline", "expected"),
    [
        ("{not json", "PII_POLICIES is not valid JSON"),
        ('["a"]', "must be a JSON object"),
        ('{"p": 3}', "policy 'p' must be a JSON object"),
        ('{"p": {"min_confidence": 2}}', "policy 'p': invalid min_confidence"),
        ('{"p": {"surprise": 1}}', "policy 'p': invalid surprise"),
        ('{"p": {"correlation_id": "x"}}', "correlation_id cannot be part of a policy"),
        ('{"p": {"policy": "q"}}', "policy cannot be part of a policy"),
        ('{"p": {"categories": ["Nope"]}}', "policy 'p': categories holds names"),
        ('{"bad name!": {}}', "policy 'bad name!': invalid policy"),
    ],
)
def test_bad_named_policies_stop_start_up_naming_them(inline: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        PolicyBook(load_named_policies(inline, None))
    assert expected in str(caught.value)


def test_a_bad_pattern_in_a_named_policy_names_policy_and_field_only(secret_pattern: str) -> None:
    rules = [EMPLOYEE, {**EMPLOYEE, "pattern": secret_pattern}]
    inline = json.dumps({"finance-strict": {"custom_patterns": rules}})
    with pytest.raises(SettingsError) as caught:
        PolicyBook(load_named_policies(inline, None))
    message = str(caught.value)
    assert "'finance-strict'" in message
    assert "custom_patterns.1.pattern" in message
    assert "alice" not in message


def test_a_missing_policy_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PII_POLICIES_FILE cannot be read"):
        load_named_policies(None, str(tmp_path / "absent.json"))


def test_a_policy_defined_twice_is_a_settings_error(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    path.write_text('{"p": {}}', encoding="utf-8")
    with pytest.raises(SettingsError, match="defined twice"):
        load_named_policies('{"p": {}}', str(path))


def test_a_named_policy_carries_its_version_and_author_outside_its_config() -> None:
    raw = json.dumps({"strict": {"min_confidence": 0.7, "version": "12", "author": "rules-team"}})
    named = load_named_policies(raw, None)
    assert named["strict"].min_confidence == 0.7
    book = PolicyBook(named, versions=load_policy_versions(raw, None))
    identity = book.identify(RedactConfig(policy="strict"))
    assert identity is not None
    assert (identity.name, identity.version, identity.author) == ("strict", "12", "rules-team")
    changed = book.identify(RedactConfig(policy="strict", min_confidence=0.9))
    assert changed is not None
    assert changed.content_hash != identity.content_hash  # the effective content, overrides in
    default = book.identify(RedactConfig())
    assert default is not None
    assert default.name == "default"
    assert default.version is None
    inline = book.identify(RedactConfig(allow_list=["x"]))
    assert inline is not None
    assert inline.name == "inline"
    assert book.identify(RedactConfig(policy="missing")) is None


@pytest.mark.parametrize("version", [7, "", "x" * 65])
def test_a_bad_policy_version_stops_start_up_naming_it(version: object) -> None:
    raw = json.dumps({"strict": {"version": version}})
    with pytest.raises(SettingsError, match="policy 'strict': version must be a string"):
        load_named_policies(raw, None)
