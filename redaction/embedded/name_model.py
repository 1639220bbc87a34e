"""Person names from a small statistical tagger: a linear-chain CRF over word features.

The model file ``names.crfsuite`` beside this module is trained by ``bench/train_names.py`` on
third-party annotated text (tests/eval_thirdparty/names/TRAINING.md) and read once per process,
on first use; nothing is downloaded. Its features are the word, its shape and affixes,
capitalisation, sentence position and length, the neighbouring words, membership of the name lists
``names.py`` reads (given names, surnames, common words, places, titles) and whether the rules
of ``names.py`` took the word. The tagger runs only on sentences with a capitalised word past
the first or a known name, so text without names pays for the gate and little else.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

MODEL_PATH = Path(__file__).with_name("names.crfsuite")

# E-mail addresses, URLs and handles (one token each, read as the placeholder word), initials and
# title abbreviations with their stop ("J.", "Dr."), words (hyphens inside, as in "al-Sadr") with
# UD-style clitics split off ("John's" -> "John", "'s"), and single punctuation.
_REFERENCE = r"(?<![\w.+-])[\w.+-]*\w@[\w-]+(?:\.[\w-]+)*|(?:https?://|www\.)\S+|[@#]\w+"
_TOKEN = re.compile(
    rf"{_REFERENCE}|\b(?:[A-Z]\.)+(?!\w)|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr)\.(?!\w)"
    r"|[^\W_]+(?:(?:-|['\u2019](?!(?:s|re|ve|ll|d|m)\b))[^\W_]+)*|['\u2019](?:s|re|ve|ll|d|m)\b|[^\w\s]"
)
_IS_REFERENCE = re.compile(_REFERENCE)
PLACEHOLDER = "<ref>"
# A sentence ends at a line break, or at . ! ? before a space and a capital or a quote.
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?])[\"\u201d')]*\s+(?=[\"\u201c(]?[A-Z])")
_ABBREVIATION = re.compile(r"\b(?:[A-Z]|Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Rev|Gen|Col|Lt|Sgt)\.$")
_SHAPE = str.maketrans(
    {**{c: "X" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}, **{c: "d" for c in "0123456789"}}
)
_REPEATS = re.compile(r"(.)\1+")
_OPENERS = frozenset('.!?:;"\u201c(*-\u2022')


class Lists(Protocol):
    """The name lists a word is looked up in (``names.Gazetteer``), lower-cased."""

    @property
    def given(self) -> frozenset[str]: ...
    @property
    def surnames(self) -> frozenset[str]: ...
    @property
    def common(self) -> frozenset[str]: ...
    @property
    def places(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``; an address, a URL or a handle reads as ``PLACEHOLDER``."""
    return [
        Token(m.start(), m.end(), PLACEHOLDER if _IS_REFERENCE.fullmatch(m.group()) else m.group())
        for m in _TOKEN.finditer(text)
    ]


def sentences(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence; no break after a title or an initial (``Dr.``, ``J.``)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end in _SENTENCE_END.finditer(text):
        before = text[max(start, end.start() - 5) : end.start()]
        if end.group().strip("\n") and _ABBREVIATION.search(before):
            continue
        if end.start() > start:
            spans.append((start, end.start()))
        start = end.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@lru_cache(maxsize=65536)
def shape(word: str) -> str:
    """``Xx`` for ``Smith``, ``X.`` for ``J.``, ``dd`` for ``42``: letters and digits folded,
    repeats collapsed."""
    folded = "".join("x" if c.islower() else c for c in word.translate(_SHAPE))
    return _REPEATS.sub(r"\1\1", folded)[:6]


def _fold(word: str) -> str:
    return word.casefold().removesuffix("'s").removesuffix("\u2019s")


def word_flags(word: str, lists: Lists, titles: frozenset[str]) -> tuple[str, ...]:
    """The name lists ``word`` is in."""
    w = _fold(word).rstrip(".")
    return tuple(
        name
        for name, table in (
            ("given", lists.given),
            ("sur", lists.surnames),
            ("common", lists.common),
            ("place", lists.places),
            ("title", titles),
        )
        if w in table
    )


@dataclass(frozen=True, slots=True)
class _Word:
    """A word's features that do not depend on its sentence, made once per distinct word."""

    text: str
    own: tuple[str, ...]  # w=, sh=, affixes, lists, capitalisation
    flags: tuple[str, ...]
    cap: bool
    near: dict[int, tuple[str, ...]]  # what it gives the word at distance -d


class Features:
    """Feature strings of sentences' words, for the tagger (``tag``) and its training."""

    _LIMIT = 100_000  # distinct words remembered; beyond it the memory starts again

    def __init__(self, lists: Lists, titles: frozenset[str]) -> None:
        self._lists = lists
        self._titles = titles
        self._seen: dict[str, _Word] = {}

    def __call__(self, words: Sequence[str], ruled: Sequence[float]) -> list[list[str]]:
        """One list of feature strings per word; ``ruled`` is the score of the rules' name each
        word is inside (0 for none)."""
        seen = [self._word(w) for w in words]
        rules = [f"{r:.2f}" if r else "" for r in ruled]
        tone, length = _tone(words), _length(words)
        return [
            [*_word_features(seen, rules, i), tone, length, *(f"cap&{length}",) * seen[i].cap]
            for i in range(len(seen))
        ]

    def _word(self, text: str) -> _Word:
        word = self._seen.get(text)
        if word is None:
            if len(self._seen) >= self._LIMIT:
                self._seen.clear()
            word = self._seen[text] = _make_word(text, word_flags(text, self._lists, self._titles))
        return word


def _make_word(text: str, flags: tuple[str, ...]) -> _Word:
    low, form = _fold(text), shape(text)
    own = ["bias", f"w={low}", f"sh={form}", f"p3={low[:3]}", f"s3={low[-3:]}", f"s2={low[-2:]}"]
    own += [f"f={f}" for f in flags]
    cap = text[:1].isupper()
    if cap:
        own += ["cap", *(f"cap&{f}" for f in flags)]
    near: dict[int, tuple[str, ...]] = {d: (f"w{d}={low}",) for d in (-2, 2)}
    for d in (-1, 1):
        near[d] = (f"w{d}={low}", f"sh{d}={form}", *(f"f{d}={f}" for f in flags))
    return _Word(text, tuple(own), flags, cap, near)


def _tone(words: Sequence[str]) -> str:
    """How capitalised the sentence is: chat in lower case, prose, headlines in title case."""
    letters = [w for w in words if w[:1].isalpha()]
    if not letters:
        return "tone=none"
    share = sum(w[:1].isupper() for w in letters) / len(letters)
    return f"tone={min(4, int(share * 5))}"


def _length(words: Sequence[str]) -> str:
    """How many words the sentence has, up to 5: a name alone on a line signs a message off."""
    return f"n={min(5, sum(1 for w in words if w[:1].isalnum() and w != PLACEHOLDER))}"


def _word_features(seen: list[_Word], rules: list[str], i: int) -> list[str]:
    word = seen[i]
    start = i == 0 or seen[i - 1].text in _OPENERS
    out = list(word.own)
    if word.cap:
        out.append("cap&start" if start else "cap&inside")
    if start:
        out.append("start")
    if rules[i]:
        out += ["rule", f"rule={rules[i]}"]
    for d in (-2, -1, 1, 2):
        j = i + d
        if not 0 <= j < len(seen):
            out.append(f"w{d}=<s>")
            continue
        out += seen[j].near[d]
        if rules[j] and abs(d) == 1:
            out.append(f"rule{d}")
    return out


def worth_tagging(words: Sequence[str], lists: Lists) -> bool:
    """A capitalised word past the sentence start (not ``I``), or a first word that is no common
    word. Lower-case names ("max and jen") are left to the rules: too many English words are a
    given name somewhere ("said", "storm", "unique")."""
    for i, word in enumerate(words):
        if word[:1].isupper() and word not in ("I", "I'm"):
            if i > 0 and words[i - 1] not in _OPENERS:
                return True
            if _fold(word) not in lists.common:
                return True
    return False


@lru_cache(maxsize=1)
def _tagger_module() -> Any:
    return importlib.import_module("pycrfsuite")


class NameModel:
    """The trained tagger: spans of person names in a sentence, each with its mean marginal."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        self._path = path
        self._local = threading.local()

    def _tagger(self) -> Any:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = _tagger_module().Tagger()
            tagger.open(str(self._path))
            self._local.tagger = tagger
        return tagger

    def tag(
        self, items: list[list[str]], asked: Collection[int] = ()
    ) -> tuple[list[tuple[int, int, float]], dict[int, float]]:
        """``(first, last, score)`` word indices (inclusive) of each person name found, and for
        each ``asked`` word the probability that it is part of a name."""
        tagger = self._tagger()
        labels: list[str] = tagger.tag(items)
        found: list[tuple[int, int, float]] = []
        for i, label in enumerate(labels):
            if label == "B-PER" or (label == "I-PER" and not (found and found[-1][1] == i - 1)):
                found.append((i, i, 0.0))
            elif label == "I-PER":
                found[-1] = (found[-1][0], i, 0.0)
        names = [
            (a, b, _mean(tagger.marginal, labels, a, b))
            for a, b, _ in found
            if _wordlike(items[a]) and _wordlike(items[b])
        ]
        person = {i: tagger.marginal("B-PER", i) + tagger.marginal("I-PER", i) for i in asked}
        return names, person


def _wordlike(item: list[str]) -> bool:
    """A word's features: not punctuation, not the placeholder."""
    word = item[1][2:]
    return word[:1].isalnum() and word != PLACEHOLDER


def _mean(marginal: Callable[[str, int], float], labels: list[str], a: int, b: int) -> float:
    return sum(marginal(labels[i], i) for i in range(a, b + 1)) / (b - a + 1)
