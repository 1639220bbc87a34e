"""Trains the person-name tagger of the embedded detector (redaction/embedded/names.crfsuite).

    .venv/bin/python bench/train_names.py [--mirrors /work/.mirror] [--out PATH] [--c1 C1]
        [--c2 C2] [--iterations N] [--sources btc,wnut17]

Training data (tests/eval_thirdparty/names/TRAINING.md): third-party annotated English text read
from git mirrors of its repositories (``fetch`` of the search tool puts them under
``MIRRORS/owner+name/repo``), at the commits recorded below; none of it is in the evaluation
halves (UNER English-EWT dev and test, English-PUD; a training sentence whose text is in either
half is left out). Sources: UNER English-EWT train (``uner_ewt``), GUM, wikigold, the Broad Twitter
Corpus (``btc``) and WNUT17. Person labels only; every other entity type is outside. ``@user``
mentions, ``#hashtags`` and URLs are replaced by a placeholder word, which is never a name. The
trainer (L-BFGS) is deterministic: the same data and options give the same model file; there is
no random seed to set.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pycrfsuite

from redaction.embedded.name_model import MODEL_PATH, PLACEHOLDER, Features, Token, tokenize
from redaction.embedded.names import TITLES, NameFinder, load_gazetteer

# (repository, commit, files, the label column's person tag); all CC BY 4.0.
SOURCES: dict[str, tuple[str, str, list[str], str]] = {
    "btc": (
        "GateNLP/broad_twitter_corpus",
        "0c45ef7b1924a6b8115bceab388781590b1b553a",
        ["a.conll", "b.conll", "e.conll", "f.conll", "g.conll", "h.conll"],
        "PER",
    ),
    # wikigold (Balasuriya et al. 2009, Wikipedia articles, CC BY 4.0; IOB1), as copied into
    # this repository (its own code is not used).
    "wikigold": (
        "fishbpm/NER-entity-recognition",
        "ef86e891eb91edbedb593159e332ab855915b6d5",
        ["wikigold.conll.txt"],
        "PER",
    ),
    "wnut17": (
        "leondz/emerging_entities_17",
        "e52a2d2a71ac1a051ca2d532eef28653c5c02603",
        ["wnut17train.conll", "emerging.dev.conll", "emerging.test.annotated"],
        "person",
    ),
}
# GUM (amir-zeldes/gum): annotations CC BY 4.0; only the genres whose texts are CC BY or CC BY-SA
# (LICENSE.txt there): academic, court (CC BY 4.0), interview, news (CC BY 2.5), bio, voyage
# (CC BY-SA 3.0). Its entities mark every mention; a proper noun (PROPN) whose innermost entity
# is a person is read as part of a name (plural ones, NNPS, are groups: "the Palestinians").
GUM = ("amir-zeldes/gum", "72ce5ac14978a324c2fd18d49484e65292cbe316")
GUM_GENRES = ("academic", "court", "interview", "news", "bio", "voyage")
# UNER English-EWT train (web text of the same treebank as the dev half, other documents; CC BY-SA
# 4.0): its first commit, the only one whose train file the mirror holds (under 4 MiB: later
# commits add two columns to every line). Its PER tokens are a subset of the final release's on
# dev and test (534 of 539, 633 of 692 tokens), so some names may be unlabelled.
UNER_EWT = ("UniversalNER/UNER_English-EWT", "0c7ce0debb13a7d304da656f16309397e8ff36ef")
UNER_EWT_FILE = "en_ewt-ud-train.iob2"
_ENTITY = re.compile(r"\((\d+)-(\w+)|(\d+)\)")

EVALUATION = Path(__file__).resolve().parent.parent / "tests" / "eval_thirdparty" / "names"
Sentence = tuple[list[str], list[str]]
# A sentence with its text: the words, their labels, the text and each word's [start, end) in it.
Example = tuple[list[str], list[str], str, list[tuple[int, int]]]


def read_conll(raw: str, person: str) -> list[Sentence]:
    """(words, BIO person labels) per sentence of a CoNLL file (word first, tag last; IOB1 or
    IOB2)."""
    out: list[Sentence] = []
    words: list[str] = []
    labels: list[str] = []
    for line in [*raw.splitlines(), ""]:
        columns = line.rstrip("\\\r").split()
        if len(columns) < 2 or columns[0] == "-DOCSTART-":
            if words:
                out.append((words, labels))
            words, labels = [], []
            continue
        word, tag = columns[0], columns[-1]
        if words and words[-1] in ("@", "#"):  # BTC splits "@ user": the handle is no name
            words.pop()
            labels.pop()
            word = PLACEHOLDER
        if word.startswith(("@", "#", "http")) and len(word) > 1:
            word = PLACEHOLDER
        if word == PLACEHOLDER:
            tag = "O"
        words.append(word)
        if tag[2:] != person:
            labels.append("O")
        elif tag.startswith("B-") or not labels or labels[-1] == "O":
            labels.append("B-PER")
        else:
            labels.append("I-PER")
    return out


def read_gum(raw: str) -> list[Sentence]:
    """(words, BIO person labels) per sentence of a GUM .conllu file."""
    out: list[Sentence] = []
    words: list[str] = []
    inside: list[bool] = []
    stack: list[tuple[str, str]] = []  # (entity id, type), innermost last
    for line in [*raw.splitlines(), ""]:
        if not line.strip():
            if words:
                out.append((words, _bio(inside)))
            words, inside = [], []
            continue
        columns = line.split("\t")
        if line.startswith("#") or len(columns) < 10 or not columns[0].isdigit():
            continue
        entity = next((f[7:] for f in columns[9].split("|") if f.startswith("Entity=")), "")
        for match in _ENTITY.finditer(entity):
            if match.group(1):
                stack.append((match.group(1), match.group(2)))
        words.append(columns[1])
        # Singular proper nouns only: "the Palestinians" is a group, not a name.
        proper = columns[3] == "PROPN" and columns[4] != "NNPS"
        inside.append(proper and bool(stack) and stack[-1][1] == "person")
        for match in _ENTITY.finditer(entity):
            if match.group(3):
                ids = [i for i, _ in stack]
                if match.group(3) in ids:
                    del stack[len(ids) - 1 - ids[::-1].index(match.group(3))]
    return out


def read_uner(raw: str) -> list[Example]:
    """Examples of an UNER .iob2 file: each sentence's ``# text =`` line cut by the runtime
    tokenizer, a word labelled as a name when it lies in a PER entity (the entity's tokens found in
    the text left to right). Sentences whose tokens are not found in their text are left out."""
    out: list[Example] = []
    text, tokens = "", []
    for line in [*raw.splitlines(), ""]:
        if line.startswith("# text = "):
            text = line[len("# text = ") :]
        elif not line.strip():
            persons = _person_spans(text, tokens)
            if tokens and text and persons is not None:
                out.append(_example(text, persons))
            text, tokens = "", []
        elif not line.startswith("#"):
            columns = line.split("\t")
            tokens.append((columns[1], columns[2]))
    return out


def _person_spans(text: str, tokens: list[tuple[str, str]]) -> list[tuple[int, int]] | None:
    spans: list[tuple[int, int]] = []
    position = 0
    for token, tag in tokens:
        start = text.find(token, position)
        if start < 0:
            return None
        position = start + len(token)
        if tag == "B-PER" or (tag == "I-PER" and not spans):
            spans.append((start, position))
        elif tag == "I-PER":
            spans[-1] = (spans[-1][0], position)
    return spans


def _example(text: str, persons: list[tuple[int, int]]) -> Example:
    tokens = tokenize(text)
    inside = [
        t.text != PLACEHOLDER and any(a <= t.start and t.end <= b for a, b in persons)
        for t in tokens
    ]
    labels = [
        ("I-PER" if i and inside[i - 1] and _same(persons, tokens[i - 1], t) else "B-PER")
        if flag
        else "O"
        for i, (flag, t) in enumerate(zip(inside, tokens, strict=True))
    ]
    return [t.text for t in tokens], labels, text, [(t.start, t.end) for t in tokens]


def _same(persons: list[tuple[int, int]], before: Token, token: Token) -> bool:
    """Whether two words lie in the same name."""
    return any(a <= before.start and token.end <= b for a, b in persons)


def _joined(words: list[str], labels: list[str]) -> Example:
    """A sentence given as words: its text is the words joined by spaces."""
    spans, position = [], 0
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    return words, labels, " ".join(words), spans


def _bio(inside: list[bool]) -> list[str]:
    return [
        ("I-PER" if i and inside[i - 1] else "B-PER") if flag else "O"
        for i, flag in enumerate(inside)
    ]


def load(mirrors: Path, names: list[str]) -> list[Example]:
    found: list[Sentence] = []
    examples: list[Example] = []
    if "uner_ewt" in names:
        git = mirrors / UNER_EWT[0].replace("/", "+") / "repo"
        examples += read_uner(_show(git, UNER_EWT[1], UNER_EWT_FILE))
    if "gum" in names:
        git = mirrors / GUM[0].replace("/", "+") / "repo"
        paths = subprocess.check_output(
            ["git", "-C", git, "ls-tree", "--name-only", GUM[1], "dep/"], text=True
        ).split()
        for path in paths:
            if path.split("_")[1] in GUM_GENRES and path.startswith("dep/GUM_"):
                found += read_gum(_show(git, GUM[1], path))
    for name in (n for n in names if n not in ("gum", "uner_ewt")):
        repo, commit, files, person = SOURCES[name]
        git = mirrors / repo.replace("/", "+") / "repo"
        for path in files:
            found += read_conll(_show(git, commit, path), person)
    return examples + [_joined(words, labels) for words, labels in found]


def _key(text: str) -> str:
    return re.sub(r"\W", "", text).casefold()


def outside_evaluation(data: list[Example]) -> list[Example]:
    """Without the sentences that are in either evaluation half (letters and digits compared,
    sentences over 20 of them): a few stock phrases of e-mail ("Let me know if you have any
    questions.") recur across the treebank's documents."""
    seen = {
        _key(json.loads(line)["text"])
        for half in ("dev", "heldout")
        for line in (EVALUATION / f"{half}.jsonl").open(encoding="utf-8")
    }
    return [e for e in data if len(_key(e[2])) <= 20 or _key(e[2]) not in seen]


def _show(git: Path, commit: str, path: str) -> str:
    return subprocess.check_output(["git", "-C", git, "show", f"{commit}:{path}"], text=True)


def rule_marks(finder: NameFinder, text: str, spans: list[tuple[int, int]]) -> list[float]:
    """The score of the rules' name each word (``[start, end)`` in ``text``) lies in, 0 for none."""
    ruled = finder.rule_entities(text)
    return [
        max((r.score for r in ruled if r.offset <= a and b <= r.end), default=0.0) for a, b in spans
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--sources", default="uner_ewt,gum,wikigold,btc,wnut17")
    parser.add_argument("--c1", type=float, default=0.3)
    parser.add_argument("--c2", type=float, default=0.03)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--minfreq", type=float, default=1)
    args = parser.parse_args()
    data = outside_evaluation(load(args.mirrors, args.sources.split(",")))
    lists = load_gazetteer()
    finder = NameFinder(lists, model=None)
    features = Features(lists, TITLES)
    trainer = pycrfsuite.Trainer(verbose=False)
    for words, labels, text, spans in data:
        trainer.append(features(words, rule_marks(finder, text, spans)), labels)
    trainer.set_params(
        {
            "c1": args.c1,
            "c2": args.c2,
            "max_iterations": args.iterations,
            "feature.possible_transitions": True,
            "feature.minfreq": args.minfreq,
        }
    )
    started = time.perf_counter()
    trainer.train(str(args.out))
    persons = sum(label == "B-PER" for _, labels, _, _ in data for label in labels)
    print(
        f"{len(data)} sentences, {persons} names, trained in "
        f"{time.perf_counter() - started:.0f} s: {args.out} ({args.out.stat().st_size} bytes)"
    )


if __name__ == "__main__":
    main()
