"""National identifiers beyond the first set in ``identifiers``: personal, tax and company numbers
of more countries, checked by python-stdnum where it has the format and by hand where it has not.

A number with a check digit (or a date and a check digit) is found bare, without a cue word: a
message that is just a valid T.C. Kimlik or Estonian personal code is masked. A number without
a check digit (driving licences, passports, most EU passport formats) is found only with a cue.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import cache

from redaction.embedded.identifiers import CONTEXT_ONLY, Rule, any_value, rule


def _stdnum(module: str) -> Callable[[str], bool]:
    """python-stdnum's ``is_valid`` of ``module``, imported when first needed (start-up stays
    as quick as before these formats were added)."""

    checkers: list[Callable[[str], bool]] = []  # the checker, once imported

    def is_valid(value: str) -> bool:
        if not checkers:
            checkers.append(importlib.import_module(f"stdnum.{module}").is_valid)
        return checkers[0](value)

    return is_valid


# A number whose check digit holds, with no cue word: just above the default minimum score.
CHECKED = 0.55
# A check digit that one number in ten passes by chance, or a shape without one: a little lower.
WEAK = 0.5

# A bare run with nothing but one check digit (one number in ten passes): a cue word is needed,
# unless the number is written grouped ("000 024 733") or is the whole message.
SHORT = 0.45

_DIGITS = re.compile(r"\d")


def _digits(value: str) -> str:
    return "".join(_DIGITS.findall(value))


def _is_dated(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def is_kr_dated(value: str) -> bool:
    """A Korean resident registration number by its date and sex digit (numbers issued since
    October 2020 have no check digit)."""
    digits = _digits(value)
    return len(digits) == 13 and _is_dated(digits) and digits[6] in "12345678"


_SG_TABLES = {"ST": "JZIHGFEDCBA", "FG": "XWUTRQPNMLK"}
_SG_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def is_sg_nric(value: str) -> bool:
    """Singapore NRIC / FIN: a series letter, seven digits and a check letter."""
    prefix, digits, check = value[0], value[1:8], value[8]
    total = sum(int(d) * w for d, w in zip(digits, _SG_WEIGHTS, strict=True))
    total += 4 if prefix in "TG" else 3 if prefix == "M" else 0
    remainder = total % 11
    if prefix == "M":
        return "KLJNPQRTUWX"[10 - remainder] == check
    table = _SG_TABLES["ST"] if prefix in "ST" else _SG_TABLES["FG"]
    return table[remainder] == check


def is_dea(value: str) -> bool:
    """A US DEA registration number: two letters, six digits and a check digit."""
    d = [int(c) for c in value[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def is_au_medicare(value: str) -> bool:
    """An Australian Medicare number: weights 1 3 7 9 over the first eight digits."""
    digits = [int(c) for c in _digits(value)]
    if len(digits) not in (10, 11):
        return False
    total = sum(d * w for d, w in zip(digits[:8], (1, 3, 7, 9, 1, 3, 7, 9), strict=True))
    return total % 10 == digits[8]


def _th_pin(value: str) -> bool:
    return _TH_PIN(_digits(value))


def is_icao_document(value: str) -> bool:
    """A document number whose last character is the ICAO 9303 check digit of the others."""
    total = 0
    for i, char in enumerate(value[:-1].upper()):
        number = int(char) if char.isdigit() else ord(char) - 55
        total += number * (7, 3, 1)[i % 3]
    return value[-1].isdigit() and total % 10 == int(value[-1])


def is_nz_bank_account(value: str) -> bool:
    """python-stdnum's nz.bankaccount check, answered at once where the first two digits are no
    bank code of its bank register (a shape that starts with two ASCII digits keeps them first
    in python-stdnum's compact form): its check would fail there after a look-up in the
    register that costs about 0.2 ms."""
    head = value[:2]
    codes = _nz_bank_codes()
    if codes and head.isascii() and head.isdigit() and head not in codes:
        return False
    return _NZ_BANK_ACCOUNT(value)


@cache
def _nz_bank_codes() -> frozenset[str]:
    """The two-digit codes that python-stdnum's NZ bank register (nz/banks) lists a bank under;
    empty (no shortcut) if its first level is not keyed by two digits."""
    from stdnum import numdb

    prefixes = numdb.get("nz/banks").prefixes
    if any(length != 2 for length, *_ in prefixes):
        return frozenset()
    codes = (f"{n:02d}" for n in range(100))
    return frozenset(c for c in codes if any(low <= c <= high for _, low, high, *_ in prefixes))


_NZ_BANK_ACCOUNT = _stdnum("nz.bankaccount")
_ZA_ID = _stdnum("za.idnr")
_LUHN = _stdnum("luhn")


def _za_id(value: str) -> bool:
    """A South African ID number: python-stdnum's check, which takes citizenship digits 0 and 1
    only; a refugee's number has 2 there ("0001015002288"), its birth date and Luhn check
    digit held as for the others."""
    digits = value.replace(" ", "")
    if digits[10:11] != "2":
        return _ZA_ID(digits)
    refugee = digits[:10] + "0" + digits[11:]  # the same birth date, read by python-stdnum
    return _za_birth_date(refugee) and _LUHN(digits)


def _za_birth_date(digits: str) -> bool:
    from stdnum.exceptions import ValidationError
    from stdnum.za import idnr

    try:
        idnr.get_birth_date(digits)
    except ValidationError:
        return False
    return True


_STNR = _stdnum("de.stnr")
_TH_PIN = _stdnum("th.pin")
_CN_RIC = _stdnum("cn.ric")

_TH = "thai thailand population_identification บัตรประชาชน"
_TR = "tc kimlik tckn kimlik_no t.c. tc_kimlik_no kimlik_numaras\u0131"
_EE = "isikukood isikukoodi personal_code"
_LT = "asmens asmens_kodas"
_SE = "personnummer personnr pnr"
_KR = "rrn frn 주민등록번호 resident_registration registration_number"
_CZ = "rodné rodne birth_number rč"
_AU_TAX = "tfn tax_file"
_AU_ACN = "acn company_number"
_IRD = "ird inland_revenue"
_UTR = "utr taxpayer unique_taxpayer"
_NZ_BANK = "account bank acct"
_STNR_CUES = "steuernummer stnr st.-nr"

NUMERIC_RULES: tuple[Rule, ...] = (
    rule(
        "CNResidentIdentityCardNumber",
        r"\d{17}[\dXx]",
        lambda v: _CN_RIC(v.upper()),
        CHECKED,
        "身份证 身份证号 居民身份证 resident_identity",
    ),
    rule("TRNationalIdentificationNumber", r"[1-9]\d{10}", _stdnum("tr.tckimlik"), CHECKED, _TR),
    rule("EEPersonalIdentificationCode", r"[1-6]\d{10}", _stdnum("ee.ik"), CHECKED, _EE),
    rule("LTPersonalCode", r"[1-69]\d{10}", _stdnum("lt.asmens"), CONTEXT_ONLY, _LT),
    rule("BGUniformCivilNumber", r"\d{10}", _stdnum("bg.egn"), WEAK, "egn егн civil_number"),
    rule(
        "ZAIdentificationNumber",
        r"\d{13}|\d{6} \d{4} \d{3}",
        _za_id,
        CHECKED,
        "south_african rsa identity id_number",
    ),
    rule("SIUniqueMasterCitizenNumber", r"[0-3]\d{12}", _stdnum("si.emso"), CHECKED, "emšo emso"),
    rule(
        "THPopulationIdentificationCode",
        r"[1-8]\d{12}|[1-8]([ -])\d{4}\1\d{5}\1\d\d\1\d",
        _th_pin,
        CHECKED,
        _TH,
    ),
    rule("THPopulationIdentificationCode", r"[1-8](?:[ -]?\d){12}", _th_pin, WEAK, _TH),
    rule("KRResidentRegistrationNumber", r"\d{6}-[1-8]\d{6}", is_kr_dated, 0.6, _KR),
    rule("KRResidentRegistrationNumber", r"\d{6}[1-8]\d{6}", _stdnum("kr.rrn"), CHECKED, _KR),
    rule("KRResidentRegistrationNumber", r"\d{6}[1-8]\d{6}", is_kr_dated, CONTEXT_ONLY, _KR),
    rule("CZPersonalIdentityNumber", r"\d{6}/\d{3,4}", _stdnum("cz.rc"), 0.6, _CZ),
    rule("CZPersonalIdentityNumber", r"\d{10}", _stdnum("cz.rc"), WEAK, _CZ),
    rule("CZPersonalIdentityNumber", r"\d{9}", _stdnum("cz.rc"), CONTEXT_ONLY, _CZ),
    rule("SENationalID", r"(?:18|19|20)\d{10}", _stdnum("se.personnummer"), CHECKED, _SE),
    rule("SENationalID", r"\d{10}", _stdnum("se.personnummer"), WEAK, _SE),
    rule("PLREGONNumber", r"\d{14}", _stdnum("pl.regon"), WEAK, "regon"),
    rule("PLREGONNumber", r"\d{9}", _stdnum("pl.regon"), SHORT, "regon"),
    rule(
        "AUBusinessNumber",
        r"\d{2} ?\d{3} ?\d{3} ?\d{3}",
        _stdnum("au.abn"),
        CHECKED,
        "abn australian_business business_number",
    ),
    rule("AUCompanyNumber", r"\d{3} \d{3} \d{3}", _stdnum("au.acn"), WEAK, _AU_ACN),
    rule("AUCompanyNumber", r"\d{9}", _stdnum("au.acn"), SHORT, _AU_ACN),
    rule("AUTaxFileNumber", r"\d{3} \d{3} \d{2,3}", _stdnum("au.tfn"), WEAK, _AU_TAX),
    rule("AUTaxFileNumber", r"\d{8,9}", _stdnum("au.tfn"), SHORT, _AU_TAX),
    rule(
        "AUMedicalAccountNumber",
        r"[2-6]\d{3} ?\d{5} ?\d(?:[ /-]?\d)?",
        is_au_medicare,
        SHORT,
        "medicare",
    ),
    rule(
        "NZInlandRevenueNumber",
        r"\d{2,3}-\d{3}-\d{3}",
        _stdnum("nz.ird"),
        WEAK,
        _IRD,
    ),
    rule("NZInlandRevenueNumber", r"\d{8,9}", _stdnum("nz.ird"), SHORT, _IRD),
    rule(
        "NZBankAccountNumber",
        r"\d\d(?:[ -]{0,3}\d){12,14}",  # 14 to 16 digits, any grouping
        is_nz_bank_account,
        0.6,
        _NZ_BANK,
    ),
    rule(
        "BankAccountNumber",
        r"\d{1,6}-\d{2,10}/\d{4}|\d{6,10}/\d{4}",
        _stdnum("cz.bankaccount"),
        CHECKED,
        "účet ucet číslo_účtu account bank",
    ),
    rule("UKUniqueTaxpayerNumber", r"\d{5} \d{5}", _stdnum("gb.utr"), WEAK, _UTR),
    rule("UKUniqueTaxpayerNumber", r"\d{10}", _stdnum("gb.utr"), SHORT, _UTR),
    rule(
        "JPMyNumberCorporate",
        r"[1-9]\d{12}",
        _stdnum("jp.cn"),
        WEAK,
        "法人番号 corporate_number houjin",
    ),
    rule(
        "MYIdentityCardNumber",
        r"\d{6}-\d\d-\d{4}",
        _stdnum("my.nric"),
        0.6,
        "nric mykad ic kad_pengenalan",
    ),
    rule("MYIdentityCardNumber", r"\d{12}", _stdnum("my.nric"), CONTEXT_ONLY, "nric mykad"),
    # A German Steuernummer (no check digit): written with its slashes, or 13 digits alone.
    rule(
        "EUTaxIdentificationNumber",
        r"\d{2,5}/ ?\d{3,5}(?:/ ?\d{1,5})?(?: \d{1,4})?",
        _STNR,
        WEAK,
        _STNR_CUES,
    ),
    rule("EUTaxIdentificationNumber", r"\d{13}", _STNR, SHORT, _STNR_CUES),
    rule("EUTaxIdentificationNumber", r"\d{10,11}", _STNR, CONTEXT_ONLY, _STNR_CUES),
    rule(
        "IEPersonalPublicServiceNumber", r"\d{7}[A-W][ABHWTX]?", _stdnum("ie.pps"), CHECKED, "pps"
    ),
)

_DE_DOC = "[CFGHJKLMNPRTVWXYZ][0-9CFGHJKLMNPRTVWXYZ]{7}"
_LICENCE = "driver driver's drivers license licence driving führerschein fahrerlaubnis patente"

CODE_RULES: tuple[Rule, ...] = (
    rule(
        "SGNationalRegistrationIdentityCardNumber",
        r"[STFGM]\d{7}[A-Z]",
        is_sg_nric,
        0.6,
        "nric fin singapore",
    ),
    rule("DrugEnforcementAgencyNumber", r"[A-HJ-NP-UX][A-Z9]\d{7}", is_dea, CHECKED, "dea"),
    rule(
        "DEPassportNumber",
        r"[CFGHJK][0-9CFGHJKLMNPRTVWXYZ]{7}\d",
        is_icao_document,
        WEAK,
        "reisepass passport pass pass-nr passnummer",
    ),
    rule(
        "DEIdentityCardNumber",
        rf"{_DE_DOC}\d",
        any_value,
        CONTEXT_ONLY,
        "personalausweis ausweis ausweisnummer id_card",
    ),
    rule(
        "DEDriversLicenseNumber",
        r"[A-Z0-9]{2}\d{8}[A-Z0-9]|[A-Z0-9]\d\d[A-Z0-9]{6}\d[A-Z0-9]",
        any_value,
        CONTEXT_ONLY,
        _LICENCE,
    ),
    rule(
        "ITDriversLicenseNumber",
        r"(?:[A-Z]{2}\d{7}|U1[A-Z0-9]{7})[A-Z]",
        any_value,
        CONTEXT_ONLY,
        _LICENCE,
    ),
    rule(
        "EUPassportNumber",
        r"[A-Z]{2,3}\d{6,7}",
        any_value,
        CONTEXT_ONLY,
        "passport reisepass passeport pasaporte passaporto paspoort paszport pas",
    ),
)

CATEGORIES = frozenset(r.category for r in NUMERIC_RULES + CODE_RULES)
