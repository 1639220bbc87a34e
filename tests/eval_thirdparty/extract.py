"""Rebuilds dev.jsonl, heldout.jsonl and split.json from local git mirrors of the source repos.

    python tests/eval_thirdparty/extract.py --mirrors /work/.mirror

Reads only test *data* out of the third-party files (Python and JavaScript string literals, JSON
specs, doctest number lists); no third-party code is copied or executed. Each mirror is
``<mirrors>/<owner>+<name>/repo`` (a bare git directory); files are read at that mirror's HEAD,
whose commit is recorded per case. The split into dev and held-out is by source file and
deterministic, and a file keeps the half split.json gave it: see ``assign_halves``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
T = TypeVar("T")

PRESIDIO = "microsoft/presidio"
RECOGNIZERS_TEXT = "microsoft/Recognizers-Text"
STDNUM = "arthurdejong/python-stdnum"
VALIDATOR_JS = "validatorjs/validator.js"
SCRUBADUB = "LeapBeyond/scrubadub"
DATAFOG = "DataFog/datafog-python"
# Sources added after the detector was tuned on dev, when the held-out half had been seen in
# aggregate: every file of theirs goes to the held-out half, to give an estimate untouched by the
# work (see assign_halves).
HELDOUT_ONLY = frozenset({SCRUBADUB, DATAFOG})

# Presidio entity (per recognizer test file) -> Azure category. Entities that are not personal
# data or have no Azure category (crypto wallets, MAC addresses, licence plates, postcodes,
# company registers, practitioner numbers) are left out.
PRESIDIO_TO_AZURE = {
    "ABA_ROUTING_NUMBER": "ABARoutingNumber",
    "AU_ABN": "AUBusinessNumber",
    "AU_ACN": "AUCompanyNumber",
    "AU_MEDICARE": "AUMedicalAccountNumber",
    "AU_TFN": "AUTaxFileNumber",
    "CA_SIN": "CASocialInsuranceNumber",
    "CREDIT_CARD": "CreditCardNumber",
    "DE_FUEHRERSCHEIN": "DEDriversLicenseNumber",
    "DE_ID_CARD": "DEIdentityCardNumber",
    "DE_PASSPORT": "DEPassportNumber",
    "DE_SOCIAL_SECURITY": "EUSocialSecurityNumber",
    "DE_TAX_ID": "DETaxIdentificationNumber",
    "DE_TAX_NUMBER": "EUTaxIdentificationNumber",
    "DE_VAT_ID": "DEValueAddedNumber",
    "EMAIL_ADDRESS": "Email",
    "ES_NIE": "ESTaxIdentificationNumber",
    "ES_NIF": "ESDNI",
    "ES_PASSPORT": "EUPassportNumber",
    "FI_PERSONAL_IDENTITY_CODE": "FINationalID",
    "IBAN_CODE": "InternationalBankingAccountNumber",
    "IN_AADHAAR": "INUniqueIdentificationNumber",
    "IN_PAN": "INPermanentAccount",
    "IN_PASSPORT": "PassportNumber",
    "IP_ADDRESS": "IPAddress",
    "IT_DRIVER_LICENSE": "ITDriversLicenseNumber",
    "IT_FISCAL_CODE": "ITFiscalCode",
    "IT_IDENTITY_CARD": "EUNationalIdentificationNumber",
    "IT_PASSPORT": "EUPassportNumber",
    "IT_VAT_CODE": "ITValueAddedTaxNumber",
    "KR_FRN": "KRResidentRegistrationNumber",
    "KR_RRN": "KRResidentRegistrationNumber",
    "KR_PASSPORT": "KRPassportNumber",
    "KR_DRIVER_LICENSE": "KRDriversLicenseNumber",
    "PH_MOBILE_NUMBER": "PhoneNumber",
    "PHONE_NUMBER": "PhoneNumber",
    "PL_PESEL": "PLNationalID",
    "SE_PERSONNUMMER": "SENationalID",
    "SG_NRIC_FIN": "SGNationalRegistrationIdentityCardNumber",
    "TH_TNIN": "THPopulationIdentificationCode",
    "TR_NATIONAL_ID": "TRNationalIdentificationNumber",
    "TR_PHONE_NUMBER": "PhoneNumber",
    "UK_DRIVING_LICENCE": "UKDriversLicenseNumber",
    "UK_NHS": "UKNationalHealthNumber",
    "UK_NINO": "UKNationalInsuranceNumber",
    "URL": "URL",
    "US_BANK_NUMBER": "USBankAccountNumber",
    "US_DRIVER_LICENSE": "USDriversLicenseNumber",
    "US_ITIN": "USIndividualTaxpayerIdentification",
    "US_MBI": "USMedicareBeneficiaryId",
    "US_PASSPORT": "USUKPassportNumber",
    "US_SSN": "USSocialSecurityNumber",
    "ZA_ID_NUMBER": "ZAIdentificationNumber",
}
# Entities of files whose `entities` fixture is not a plain list literal.
PRESIDIO_FILE_ENTITY = {
    "test_in_aadhaar_recognizer.py": "IN_AADHAAR",
    "test_it_driver_license_recognizer.py": "IT_DRIVER_LICENSE",
    "test_phone_recognizer.py": "PHONE_NUMBER",
}
# The language of a recognizer's test sentences (Presidio runs country recognizers per language).
PRESIDIO_LANGUAGE = {"de": "de", "es": "es", "it": "it", "kr": "ko", "pl": "pl", "fi": "fi"}

# python-stdnum module (tests/test_<module>.doctest) -> Azure category; personal identifiers,
# bank identifiers and personal tax numbers only (no company, VAT, product or security codes).
STDNUM_TO_AZURE = {
    "au_abn": "AUBusinessNumber",
    "au_acn": "AUCompanyNumber",
    "au_tfn": "AUTaxFileNumber",
    "be_bis": "BENationalNumber",
    "be_iban": "InternationalBankingAccountNumber",
    "be_nn": "BENationalNumber",
    "be_ssn": "BENationalNumber",
    "bg_egn": "BGUniformCivilNumber",
    "bic": "SWIFTCode",
    "ch_ssn": "CHSocialSecurityNumber",
    "cl_rut": "CLIdentityCardNumber",
    "cn_ric": "CNResidentIdentityCardNumber",
    "cz_bankaccount": "BankAccountNumber",
    "cz_rc": "CZPersonalIdentityNumber",
    "de_idnr": "DETaxIdentificationNumber",
    "de_stnr": "EUTaxIdentificationNumber",
    "ee_ik": "EEPersonalIdentificationCode",
    "es_nif": "ESDNI",
    "fi_hetu": "FINationalID",
    "gb_utr": "UKUniqueTaxpayerNumber",
    "gr_amka": "EUSocialSecurityNumber",
    "iban": "InternationalBankingAccountNumber",
    "ie_pps": "IEPersonalPublicServiceNumber",
    "in_pan": "INPermanentAccount",
    "is_kennitala": "EUNationalIdentificationNumber",
    "it_codicefiscale": "ITFiscalCode",
    "jp_cn": "JPMyNumberCorporate",
    "kr_rrn": "KRResidentRegistrationNumber",
    "lt_asmens": "LTPersonalCode",
    "my_nric": "MYIdentityCardNumber",
    "no_fodselsnummer": "NOIdentityNumber",
    "nz_bankaccount": "NZBankAccountNumber",
    "nz_ird": "NZInlandRevenueNumber",
    "pl_regon": "PLREGONNumber",
    "pt_cc": "PTCitizenCardNumber",
    "se_personnummer": "SENationalID",
    "si_emso": "SIUniqueMasterCitizenNumber",
    "th_pin": "THPopulationIdentificationCode",
    "tr_tckimlik": "TRNationalIdentificationNumber",
    "za_idnr": "ZAIdentificationNumber",
}
STDNUM_MAX_PER_FILE = 120  # long number lists are thinned evenly, so no one file dominates

RT_MODELS = {
    "PhoneNumberModel.json": "PhoneNumber",
    "EmailModel.json": "Email",
    "URLModel.json": "URL",
    "IpAddressModel.json": "IPAddress",
}
RT_LANGUAGE = {
    "Chinese": "zh",
    "Dutch": "nl",
    "English": "en",
    "French": "fr",
    "German": "de",
    "Hindi": "hi",
    "Italian": "it",
    "Japanese": "ja",
    "Korean": "ko",
    "Portuguese": "pt",
    "Spanish": "es",
    "Swedish": "sv",
    "Turkish": "tr",
}


@dataclass
class Source:
    repo: str
    path: str
    commit: str
    license: str
    group: str  # the category this file tests
    cases: list[dict[str, object]] = field(default_factory=list)


class Mirror:
    def __init__(self, root: Path, repo: str) -> None:
        self.git = root / repo.replace("/", "+") / "repo"
        self.repo = repo
        self.commit = self._run("rev-parse", "HEAD").strip()

    def _run(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.git), *args], capture_output=True, text=True, check=True
        ).stdout

    def files(self, folder: str) -> list[str]:
        return sorted(self._run("ls-tree", "-r", "--name-only", "HEAD", folder).splitlines())

    def read(self, path: str) -> str:
        return self._run("show", f"HEAD:{path}")


def case(
    text: str, spans: list[tuple[int, int, str]], language: str, group: str | None = None
) -> dict[str, object]:
    """A case; ``group``: the category it tests, where its file tests several."""
    item: dict[str, object] = {
        "text": text,
        "spans": [{"start": s, "end": e, "category": c} for s, e, c in sorted(spans)],
        "language": language,
    }
    if group is not None:
        item["group"] = group
    return item


# ---- Presidio: parametrized recognizer tests (text, expected_len, expected positions) ---------


def presidio_sources(mirror: Mirror) -> list[Source]:
    sources = []
    for path in mirror.files("presidio-analyzer/tests"):
        name = path.rsplit("/", 1)[-1]
        if not re.fullmatch(r"test_\w+_recognizer\.py", name):
            continue
        code = mirror.read(path)
        entity = PRESIDIO_FILE_ENTITY.get(name) or _fixture_entity(code)
        if entity not in PRESIDIO_TO_AZURE:
            continue
        category = PRESIDIO_TO_AZURE[entity]
        prefix = name.removeprefix("test_").split("_", 1)[0]
        language = PRESIDIO_LANGUAGE.get(prefix, "en")
        source = Source(mirror.repo, path, mirror.commit, "MIT", category)
        seen: set[str] = set()
        for text, spans in _parametrized_cases(code):
            if text in seen or not text.strip():
                continue
            seen.add(text)
            if any(not (0 <= s < e <= len(text)) for s, e in spans):
                continue
            spans_in = [(s, e, category) for s, e in spans]
            source.cases.append(case(text, spans_in, _presidio_language(text, language)))
        if source.cases:
            sources.append(source)
    return sources


_ENGLISH = re.compile(
    r"\b(?:is|my|his|her|the|and|here|here's|number|code|license|passport|id|card|of|this)\b",
    re.I,
)


def _presidio_language(text: str, recognizer_language: str) -> str:
    """Presidio's test sentences per case: English words, else the recognizer's language when
    the text has other words, else a bare value."""
    if _ENGLISH.search(text):
        return "en"
    if " " in text.strip() and (
        any(c.isalpha() and not c.isascii() for c in text) or re.search(r"[a-z]{2}", text)
    ):
        return recognizer_language
    return "bare"


def _fixture_entity(code: str) -> str | None:
    match = re.search(
        r"def entities\(\):(?:\s*\"\"\".*?\"\"\")?\s*return \[\"(\w+)\"\]", code, re.S
    )
    return match.group(1) if match else None


def _parametrized_cases(code: str) -> list[tuple[str, list[tuple[int, int]]]]:
    found: list[tuple[str, list[tuple[int, int]]]] = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and _is_parametrize(node.func)) or len(node.args) < 2:
            continue
        names_node, values_node = node.args[0], node.args[1]
        if not isinstance(names_node, ast.Constant) or not isinstance(names_node.value, str):
            continue
        names = [n.strip() for n in names_node.value.split(",")]
        if "expected_len" not in names or "leniency" in names:
            continue
        where = [i for i, n in enumerate(names) if "position" in n or n == "expected_res"]
        if not isinstance(values_node, ast.List | ast.Tuple):
            continue
        n_len, n_pos = names.index("expected_len"), where[0] if where else None
        for element in values_node.elts:
            try:
                row = ast.literal_eval(element)
            except ValueError:
                continue  # built by a helper function: not a literal
            text, count = row[0], row[n_len]
            if not isinstance(text, str) or not isinstance(count, int):
                continue
            if count == 0:
                found.append((text, []))
                continue
            if n_pos is None:  # no positions given: only a text that is the value alone
                if count == 1 and _WHOLE_VALUE.fullmatch(text):
                    found.append((text, [(0, len(text))]))
                continue
            spans = _positions(row[n_pos])
            if len(spans) == count:
                found.append((text, spans))
    return found


_WHOLE_VALUE = re.compile(r"[A-Z0-9][A-Z0-9 ./-]*[A-Z0-9]")


def _is_parametrize(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == "parametrize"


def _positions(value: object) -> list[tuple[int, int]]:
    if isinstance(value, tuple | list) and len(value) == 2 and all(type(v) is int for v in value):
        return [(value[0], value[1])]
    spans = []
    for item in value if isinstance(value, tuple | list) else ():
        if isinstance(item, tuple | list) and len(item) == 2 and all(type(v) is int for v in item):
            spans.append((item[0], item[1]))
        else:
            return []
    return spans


# ---- Recognizers-Text: Specs/Sequence/<Language>/<Model>.json --------------------------------


def recognizers_text_sources(mirror: Mirror) -> list[Source]:
    sources = []
    for path in mirror.files("Specs/Sequence"):
        _, _, language_dir, model = path.split("/")
        if model not in RT_MODELS:
            continue
        category = RT_MODELS[model]
        language = RT_LANGUAGE[language_dir]
        source = Source(mirror.repo, path, mirror.commit, "MIT", category)
        seen: set[str] = set()
        for spec in json.loads(mirror.read(path)):
            text = spec["Input"]
            if text in seen:
                continue
            seen.add(text)
            spans, cursor, ok = [], 0, True
            for result in spec.get("Results") or []:
                start = result.get("Start")
                value = result["Text"]
                if not (isinstance(start, int) and text[start : start + len(value)] == value):
                    start = text.find(value, cursor)
                if start < 0:
                    ok = False
                    break
                spans.append((start, start + len(value), category))
                cursor = start + len(value)
            if ok:
                source.cases.append(case(text, spans, language))
        if source.cases:
            sources.append(source)
    return sources


# ---- python-stdnum: tests/test_<module>.doctest number lists ---------------------------------

_NUMBERS = re.compile(
    r">>> numbers = (?:'''|\"\"\")\n(.*?)\n\.\.\. (?:'''|\"\"\")\n>>> (.*?)\n", re.S
)
# Single checks: `>>> module.validate('...')` or `.is_valid('...')` and the line printed after.
_SINGLE = re.compile(r">>> \w+\.(?:validate|is_valid)\('([^'\n]+)'\)\n(.*)\n")


def stdnum_sources(mirror: Mirror) -> list[Source]:
    sources = []
    for path in mirror.files("tests"):
        match = re.fullmatch(r"tests/test_(\w+)\.doctest", path)
        if not match or match.group(1) not in STDNUM_TO_AZURE:
            continue
        category = STDNUM_TO_AZURE[match.group(1)]
        source = Source(mirror.repo, path, mirror.commit, "LGPL-2.1-or-later", category)
        valid: list[str] = []
        invalid: list[str] = []
        text = mirror.read(path)
        for block, check in _NUMBERS.findall(text):
            values = [line[4:].strip() for line in block.splitlines() if line.startswith("... ")]
            values = [v for v in values if v and not v.startswith("#")]
            if "if x and not " in check:
                valid += values
            elif re.search(r"if x and \w+\.is_valid", check):
                invalid += values
        for value, answer in _SINGLE.findall(text):
            if answer.startswith(("Traceback", "False")):
                invalid.append(value)
            elif answer == "True" or answer.startswith("'"):
                valid.append(value)
        for value in _thin(list(dict.fromkeys(valid)), STDNUM_MAX_PER_FILE):
            source.cases.append(case(value, [(0, len(value), category)], "bare"))
        for value in _thin(list(dict.fromkeys(invalid)), STDNUM_MAX_PER_FILE // 4):
            source.cases.append(case(value, [], "bare"))
        if source.cases:
            sources.append(source)
    return sources


def _thin(values: list[T], limit: int) -> list[T]:
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


# ---- validator.js: test({validator, args, valid, invalid}) calls and per-locale fixtures ------

VJS_FILES = ("test/validators.test.js", "test/validators/isIP.test.js")
VJS_MAX_PER_UNIT = 120  # valid values per unit, and a quarter of that invalid, thinned evenly
# Validators tested with default options only (a test with an options object is left out).
VJS_PLAIN = {
    "isEmail": "Email",
    "isURL": "URL",
    "isIP": "IPAddress",
    "isCreditCard": "CreditCardNumber",
    "isIBAN": "InternationalBankingAccountNumber",
}
_EU = frozenset(
    "AT BE BG CY CZ DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
# Passports by country: Azure's category for the country, the EU one, or the general one.
VJS_PASSPORT = {
    "US": "USUKPassportNumber",
    "GB": "USUKPassportNumber",
    "DE": "DEPassportNumber",
    "FR": "FRPassportNumber",
    "PL": "PLPassportNumber",
    "SE": "SEPassportNumber",
    "FI": "FIPassportNumber",
    "AU": "AUPassportNumber",
    "CA": "CAPassportNumber",
    "JP": "JPPassportNumber",
    "RU": "RUPassportNumberInternational",
    "TW": "TWPassportNumber",
    "UA": "UAPassportNumberInternational",
}
# Identity cards and personal tax numbers by locale; locales whose number has no Azure category
# or may be a company's (US EIN, Brazil CNPJ) are left out.
VJS_ID_CARD = {
    "ES": "ESDNI",
    "FI": "FINationalID",
    "IN": "INUniqueIdentificationNumber",
    "IT": "EUNationalIdentificationNumber",
    "NO": "NOIdentityNumber",
    "TH": "THPopulationIdentificationCode",
    "he-IL": "ILNationalID",
    "zh-CN": "CNResidentIdentityCardNumber",
    "zh-HK": "HKIdentityCardNumber",
    "zh-TW": "TWNationalID",
}
VJS_TAX_ID = {
    "bg-BG": "BGUniformCivilNumber",
    "cs-CZ": "CZPersonalIdentityNumber",
    "de-AT": "ATTaxIdentificationNumber",
    "de-DE": "DETaxIdentificationNumber",
    "dk-DK": "DKPersonalIdentificationNumber",
    "el-CY": "CYTaxIdentificationNumber",
    "el-GR": "GRTaxIdentificationNumber",
    "en-IE": "IEPersonalPublicServiceNumber",
    "es-ES": "ESDNI",
    "et-EE": "EEPersonalIdentificationCode",
    "fi-FI": "FINationalID",
    "fr-BE": "BENationalNumber",
    "fr-FR": "FRTaxIdentificationNumber",
    "hr-HR": "HRPersonalIdentificationNumber",
    "hu-HU": "HUTaxIdentificationNumber",
    "it-IT": "ITFiscalCode",
    "lt-LT": "LTPersonalCode",
    "lv-LV": "LVPersonalCode",
    "mt-MT": "MTTaxIDNumber",
    "pl-PL": "PLNationalID",
    "pt-PT": "PTTaxIdentificationNumber",
    "ro-RO": "ROPersonalNumericalCode",
    "sk-SK": "SKPersonalNumber",
    "sl-SI": "SITaxIdentificationNumber",
    "sv-SE": "SENationalID",
}


def validator_js_sources(mirror: Mirror) -> list[Source]:
    """One unit per file and validator ("<path>#<validator>"): the test file holds every
    validator's tests, each written as a test file of its own would be. A unit of a validator
    tested per locale (passports, identity cards, tax numbers) holds several categories: each
    case names its own, and the unit is split under the validator's name."""
    units: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
    for path in VJS_FILES:
        code = mirror.read(path)
        for validator, locale, valid, invalid in _vjs_tests(code):
            category = _vjs_category(validator, locale)
            if category is None:
                continue
            good, bad = units.setdefault(f"{path}#{validator}", ([], []))
            good += [(value, category) for value in valid]
            bad += [(value, category) for value in invalid]
    sources = []
    for unit, (listed_valid, listed_invalid) in sorted(units.items()):
        validator = unit.rsplit("#", 1)[1]
        group = VJS_PLAIN.get(validator) or VJS_GROUP[validator]
        source = Source(mirror.repo, unit, mirror.commit, "MIT", group)
        valid = [v for v in dict.fromkeys(listed_valid) if _usable(v[0])]
        values = {value for value, _ in valid}
        invalid = [v for v in dict.fromkeys(listed_invalid) if _usable(v[0]) and v[0] not in values]
        for value, category in _thin(valid, VJS_MAX_PER_UNIT):
            source.cases.append(case(value, [(0, len(value), category)], "bare", category))
        for value, category in _thin(invalid, VJS_MAX_PER_UNIT // 4):
            source.cases.append(case(value, [], "bare", category))
        if source.cases:
            sources.append(source)
    return sources


# The name a unit of several categories is split and reported under.
VJS_GROUP = {
    "isMobilePhone": "PhoneNumber",
    "isPassportNumber": "PassportNumber",
    "isIdentityCard": "IdentityCard (per locale)",
    "isTaxID": "TaxID (per locale)",
}


def _usable(value: str) -> bool:
    return bool(value.strip()) and value == value.strip() and value.isprintable()


def _vjs_category(validator: str, locale: str | None) -> str | None:
    if validator in VJS_PLAIN:
        return VJS_PLAIN[validator] if locale is None else None
    if locale is None or locale == "any":
        return None
    if validator == "isMobilePhone":
        return "PhoneNumber"
    if validator == "isPassportNumber":
        return VJS_PASSPORT.get(locale, "EUPassportNumber" if locale in _EU else "PassportNumber")
    if validator == "isIdentityCard":
        return VJS_ID_CARD.get(locale)
    if validator == "isTaxID":
        return VJS_TAX_ID.get(locale)
    return None


def _vjs_tests(code: str) -> list[tuple[str, str | None, list[str], list[str]]]:
    """(validator, locale, valid, invalid) of every ``test({...})`` with literal lists and of
    every ``fixtures`` entry (``{locale, valid, invalid}``, tested by the next validator named)."""
    found = []
    for match in re.finditer(r"\btest\(\{", code):
        members = _js_members(code, match.end() - 1)
        validator = _js_string(members.get("validator", ""))
        args = members.get("args", "[]")
        if validator is None or "{" in args:
            continue  # options change what is valid: left out
        locales = _js_strings(args) or []
        valid = _js_strings(members.get("valid", "")) or []
        invalid = _js_strings(members.get("invalid", "")) or []
        found.append((validator, locales[0] if locales else None, valid, invalid))
    for match in re.finditer(r"\bfixtures = \[", code):
        end = _js_close(code, match.end() - 1)
        named = re.compile(r"validator: '(\w+)'").search(code, end)
        if end < 0 or named is None:
            continue
        for item in _js_items(code[match.end() - 1 : end]):
            if not item.startswith("{"):
                continue
            members = _js_members(item, 0)
            raw = members.get("locale", "")
            locale = _js_string(raw) or next(iter(_js_strings(raw) or []), None)
            valid = _js_strings(members.get("valid", "")) or []
            invalid = _js_strings(members.get("invalid", "")) or []
            found.append((named.group(1), locale, valid, invalid))
    return found


def _js_close(code: str, start: int) -> int:
    """The index after the bracket that closes ``code[start]``, skipping strings and comments."""
    depth, i = 0, start
    while i < len(code):
        char = code[i]
        if char in "'\"`":
            i = _js_string_end(code, i)
            if i < 0:
                return -1
            continue
        if code.startswith("//", i):
            i = code.find("\n", i)
            if i < 0:
                return -1
            continue
        if code.startswith("/*", i):
            i = code.find("*/", i) + 2
            if i < 2:
                return -1
            continue
        if char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _js_string_end(code: str, start: int) -> int:
    quote, i = code[start], start + 1
    while i < len(code):
        if code[i] == "\\":
            i += 2
        elif code[i] == quote:
            return i + 1
        elif code[i] == "\n" and quote != "`":
            return -1
        else:
            i += 1
    return -1


def _js_items(array: str) -> list[str]:
    """The top-level comma-separated items of a bracketed ``array`` or object text."""
    items, i, begin = [], 1, 1
    while i < len(array) - 1:
        char = array[i]
        if char in "'\"`":
            i = _js_string_end(array, i)
            if i < 0:
                return []
            continue
        if array.startswith("//", i):
            i = array.find("\n", i)
            if i < 0:
                break
            continue
        if char in "[{(":
            close = _js_close(array, i)
            if close < 0:
                return []
            i = close
            continue
        if char == ",":
            items.append(array[begin:i])
            begin = i + 1
        i += 1
    items.append(array[begin : len(array) - 1])
    return [_strip_comments(item) for item in items if _strip_comments(item)]


def _strip_comments(item: str) -> str:
    lines = [line for line in item.strip().splitlines() if not line.strip().startswith("//")]
    return "\n".join(lines).strip()


def _js_members(code: str, start: int) -> dict[str, str]:
    """The ``key: value`` members of the object literal that opens at ``code[start]``."""
    end = _js_close(code, start)
    if end < 0:
        return {}
    members = {}
    for item in _js_items(code[start:end]):
        key = re.match(r"(\w+)\s*:\s*", item)
        if key:
            members[key.group(1)] = item[key.end() :].strip()
    return members


def _js_strings(value: str) -> list[str] | None:
    """The string literals of an array literal (other items are left out), or None."""
    value = value.strip()
    if not value.startswith("[") or _js_close(value, 0) != len(value):
        return None
    return [s for s in (_js_string(item) for item in _js_items(value)) if s is not None]


def _js_string(item: str) -> str | None:
    """A JavaScript string literal's value, if ``item`` is exactly one (no template holes)."""
    item = item.strip()
    if not item or item[0] not in "'\"`" or _js_string_end(item, 0) != len(item):
        return None
    if item[0] == "`" and "${" in item:
        return None
    body, out, i = item[1:-1], [], 0
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
            continue
        code = body[i + 1 : i + 2]
        if code == "u" and body.startswith("{", i + 2):
            close = body.index("}", i)
            out.append(chr(int(body[i + 3 : close], 16)))
            i = close + 1
        elif code == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif code == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        else:
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(code, code))
            i += 2
    text = "".join(out)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# ---- scrubadub: BEFORE/AFTER docstrings of tests/test_detector_<type>.py ---------------------

# Files testing one kind of filth -> the category it tests; placeholders -> Azure category.
SCRUBADUB_FILES = {
    "tests/test_detector_credit_card.py": "CreditCardNumber",
    "tests/test_detector_drivers_licence.py": "UKDriversLicenseNumber",
    "tests/test_detector_emails.py": "Email",
    "tests/test_detector_en_GB_nino.py": "UKNationalInsuranceNumber",
    "tests/test_detector_en_GB_trn.py": "UKUniqueTaxpayerNumber",
    "tests/test_detector_en_US_social_security_number.py": "USSocialSecurityNumber",
    "tests/test_detector_phone_numbers.py": "PhoneNumber",
    "tests/test_detector_urls.py": "URL",
}
SCRUBADUB_PLACEHOLDERS = {
    "CREDIT_CARD": "CreditCardNumber",
    "DRIVERS_LICENCE": "UKDriversLicenseNumber",
    "EMAIL": "Email",
    "NATIONAL_INSURANCE_NUMBER": "UKNationalInsuranceNumber",
    "TAX_REFERENCE_NUMBER": "UKUniqueTaxpayerNumber",
    "SOCIAL_SECURITY_NUMBER": "USSocialSecurityNumber",
    "PHONE": "PhoneNumber",
    "URL": "URL",
}
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def scrubadub_sources(mirror: Mirror) -> list[Source]:
    """Pairs of a text and what scrubadub's test expects it cleaned to: ``BEFORE:``/``AFTER:``
    docstrings, a docstring template filled by a ``check_*(...)`` helper's literal arguments, and
    ``result = self.clean(<text>)`` checked by ``assertEqual(result, <after>)``. The spans are
    where the AFTER text's ``{{TYPE}}`` placeholders stand in the BEFORE text; a pair whose AFTER
    differs from BEFORE in another way (a test with other options) is left out."""
    sources = []
    for path, category in SCRUBADUB_FILES.items():
        source = Source(mirror.repo, path, mirror.commit, "Apache-2.0", category)
        seen: set[str] = set()
        for before, after in _scrubadub_pairs(mirror.read(path)):
            spans = _placeholder_spans(before, after)
            if spans is None or before in seen:
                continue
            seen.add(before)
            source.cases.append(case(before, spans, "en"))
        if source.cases:
            sources.append(source)
    return sources


def _scrubadub_pairs(code: str) -> list[tuple[str, str]]:
    pairs = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.ClassDef):
            continue
        template = None
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "create_docstring":
                template = next((n.value.left.value for n in ast.walk(item) if _is_format(n)), None)
        for item in node.body:
            if not isinstance(item, ast.FunctionDef) or not item.name.startswith("test"):
                continue
            docstring = ast.get_docstring(item, clean=False) or ""
            if "BEFORE:" in docstring and "AFTER:" in docstring:
                pairs.append(_before_after(docstring))
            for call in (n for n in ast.walk(item) if isinstance(n, ast.Call)):
                name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
                if template and name.startswith("check_"):
                    for arg in call.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            pairs.append(_before_after(template % arg.value))
            pairs += _clean_asserts(item)
    return pairs


def _is_format(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Return)
        and isinstance(node.value, ast.BinOp)
        and isinstance(node.value.op, ast.Mod)
        and isinstance(node.value.left, ast.Constant)
        and isinstance(node.value.left.value, str)
    )


def _before_after(docstring: str) -> tuple[str, str]:
    before, after = docstring.split("BEFORE:")[1].split("AFTER:")
    return before.strip(), after.strip()


def _clean_asserts(function: ast.FunctionDef) -> list[tuple[str, str]]:
    """``result = self.clean('<before>')`` followed by ``self.assertEqual(result, '<after>')``."""
    cleaned: dict[str, str] = {}
    pairs = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "clean"
            and len(node.value.args) == 1
            and isinstance(node.value.args[0], ast.Constant)
            and isinstance(node.value.args[0].value, str)
            and not node.value.keywords
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    cleaned[target.id] = node.value.args[0].value
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "assertEqual"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in cleaned
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            pairs.append((cleaned[node.args[0].id], node.args[1].value))
    return pairs


def _placeholder_spans(before: str, after: str) -> list[tuple[int, int, str]] | None:
    """Where AFTER's placeholders stand in BEFORE (the rest must be equal), or None."""
    parts = _PLACEHOLDER.split(after)
    kinds = parts[1::2]
    if any(kind not in SCRUBADUB_PLACEHOLDERS for kind in kinds):
        return None
    pattern = "".join(re.escape(part) if n % 2 == 0 else "(.+?)" for n, part in enumerate(parts))
    match = re.fullmatch(pattern, before, re.S)
    if match is None:
        return None
    return [
        (match.start(n), match.end(n), SCRUBADUB_PLACEHOLDERS[kind])
        for n, kind in enumerate(kinds, 1)
    ]


# ---- DataFog: tests/corpus/*.json (input, expected_entities with offsets) ----------------------

DATAFOG_FILES = (
    "tests/corpus/edge_cases.json",
    "tests/corpus/mixed_pii.json",
    "tests/corpus/negative_cases.json",
    "tests/corpus/structured_pii.json",
)  # unstructured_pii.json holds names, organisations and places only: the names work's domain
DATAFOG_TO_AZURE = {
    "ADDRESS": "Address",
    "CREDIT_CARD": "CreditCardNumber",
    "DATE": "Date",
    "DE_IBAN": "InternationalBankingAccountNumber",
    "DE_VAT_ID": "DEValueAddedNumber",
    "EMAIL": "Email",
    "IP_ADDRESS": "IPAddress",
    "LOCATION": "Location",
    "ORGANIZATION": "Organization",
    "PERSON": "Person",
    "PHONE": "PhoneNumber",
    "SSN": "USSocialSecurityNumber",
    "ZIP_CODE": "ZipCode",
}


def datafog_sources(mirror: Mirror) -> list[Source]:
    """DataFog's detection corpus: sentences with every entity's offsets (all kinds labelled in
    each text, so a masked character outside them is a false positive), and negatives."""
    sources = []
    for path in DATAFOG_FILES:
        name = path.rsplit("/", 1)[-1].removesuffix(".json")
        source = Source(mirror.repo, path, mirror.commit, "MIT", f"DataFog {name}")
        seen: set[str] = set()
        for item in json.loads(mirror.read(path)):
            text = item["input"]
            entities = item.get("expected_entities") or []
            if text in seen or any(e["type"] not in DATAFOG_TO_AZURE for e in entities):
                continue
            if any(text[e["start"] : e["end"]] != e["text"] for e in entities):
                continue
            seen.add(text)
            spans = [(e["start"], e["end"], DATAFOG_TO_AZURE[e["type"]]) for e in entities]
            language = "de" if item.get("locales") == ["de"] else "en"
            source.cases.append(case(text, spans, language))
        if source.cases:
            sources.append(source)
    return sources


# ---- split -----------------------------------------------------------------------------------


def assign_halves(sources: list[Source], fixed: dict[str, str] | None = None) -> dict[str, str]:
    """Per category tested and kind of text (English or bare values; other languages), files in
    order of sha256("repo:path"), each to the half with fewer cases of that kind so far; on a tie
    (a kind's first file), to the half with fewer cases overall (dev when equal). A file that an
    earlier build placed (split.json) keeps its half, and files added later are placed after all
    of those by the same rule: adding a source never moves a file between the halves.

    Deterministic (no randomness, no dependence on any detector's result), by whole source file,
    and balanced in case count within every such kind that has more than one file. Exception:
    every file of a source in HELDOUT_ONLY (added after the held-out half had been seen in
    aggregate during tuning) goes to the held-out half, so that part of it is untouched.
    """
    fixed = fixed or {}
    halves: dict[str, str] = {}
    for source in sources:
        if source.repo in HELDOUT_ONLY:
            halves[f"{source.repo}:{source.path}"] = "heldout"
    sources = [source for source in sources if source.repo not in HELDOUT_ONLY]
    by_group: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        english = all(c["language"] in ("en", "bare") for c in source.cases)
        by_group[f"{source.group}/{'en' if english else 'other'}"].append(source)
    total = {"dev": 0, "heldout": 0}
    count: dict[str, dict[str, int]] = defaultdict(lambda: {"dev": 0, "heldout": 0})
    for kind, group in sorted(by_group.items()):
        for source in group:
            half = fixed.get(f"{source.repo}:{source.path}")
            if half is not None:
                halves[f"{source.repo}:{source.path}"] = half
                count[kind][half] += len(source.cases)
                total[half] += len(source.cases)
    for kind, group in sorted(by_group.items()):
        for source in sorted(group, key=lambda s: _digest(f"{s.repo}:{s.path}")):
            key = f"{source.repo}:{source.path}"
            if key in halves:
                continue
            tally = count[kind] if count[kind]["dev"] != count[kind]["heldout"] else total
            half = "dev" if tally["dev"] <= tally["heldout"] else "heldout"
            halves[key] = half
            count[kind][half] += len(source.cases)
            total[half] += len(source.cases)
    return halves


def _earlier_halves() -> dict[str, str]:
    """The half of every file an earlier build placed, from split.json."""
    path = HERE / "split.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8"))["files"]
    return {f"{f['repo']}:{f['path']}": f["half"] for f in files}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    sources = (
        presidio_sources(Mirror(args.mirrors, PRESIDIO))
        + recognizers_text_sources(Mirror(args.mirrors, RECOGNIZERS_TEXT))
        + stdnum_sources(Mirror(args.mirrors, STDNUM))
        + validator_js_sources(Mirror(args.mirrors, VALIDATOR_JS))
        + scrubadub_sources(Mirror(args.mirrors, SCRUBADUB))
        + datafog_sources(Mirror(args.mirrors, DATAFOG))
    )
    halves = assign_halves(sources, _earlier_halves())
    out = {"dev": [], "heldout": []}  # type: dict[str, list[str]]
    split = []
    for source in sorted(sources, key=lambda s: (s.repo, s.path)):
        key = f"{source.repo}:{source.path}"
        half = halves[key]
        for n, item in enumerate(source.cases, 1):
            record = {
                "id": f"{_digest(key)[:8]}-{n:04d}",
                **item,
                "group": item.get("group", source.group),
                "source": {"repo": source.repo, "path": source.path, "commit": source.commit},
            }
            out[half].append(json.dumps(record, ensure_ascii=False))
        split.append(
            {
                "repo": source.repo,
                "path": source.path,
                "commit": source.commit,
                "license": source.license,
                "group": source.group,
                "cases": len(source.cases),
                "positives": sum(1 for c in source.cases if c["spans"]),
                "half": half,
            }
        )
    for half, lines in out.items():
        (HERE / f"{half}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rule = assign_halves.__doc__ or ""
    document = {"rule": " ".join(rule.split()), "files": split}
    text = json.dumps(document, indent=1, ensure_ascii=False)
    (HERE / "split.json").write_text(text + "\n", encoding="utf-8")
    for half, lines in out.items():
        print(f"{half}: {len(lines)} cases")


if __name__ == "__main__":
    main()
