"""Writes synthetic.txt: chat messages with planted, labeled personal data (Faker, seeded).

Run `python tests/eval/generate.py` after changing it; the test and the benchmark read the file,
so neither needs Faker. Values that a library can check are drawn until the library accepts them,
so every label is a real instance of its category. Markup: ⟦Category:value⟧.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum import bic, iban
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.eu import vat
from stdnum.gb import nhs
from stdnum.us import rtn

SEED = 4
DOCUMENTS = 600
OUT = Path(__file__).with_name("synthetic.txt")

fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pl_PL", "sv_SE"])
rng = random.Random(SEED)


def _until(make: Callable[[], str], ok: Callable[[str], bool]) -> str:
    while True:
        value = make()
        if ok(value):
            return value


def _digits(count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _group(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def phone() -> str:
    region = rng.choice(["US", "US", "GB", "DE", "FR", "CA"])
    example = phonenumbers.example_number(region)
    assert example is not None
    length = len(str(example.national_number))

    def draw() -> phonenumbers.PhoneNumber:
        return phonenumbers.parse(f"{rng.randint(2, 9)}{_digits(length - 1)}", region)

    number = draw()
    while not phonenumbers.is_valid_number(number):
        number = draw()
    style = rng.choice(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    )
    if region in ("US", "CA") and rng.random() < 0.5:
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    return phonenumbers.format_number(number, style)


def card() -> str:
    kind = rng.choice(["visa16", "mastercard", "mastercard", "amex", "discover", "diners"])
    number = fake["en_US"].credit_card_number(kind)
    if kind == "amex" and rng.random() < 0.5:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return _group(number) if rng.random() < 0.6 else number


def iban_value() -> str:
    locale = rng.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"])
    value = _until(fake[locale].iban, iban.is_valid)
    return _group(value) if rng.random() < 0.5 else value


def nino() -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    value = f"{first}{second}{_digits(6)}{rng.choice('ABCD')}"
    if value[:2] in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        return nino()
    return " ".join([value[:2], value[2:4], value[4:6], value[6:8], value[8]])


def nhs_number() -> str:
    value = _until(lambda: _digits(10), nhs.is_valid)
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def date_text(day: object) -> str:
    formats = ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%B %d, %Y", "%d %B %Y"]
    return day.strftime(rng.choice(formats))  # type: ignore[attr-defined,no-any-return]


def storage_key() -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def sas_url() -> tuple[str, str]:
    sig = base64.b64encode(rng.randbytes(32)).decode().replace("+", "%2B").replace("=", "%3D")
    account = fake.user_name().replace(".", "").replace("_", "")[:12]
    url = (
        f"https://{account}.blob.core.windows.net/files/report.pdf?sv=2022-11-02&ss=b&srt=o"
        f"&sp=r&se=2025-06-01T00:00:00Z&spr=https&sig={sig}"
    )
    return url, f"sig={sig}"


VALUES: dict[str, Callable[[], str]] = {
    "Email": fake.email,
    "PhoneNumber": phone,
    "URL": lambda: rng.choice([fake.url(), fake.uri(), f"www.{fake.domain_name()}"]),
    "IPAddress": lambda: rng.choice([fake.ipv4_public(), fake.ipv6()]),
    "CreditCardNumber": card,
    "InternationalBankingAccountNumber": iban_value,
    "SWIFTCode": lambda: _until(lambda: rng.choice([fake.swift8(), fake.swift11()]), bic.is_valid),
    "ABARoutingNumber": lambda: _until(fake["en_US"].aba, rtn.is_valid),
    "USSocialSecurityNumber": fake["en_US"].ssn,
    "USIndividualTaxpayerIdentification": fake["en_US"].itin,
    "USBankAccountNumber": lambda: _digits(rng.randint(8, 12)),
    "USUKPassportNumber": lambda: rng.choice([_digits(9), f"{rng.choice('ACEFGH')}{_digits(8)}"]),
    "USDriversLicenseNumber": lambda: f"{rng.choice(string.ascii_uppercase)}{_digits(7)}",
    "UKNationalInsuranceNumber": nino,
    "UKNationalHealthNumber": nhs_number,
    "EUGPSCoordinates": lambda: f"{fake.latitude():.5f}, {fake.longitude():.5f}",
    "Date": lambda: date_text(fake.date_between("-2y", "+1y")),
    "DateOfBirth": lambda: date_text(fake.date_of_birth(minimum_age=18, maximum_age=90)),
    "DETaxIdentificationNumber": lambda: _until(lambda: _digits(11), idnr.is_valid),
    "DEValueAddedNumber": lambda: _until(fake["de_DE"].vat_id, vat.is_valid),
    "FRSocialSecurityNumber": fake["fr_FR"].ssn,
    "ITFiscalCode": fake["it_IT"].ssn,
    "ESDNI": fake["es_ES"].nif,
    "NLCitizensServiceNumber": fake["nl_NL"].ssn,
    "PLNationalID": fake["pl_PL"].pesel,
    "SENationalID": fake["sv_SE"].ssn,
    "DKPersonalIdentificationNumber": lambda: _until(
        lambda: f"{fake.date_of_birth().strftime('%d%m%y')}-{_digits(4)}", cpr.is_valid
    ),
    "AzureStorageAccountKey": lambda: (
        f"DefaultEndpointsProtocol=https;AccountName={fake.user_name()[:10].replace('.', '')}"
        f";AccountKey={storage_key()};EndpointSuffix=core.windows.net"
    ),
}

# Templates: {Category} plants a labeled value; {~trap} plants an unlabeled look-alike.
TEMPLATES = [
    "Hi, you can email me at {Email} or call {PhoneNumber} after 5pm.",
    "My SSN is {USSocialSecurityNumber}, please update the form.",
    "ITIN {USIndividualTaxpayerIdentification} belongs to my spouse.",
    "Please charge my card {CreditCardNumber} for order #{~order}.",
    "Card number: {CreditCardNumber}, expires 09/27.",
    "Wire it to IBAN {InternationalBankingAccountNumber}, SWIFT {SWIFTCode}.",
    "Routing number {ABARoutingNumber}, account number {USBankAccountNumber}.",
    "Passport no. {USUKPassportNumber}, issued {Date}.",
    "My driver's license number is {USDriversLicenseNumber}.",
    "NI number {UKNationalInsuranceNumber}; NHS number {UKNationalHealthNumber}.",
    "We met at {EUGPSCoordinates} yesterday.",
    "I was born on {DateOfBirth} in {~city}.",
    "DOB: {DateOfBirth}. Appointment on {Date}.",
    "The server at {IPAddress} keeps rejecting me, see {URL} for the log.",
    "Steuer-ID {DETaxIdentificationNumber}, USt-IdNr. {DEValueAddedNumber}.",
    "Numéro de sécurité sociale : {FRSocialSecurityNumber}.",
    "Il mio codice fiscale è {ITFiscalCode}.",
    "Mi DNI es {ESDNI}.",
    "Mijn BSN is {NLCitizensServiceNumber}.",
    "PESEL: {PLNationalID}",
    "Personnummer {SENationalID}",
    "CPR-nummer {DKPersonalIdentificationNumber}",
    "Here is the storage connection string: {AzureStorageAccountKey}",
    "Version {~version} was released on {~timestamp} with build {~build}.",
    "Request id {~uuid} failed at {~timestamp}; retry #{~small}.",
    "Ship to {~address}. Tracking {~tracking}.",
    "Invoice {~invoice} totals ${~price}, order {~order}.",
    "I have {~small} kids and {~small} cats; my flat is on floor {~small}.",
    "See section {~section} and commit {~hash}.",
    "Ping me on {PhoneNumber} or write to {Email}. {~sentence}",
    "{~sentence} My new address is {~address}.",
    "Listen on localhost:{~port} or 0.0.0.0:{~port}.",
]

TRAPS: dict[str, Callable[[], str]] = {
    "order": lambda: _digits(rng.randint(6, 9)),
    "city": fake.city,
    "version": lambda: f"{rng.randint(1, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
    "timestamp": lambda: fake.date_time().strftime(
        rng.choice(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"])
    ),
    "build": lambda: f"{fake.date_this_decade().strftime('%Y%m%d')}.{rng.randint(1, 9)}",
    "uuid": fake.uuid4,
    "small": lambda: str(rng.randint(1, 99)),
    "address": lambda: fake["en_US"].address().replace("\n", ", "),
    "tracking": lambda: f"1Z{_digits(3)}AA{_digits(10)}",
    "invoice": lambda: f"INV-{rng.randint(2019, 2025)}-{_digits(5)}",
    "price": lambda: f"{rng.randint(1, 9)},{_digits(3)}.{_digits(2)}",
    "section": lambda: f"{rng.randint(1, 12)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}",
    "hash": lambda: fake.sha1()[:12],
    "sentence": fake["en_US"].sentence,
    "port": lambda: str(rng.randint(1024, 65535)),
}


def render(template: str) -> str:
    out: list[str] = []
    rest = template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out.append(head)
        if name.startswith("~"):
            out.append(TRAPS[name[1:]]())
        else:
            out.append(f"⟦{name}:{VALUES[name]()}⟧")
    out.append(rest)
    return "".join(out)


def render_sas() -> str:
    url, signature = sas_url()
    head, _, tail = url.partition(signature)
    return f"Download it from ⟦URL:{head}⟦AzureSAS:{signature}⟧{tail}⟧ before Friday."


def main() -> None:
    Faker.seed(SEED)
    lines = [render(rng.choice(TEMPLATES)) for _ in range(DOCUMENTS)]
    lines += [render_sas() for _ in range(10)]
    header = "# Generated by tests/eval/generate.py; do not edit. Markup: ⟦Category:value⟧.\n"
    OUT.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
