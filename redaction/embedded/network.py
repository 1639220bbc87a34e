"""E-mail addresses, URLs and IP addresses; IPs are checked with the standard ``ipaddress``."""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from redaction.embedded.context import cues

EMAIL = "Email"
URL = "URL"
IP = "IPAddress"
EMAIL_SCORE = 0.9
URL_SCORE = 0.85
IP_SCORE = 0.75
IP_CUES = cues("ip ip_address server host address client")

DOMAIN_SCORE = 0.7

_TRAILING = ".,;:!?'\"*"
_HOST_END = re.compile(r"[:/?#]")
_AUTHORITY_END = re.compile(r"[/?#]")
# Generic top-level domains that a bare name ("bit.ly", "example.com") may end in; words that
# are also common in code ("self.name", "user.email", "req.app") are left out.
_GENERIC = cues(
    "com net org edu gov mil int info biz io xyz online site website tech academy aws cloud "
    "blog shop store club top vip pro mobi asia travel museum agency studio digital"
)
# Country codes that are also file extensions, code or English words ("setup.py", "main.rs",
# "row.id", "df.at", "is.in") are not read as a domain without a scheme or "www.".
_NOT_BARE = cues("py rs md sh pl cc mk ml ps tf sc gs cx id at is in no do so as by my us")
_COUNTRY = (
    frozenset({region.lower() for region in phonenumbers.SUPPORTED_REGIONS} | {"uk", "eu", "ac"})
    - _NOT_BARE
)
_TIME_OF_DAY = re.compile(r"(?:[01]?\d|2[0-4])\.(?:am|pm)")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SAS_SIGNATURE = re.compile(r"[?&]sig=[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2}")
# Words that say a number is an IP address, in the lower-cased words around it: "IP", "IPv6",
# "V6" (also glued to a word of a script without spaces, "我电脑IP是"), or "address" in the
# languages of the other cues.
_ADDRESS_CUE = re.compile(
    r"(?<![a-z])(?:ip|ipv[46]|v[46])(?![a-z])|address|adres|dirección|direccion|endereço"
    r"|indirizzo|आईपी|地址|アドレス|주소"
)


def url_end(text: str, start: int, end: int) -> int:
    """Trims sentence punctuation and unbalanced closing brackets off the end of a URL."""
    while end > start:
        last = text[end - 1]
        if last in _TRAILING or (last in ")]}" and _unbalanced(text[start:end], last)):
            end -= 1
        else:
            break
    return end


def is_bare_domain(value: str) -> bool:
    """A host name without a scheme whose last label is a generic, a country or an
    internationalised (``xn--``) top-level domain (a version or a decimal ends in digits), and
    not a time of day ("7.am", "10.pm"; "27.pm" is a name)."""
    host = _HOST_END.split(value, 1)[0]
    if _TIME_OF_DAY.fullmatch(host):
        return False
    top = host.rpartition(".")[2]
    return top in _GENERIC or top in _COUNTRY or top.startswith("xn--")


def is_url(value: str) -> bool:
    """A URL with a host: "www." before a dotted name ("www.microsoft" is not one), a scheme
    before a name or an address ("http://#" is not one)."""
    if value[:4].lower() == "www.":
        return "." in _HOST_END.split(value[4:], 1)[0]
    authority = _AUTHORITY_END.split(value.partition("://")[2], 1)[0]
    user, at, host = authority.rpartition("@")  # a user, a password or both ("http://:pw@host/")
    if at and not user.strip(":"):
        return False  # "http://@host", "http://:@host": an empty user part
    return bool(host) and (host[0].isalnum() or host[0] == "[")


def sas_signature(url: str) -> tuple[int, int] | None:
    """Where the ``sig=`` of a shared access signature sits in a URL, if it has one."""
    found = _SAS_SIGNATURE.search(url)
    return (found.start() + 1, found.end()) if found else None


def is_ip_address(value: str) -> bool:
    """IPv4 in dotted quads (leading zeros allowed, as inet_aton and many logs write them) or
    IPv6 with a digit (``ab::cd`` in code is not one), any zone id.

    The unspecified address (``0.0.0.0``, ``::``) is no address of a host: it is taken only
    where the words call it an IP address (``names_an_address``); loopback is masked like any.
    """
    if ":" in value and not any(char.isdigit() for char in value.partition("%")[0]):
        return False
    if ":" not in value:
        if not _DOTTED_QUAD.fullmatch(value):
            return False
        value = ".".join(str(int(octet)) for octet in value.split("."))  # "08.008.08.08"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not address.is_unspecified


def is_unspecified_address(value: str) -> bool:
    """The unspecified address in any spelling: ``0.0.0.0``, ``::``, ``0000::``, eight groups
    of zeros."""
    if ":" not in value:
        return _DOTTED_QUAD.fullmatch(value) is not None and not value.strip("0.")
    try:
        return ipaddress.IPv6Address(value).is_unspecified
    except ValueError:
        return False


def names_an_address(words: str) -> bool:
    """Whether the words around a number call it an IP address ("my IP is 0.0.0.0"): the
    unspecified address is taken only then (or alone), never in "listening on 0.0.0.0:8080"."""
    return _ADDRESS_CUE.search(words) is not None


def is_dotted_quad(value: str) -> bool:
    """Four groups of one to three digits split by dots: an IPv4 address or nothing."""
    return _DOTTED_QUAD.fullmatch(value) is not None


def _unbalanced(url: str, closing: str) -> bool:
    opening = {")": "(", "]": "[", "}": "{"}[closing]
    return url.count(closing) > url.count(opening)
