"""Rebuilds dev.jsonl, heldout.jsonl and split.json from local git mirrors of the source repos.

    python tests/eval_thirdparty/extract.py --mirrors /work/.mirror

Reads only test *data* out of the third-party files (string literals, JSON specs, doctest number
lists); no third-party code is copied or executed. Each mirror is ``<mirrors>/<owner>+<name>/repo``
(a bare git directory); files are read at that mirror's HEAD, whose commit is recorded per case.
The split into dev and held-out is by source file and deterministic: see ``assign_halves``.
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

HERE = Path(__file__).resolve().parent

PRESIDIO = "microsoft/presidio"
RECOGNIZERS_TEXT = "microsoft/Recognizers-Text"
STDNUM = "arthurdejong/python-stdnum"

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


def case(text: str, spans: list[tuple[int, int, str]], language: str) -> dict[str, object]:
    return {
        "text": text,
        "spans": [{"start": s, "end": e, "category": c} for s, e, c in sorted(spans)],
        "language": language,
    }


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


def _thin(values: list[str], limit: int) -> list[str]:
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


# ---- split -----------------------------------------------------------------------------------


def assign_halves(sources: list[Source]) -> dict[str, str]:
    """Per category tested and kind of text (English or bare values; other languages), files in
    order of sha256("repo:path"), each to the half with fewer cases of that kind so far; on a tie
    (a kind's first file), to the half with fewer cases overall (dev when equal).

    Deterministic (no randomness, no dependence on any detector's result), by whole source file,
    and balanced in case count within every such kind that has more than one file.
    """
    halves: dict[str, str] = {}
    by_group: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        english = all(c["language"] in ("en", "bare") for c in source.cases)
        by_group[f"{source.group}/{'en' if english else 'other'}"].append(source)
    total = {"dev": 0, "heldout": 0}
    for _, group in sorted(by_group.items()):
        count = {"dev": 0, "heldout": 0}
        for source in sorted(group, key=lambda s: _digest(f"{s.repo}:{s.path}")):
            tally = count if count["dev"] != count["heldout"] else total
            half = "dev" if tally["dev"] <= tally["heldout"] else "heldout"
            halves[f"{source.repo}:{source.path}"] = half
            count[half] += len(source.cases)
            total[half] += len(source.cases)
    return halves


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
    )
    halves = assign_halves(sources)
    out = {"dev": [], "heldout": []}  # type: dict[str, list[str]]
    split = []
    for source in sorted(sources, key=lambda s: (s.repo, s.path)):
        key = f"{source.repo}:{source.path}"
        half = halves[key]
        for n, item in enumerate(source.cases, 1):
            record = {
                "id": f"{_digest(key)[:8]}-{n:04d}",
                **item,
                "group": source.group,
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
