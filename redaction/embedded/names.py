"""Person names without a model: name gazetteers, context cues, capitalisation and position.

A candidate is a run of capitalised words (with initials and particles such as ``van`` or ``bin``
inside). It is a ``Person`` when

- a title or an office stands before it (``Dr.``, ``Mrs``, ``President``), or a strong cue does
  (``my name is``, ``Dear``, ``Hi``, a sign-off such as ``Regards,``, a ``From:``/``To:`` header),
  and it is not a common word;
- it is two to four words whose first is a known given name and whose last a known given name or
  surname, at most one of them also a common English word;
- it is one known given name that is not a common word, a country or a state; or one known
  surname with a verb of speech after it (``Obama said``) or a weak cue before it (``I'm``).

Given names and surnames come from two MIT-licensed packages installed with the app, read once
per process and never downloaded: Faker's person providers (given names and surnames of about 80
locales, so names of many origins) and ``names`` (the US Census 1990 lists: 88,799 surnames, 5,494
given names). Common English words come from Faker's English word list and a list here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from redaction.embedded.name_model import (
    Features,
    NameModel,
    sentences,
    tokenize,
    worth_tagging,
)
from redaction.entities import Entity

CATEGORY = "Person"
# The tagger's mean marginal a span needs; the score from which a name the rules found is kept
# beside the tagger's (overlapping spans are merged); and the tagger's probability under which a
# rules' name is dropped, for one weaker than CUED (no title, cue or header) and for a cued one:
# all chosen on the dev half.
MODEL_THRESHOLD = 0.6
KEEP_RULES = 0.6
DOUBT = 0.3
DOUBT_CUED = 0.05
CUED = 0.85
# The score of another mention of a word of a name found in the same text.
REPEATED = 0.7
DEFAULT_MODEL = NameModel()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Upper-case letters of the alphabetic scripts that capitalise names (Latin, Greek, Cyrillic).
_UPPER = "".join(
    chr(c)
    for c in (*range(0x41, 0x250), *range(0x370, 0x530), *range(0x1E00, 0x1F00))
    if chr(c).isupper()
)
_CAP = rf"[{_UPPER}][^\W\d_]*(?:['\u2019-][^\W\d_]+)*"
_INITIAL = rf"[{_UPPER}]\."
_PARTICLE = r"(?:van|von|de|der|den|da|di|du|del|della|dos|das|la|le|bin|binti|ibn|al|el|ben|ter)"
_RUN = re.compile(
    rf"(?<![\w.@/\\])(?:{_INITIAL}|{_CAP})"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}(?:{_INITIAL}|{_CAP}))*(?![\w@/\\]|\.\w)"
)
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|"))
# E-mail headers: a display name in quotes before an address ("Lenhart, Matthew" <...>,
# "Les Spahnn" <...>) and a Notes address (Traci Warner@ENRON, Rudwell Johnson/ENRON@...).
_NAME_WORDS = rf"{_CAP}(?:[ \t]+(?:{_INITIAL}|{_CAP})){{0,3}}"
_NOTES = rf"{_CAP}(?:[ \t]+(?:{_INITIAL}|{_CAP})){{1,3}}"
_HEADER = re.compile(
    rf"(?<=\")(?:{_CAP},[ \t]*{_CAP}(?:[ \t]+{_INITIAL})?|{_NAME_WORDS})(?=\"[ \t]*<)"
    rf"|(?<![\w.@/\\]){_NOTES}@[A-Z]{{2,}}\b(?![.\w@-])"
    rf"|(?<![\w.@/\\]){_NOTES}(?=(?:/[A-Z][\w-]*)+@[A-Za-z])"
)
_TOKEN = re.compile(rf"{_INITIAL}|{_CAP}|[^\W\d_]+")
# A capitalised word standing alone (not inside an address, a path or a hyphenated word).
_MENTION = re.compile(rf"(?<![\w.@/\\-]){_CAP}(?![\w@/\\-]|\.\w)")
_CAPITAL = re.compile(f"[{_UPPER}]")
# A URL or an e-mail address with a domain (a Notes address such as "Traci Warner@ENRON" has none).
_REFERENCE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_POSSESSIVE = re.compile(r"['\u2019]s$")

TITLES = _words(
    """
    mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend fr father sister
    brother president senator sen rep representative governor gov mayor judge justice
    minister chancellor king queen prince princess pope coach officer detective
    sergeant sgt captain capt colonel col general gen lieutenant lt major admiral agent
    inspector doctor nurse uncle aunt auntie grandma grandpa madam mme mlle herr frau señor
    señora sr sra ambassador secretary chairman ceo
    """
)
_TITLE_BEFORE = re.compile(rf"\b(?:{'|'.join(sorted(TITLES))})\.?[ \t]+$")
# A cue right before the run that makes any capitalised, uncommon word a name.
_STRONG_BEFORE = re.compile(
    r"(?:\bmy name is|\bmy name's|\bname:|\bnamed|\bcalled|\bdear|\bhi|\bhello|\bhey|\bhiya"
    r"|\bgreetings|\bregards|\bsincerely|\bthanks|\bthank you|\bthx|\bbye|\bcc:|\battn:?"
    r"|\bsigned|\bsigned by|\bcontact|^\s*(?:from|to|sender|recipient|author|by):|\bsent by"
    r"|\bwritten by)[\s,.:!-]*$"
    # Sign-offs that also head names of shops and films ("Best Pizzas", "Love Actually") take a
    # stop or a line break before the name.
    r"|\b(?:best|yours|love|cheers|xoxo)\s*(?:[,.!-]|\n)[\s,.!-]*$"
)
# A role or relation right before the run: "Coach: Lisa Gilette", "cleric Muqtada al-Sadr".
_ROLE_BEFORE = re.compile(
    r"\b(?:coach|leader|cleric|official|spokesman|spokeswoman|spokesperson|analyst|engineer"
    r"|reporter|columnist|author|writer|director|chairman|chairwoman|founder|member|colleague"
    r"|friend|wife|husband|son|daughter|boss|manager|attorney|lawyer|plaintiff|defendant"
    r"|nominated|replacing|arrested|named|contact|commented|suing)[\s,:]*$"
)
# A cue that makes a known name (given name or surname) a person, but not any word.
_WEAK_BEFORE = re.compile(
    r"(?:\bi am|\bi'm|\bim|\bthis is|\bby|\bwith|\bfrom|\bto|\btell|\bask|\bmeet|\bmet"
    r"|\bsaid|\baccording to|\band|\bcall|\bemail|\be-mail|\btext)[\s,]*$"
)
_AFTER = re.compile(
    r"^(?:['\u2019]s\b)?[\s,]*(?:said|says|told|tells|asked|asks|wrote|writes|replied|added|explained"
    r"|announced|stated|argued|noted|claimed|thinks|thought|who\b|himself|herself|\(\d{1,3}\))"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(\n*•-])\s*$")
# A run that starts with one of these, or is followed by a place or business word, is not a name.
_PLACE_HEAD = _words("san santa st saint fort port mount mt lake los las el del new")
# Words that name a venue, a business or a storm and no person (a surname such as Park or Lane is
# not one).
_VENUE = _words(
    """
    street avenue boulevard blvd road station airport hotel motel restaurant pizza pizzeria cafe
    grill shop store inc ltd llc corp university college school hospital center centre mall
    lounge auto motors motorsports church bistro bakery deli salon diner pub tavern clinic
    hurricane typhoon cyclone
    """
)
_PLACE_AFTER = re.compile(
    r"^(?:\s*['\u2019]s|\s+s)?\s+(?:rd|st|ave|lane|drive|way|park|hills?|bay|river|valley|county"
    rf"|city|beach|island|bar|square|bridge|court|heartland|regions?|{'|'.join(sorted(_VENUE))})\b"
)
# A storm's name ("Hurricane Rita") or a saint's in a place's name ("St. Thomas residents").
_NAMED_BEFORE = re.compile(r"\b(?:hurricane|storm|typhoon|cyclone|st\.?|saint)\s+$")
# A preposition of place before a single word: "in Lawrence", "around Norman".
_LOCATIVE = re.compile(r"\b(?:in|at|near|around|from|to|into|across|outside|inside|visit)\s+$")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})

# Capitalised words that are not names, beyond Faker's list of common English words: calendar,
# greetings and sign-offs, pronouns and people words, and words that head organisations and places.
_STOP = _words(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday
    tonight hi hello hey dear welcome thanks thank regards cheers best yours sincerely love bye
    please sorry ok okay yes no yeah god jesus christ lord allah mom mum dad mama papa sis
    bro guys team all everyone everybody folks sir madam ma'am mr mrs ms dr i i'm i'll i've
    i'd me my we you he she they it this that these those there here what when where why how
    who which whose if and or but so then also just still even though although however
    because since while the a an of in on at for from to by with about into over after
    before under again new north south east west northern southern eastern western central
    united states kingdom street st road rd avenue ave lane drive boulevard park square city
    county town village university college school hospital church bank company inc ltd llc
    corp group club center centre hotel restaurant airport station museum library court
    house senate congress department ministry office government council committee party army
    navy police christmas easter thanksgiving halloween ramadan diwali hanukkah internet
    email e-mail web google apple microsoft amazon facebook twitter iphone windows english
    american british french german spanish italian chinese japanese indian russian african
    asian european canadian australian mexican irish scottish jewish muslim christian tv dvd
    cd pc usa uk eu un nfl nba san santa los las fort port mount lake saint
    mon tue tues wed thu thur thurs fri sat sun sunday moon earth venus mercury mars saturn
    jupiter sunni shia shiite arab hamas hezbollah
    """
)
# Large cities whose names are also given names or surnames (a country or a US state is read
# from Faker's lists).
_CITIES = _words(
    """
    london paris berlin madrid rome vienna prague warsaw moscow dublin lisbon athens sydney
    melbourne brisbane perth adelaide auckland wellington toronto montreal vancouver ottawa
    calgary houston dallas austin denver phoenix boston chicago atlanta seattle portland
    detroit miami orlando tampa nashville memphis charlotte raleigh cleveland columbus
    cincinnati jackson lincoln madison richmond savannah aurora mesa tucson fresno
    sacramento oakland birmingham manchester liverpool leeds glasgow edinburgh bristol
    cardiff belfast oxford cambridge york chester lancaster hamilton victoria florence sofia
    tokyo beijing shanghai delhi mumbai cairo lagos nairobi dubai riyadh tehran istanbul
    jerusalem hollywood manhattan brooklyn queens bronx
    """
)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Lower-cased given names, surnames, common words and places."""

    given: frozenset[str]
    surnames: frozenset[str]
    common: frozenset[str]
    places: frozenset[str]


def _strings(values: object) -> Iterable[str]:
    if isinstance(values, dict):
        values = list(values)
    if isinstance(values, (list, tuple, set, frozenset)):
        return [v for v in values if isinstance(v, str)]
    return []


# Faker's name lists by attribute: first_names, last_names_female, first_romanized_names (Chinese
# and Japanese names in Latin letters), middle_names, unisex_last_names, ... (not the kana lists,
# the pairs or the formats).
_NAME_LIST = re.compile(r"(?:[a-z]+_)?(first|last|middle)_(?:romanized_)?names(?:_[a-z]+)*")


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Reads the name lists of the installed packages once per process."""
    person = importlib.import_module("faker.providers.person")
    given: set[str] = set()
    surnames: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute, values in provider.__dict__.items():
            kind = _NAME_LIST.fullmatch(attribute)
            if kind:
                (surnames if kind.group(1) == "last" else given).update(_strings(values))
    census = Path(importlib.import_module("names").__file__ or "").parent
    for name, target in (
        ("dist.male.first", given),
        ("dist.female.first", given),
        ("dist.all.last", surnames),
    ):
        with (census / name).open(encoding="ascii") as lines:
            target.update(line.split(" ", 1)[0] for line in lines if line.strip())
    words = importlib.import_module("faker.providers.lorem.en_US").Provider.word_list
    places = [
        *importlib.import_module("faker.providers.address.en").Provider.countries,
        *importlib.import_module("faker.providers.address.en_US").Provider.states,
    ]
    return Gazetteer(
        given=frozenset(_fold(n) for n in given if " " not in n),
        surnames=frozenset(_fold(n) for n in surnames if " " not in n),
        common=frozenset(_fold(w) for w in words) | _STOP,
        places=frozenset(_fold(p) for p in places) | _CITIES,
    )


def _scores(spans: list[tuple[int, int]], ruled: list[Entity]) -> list[float]:
    """The score of the rules' name each ``[start, end)`` lies in, 0 for none."""
    return [
        max((r.score for r in ruled if r.offset <= a and b <= r.end), default=0.0) for a, b in spans
    ]


def _outside_references(text: str, found: list[Entity]) -> list[Entity]:
    """Without the names inside a URL or an e-mail address ("/people/John-Smith"): the URL or
    the address is masked whole by the structured detector."""
    if not found or not ("@" in text or "//" in text or "www." in text):
        return found
    spans = [m.span() for m in _REFERENCE.finditer(text)]
    return [e for e in found if not any(a < e.end and e.offset < b for a, b in spans)]


def _merged(found: list[Entity]) -> list[Entity]:
    """Overlapping spans made one, with the higher score; left to right."""
    out: list[Entity] = []
    for e in sorted(found, key=lambda e: (e.offset, -e.length)):
        if out and e.offset < out[-1].end:
            last = out[-1]
            end = max(last.end, e.end)
            out[-1] = Entity(last.offset, end - last.offset, CATEGORY, max(last.score, e.score))
        else:
            out.append(e)
    return out


# Initials right before a name, which belong to it ("R.E. Glenn", "W.H.S. Koerner", "A. Noel").
_INITIALS_BEFORE = re.compile(rf"(?<![\w.])(?:{_INITIAL}[ \t]?)+[ \t]$")


def _with_initials(text: str, e: Entity) -> Entity:
    """The name with the initials right before it."""
    initials = _INITIALS_BEFORE.search(text, max(0, e.offset - 16), e.offset)
    if initials is None:
        return e
    return Entity(initials.start(), e.end - initials.start(), CATEGORY, e.score)


def _venue(text: str, e: Entity) -> bool:
    """A business, a place or a storm rather than a person: a venue word inside or after the span
    ("Hayes Street Grill", "Ray's Pizza"), a storm or a saint before it."""
    span = text[e.offset : e.end].lower()
    return (
        any(_fold(w) in _VENUE for w in span.split())
        or bool(_PLACE_AFTER.match(text[e.end : e.end + 24].lower()))
        or bool(_NAMED_BEFORE.search(text[max(0, e.offset - 12) : e.offset].lower()))
    )


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _fold(word: str) -> str:
    return sys.intern(word.casefold())


class NameFinder:
    """Finds person names in English text; ``find_entities`` as the NER plug-in point.

    With ``model`` (the default: the tagger of ``name_model.py``), the rules' names are the
    tagger's features and the tagger decides; ``model=None`` keeps the rules alone.
    """

    categories = frozenset({CATEGORY})

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        model: NameModel | None = DEFAULT_MODEL,
        *,
        threshold: float = MODEL_THRESHOLD,
        keep_rules: float = KEEP_RULES,
        doubt: float = DOUBT,
        doubt_cued: float = DOUBT_CUED,
        repeat: bool = True,
    ) -> None:
        self._g = gazetteer if gazetteer is not None else load_gazetteer()
        self._model = model
        self._features = Features(self._g, TITLES)
        self._threshold = threshold
        self._keep_rules = keep_rules
        self._doubt = doubt
        self._doubt_cued = doubt_cued
        self._repeat = repeat

    def find_entities(self, text: str) -> list[Entity]:
        ruled = self.rule_entities(text)
        if self._model is None:
            found = ruled
        else:
            tagged, doubted = self._tagged(text, ruled, self._model)
            kept = [r for r in ruled if r.score >= self._keep_rules and r not in doubted]
            found = _merged([*tagged, *kept])
        found = [_with_initials(text, e) for e in _outside_references(text, found)]
        found = [e for e in found if not _venue(text, e)]
        return _merged([*found, *self._repeated(text, found)]) if self._repeat else found

    def _repeated(self, text: str, found: list[Entity]) -> list[Entity]:
        """Other mentions of a word of a full name found in the same text ("Charles J. Fillmore
        ... Fillmore said"): a capitalised word of three letters or more of a name of two words or
        more, that is no common word, place or title, wherever it stands alone, outside URLs and
        addresses and before no venue. One-word names are not spread: an error would repeat."""
        words = {
            word
            for e in found
            if len(names := _TOKEN.findall(_POSSESSIVE.sub("", text[e.offset : e.end]))) > 1
            for word in names
            if len(word) > 2
            and word[0].isupper()
            and not word.isupper()
            and _fold(word) not in self._g.common
            and _fold(word) not in self._g.places
            and _fold(word) not in TITLES
        }
        if not words:
            return []
        starts = [e.offset for e in found]  # left to right, no two overlapping (_merged)
        more: list[Entity] = []
        for mention in _MENTION.finditer(text):
            word = _POSSESSIVE.sub("", mention.group())
            start, end = mention.start(), mention.start() + len(word)
            i = bisect_left(starts, end) - 1  # the last name starting before this mention's end
            if word in words and (i < 0 or found[i].end <= start):
                more.append(Entity(start, end - start, CATEGORY, REPEATED))
        return [e for e in _outside_references(text, more) if not _venue(text, e)]

    def _tagged(
        self, text: str, ruled: list[Entity], model: NameModel
    ) -> tuple[list[Entity], set[Entity]]:
        """The tagger's names, and the rules' names it gives a low probability."""
        found: list[Entity] = []
        doubted: set[Entity] = set()
        if not _CAPITAL.search(text):
            return found, doubted
        offsets = [r.offset for r in ruled]  # sorted: rule_entities goes left to right
        longest = max((r.length for r in ruled), default=0)
        for start, end in sentences(text):
            if not _CAPITAL.search(text, start, end):
                continue
            tokens = tokenize(text[start:end])
            words = [t.text for t in tokens]
            if words and worth_tagging(words, self._g):
                spans = [(t.start + start, t.end + start) for t in tokens]
                near = ruled[bisect_left(offsets, start - longest) : bisect_left(offsets, end)]
                names, weak = self._sentence_names(words, spans, near, model)
                found += names
                doubted |= weak
        return found, doubted

    def _sentence_names(
        self,
        words: list[str],
        spans: list[tuple[int, int]],
        ruled: list[Entity],
        model: NameModel,
    ) -> tuple[list[Entity], set[Entity]]:
        inside = {
            r: [i for i, (a, b) in enumerate(spans) if r.offset <= a and b <= r.end] for r in ruled
        }
        asked = {i for indices in inside.values() for i in indices}
        tagged, person = model.tag(self._features(words, _scores(spans, ruled)), asked)
        found: list[Entity] = []
        for first, last, score in tagged:
            # A title before the name is not part of it, as with the rules: "Dr. Okonkwo".
            head = first
            while head < last and _fold(words[head].rstrip(".")) in TITLES:
                head += 1
            if score >= self._threshold:
                a, b = spans[head][0], spans[last][1]
                found.append(Entity(a, b - a, CATEGORY, round(0.6 + 0.3 * score, 3)))
        doubted = {
            r
            for r, indices in inside.items()
            if indices
            and sum(person[i] for i in indices) / len(indices)
            < (self._doubt if r.score < CUED else self._doubt_cued)
        }
        return found, doubted

    def rule_entities(self, text: str) -> list[Entity]:
        """The names the rules alone find (the tagger's ``rule`` feature)."""
        headed = ('"' in text or "@" in text) and _HEADER.finditer(text)
        found = [Entity(m.start(), m.end() - m.start(), CATEGORY, 0.85) for m in headed or ()]
        headers = [(e.offset, e.end) for e in found]
        for run in _RUN.finditer(text):
            entity = self._judge(text, run.start(), run.group())
            if entity is not None and not any(
                a < entity.end and entity.offset < b for a, b in headers
            ):
                found.append(entity)
        return sorted(found, key=lambda e: e.offset)

    def _judge(self, text: str, start: int, run: str) -> Entity | None:
        tokens = [(m.start() + start, _POSSESSIVE.sub("", m.group())) for m in _TOKEN.finditer(run)]
        g = self._g
        titled = False
        if _fold(tokens[0][1].rstrip(".")) in _PLACE_HEAD:
            return None
        # Leading titles and common words are not part of the name; a place's head ("London St
        # Pancras") makes the run no name.
        while tokens:
            word = _fold(tokens[0][1].rstrip("."))
            if word in _PLACE_HEAD:
                return None
            if word in TITLES:
                titled = True
            elif not (word in g.common or word in g.places):
                break
            tokens = tokens[1:]
        while tokens and (
            _fold(tokens[-1][1].rstrip(".")) in _SUFFIXES or _fold(tokens[-1][1]) in g.common
        ):
            if _fold(tokens[-1][1].rstrip(".")) in _SUFFIXES and len(tokens) > 1:
                break
            tokens = tokens[:-1]
        if not tokens or len(tokens) > 4:
            return None
        while tokens and _acronym(tokens[0][1]):
            tokens = tokens[1:]
        while tokens and _acronym(tokens[-1][1]):
            tokens = tokens[:-1]
        if not tokens:
            return None
        words = [_fold(t[1].rstrip(".")) for t in tokens]
        names = [t[1] for t in tokens if len(t[1].rstrip(".")) > 1]
        if (
            not names
            or all(w in g.places for w in words if len(w) > 1)
            or " ".join(words) in g.places
        ):
            return None
        first, last = tokens[0][0], tokens[-1][0] + len(tokens[-1][1])
        before = text[max(0, first - 40) : first].lower()
        score = self._score(words, titled, before, text[last : last + 24].lower(), start == first)
        if score is None or (score < 0.85 and _PLACE_AFTER.match(text[last : last + 24].lower())):
            return None
        return Entity(first, last - first, CATEGORY, score)

    def _score(
        self, words: list[str], titled: bool, before: str, after: str, run_start: bool
    ) -> float | None:
        g = self._g
        full = [w for w in words if len(w) > 1 and w not in _PARTICLES]
        if titled or _TITLE_BEFORE.search(before):
            return 0.85
        common = sum(1 for w in full if w in g.common)
        if (_STRONG_BEFORE.search(before) or _ROLE_BEFORE.search(before)) and common == 0:
            return 0.85
        known = all(w in g.given or w in g.surnames for w in full)
        if len(full) >= 2 and known and common <= 1 and words[0] in g.given:
            return 0.8
        if len(full) >= 2 and known and common == 0:
            return 0.7
        if (
            2 <= len(full) <= 3
            and words[0] in g.given
            and common == 0
            and not any(w in g.places for w in full)
        ):
            return 0.7  # a known given name and a surname in no list: "Debra Perlingiere"
        if (
            2 <= len(full) <= 3
            and words[-1] in g.surnames
            and common == 0
            and not any(w in g.places for w in full)
            and (_WEAK_BEFORE.search(before) or _AFTER.match(after))
        ):
            return 0.7  # a given name in no list and a known surname, with a cue: "met Sungjoo Lee"
        if len(full) != 1 or common or full[0] in g.places:
            return None
        word = full[0]
        if _LOCATIVE.search(before):
            return None
        if word in g.given:
            return 0.6
        if word in g.surnames and (_AFTER.match(after) or _WEAK_BEFORE.search(before)):
            return 0.6
        del run_start
        return None
