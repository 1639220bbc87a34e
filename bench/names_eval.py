"""Person names of the embedded detector on third-party annotated English text (UNER).

    .venv/bin/python bench/names_eval.py [--half dev|heldout|both] [--examples N] [--presidio]
        [--ner MODEL] [--threshold T] [--keep-rules S] [--doubt P] [--model PATH] [--documents]

Per half: recall (expected names whose every character lies inside a found Person span), exact
recall (found with the same span), precision (found Person spans that overlap an expected name),
and false positives on name-free sentences with at least three capitalised words (per 20 such
sentences). Then the finder's speed on the whole half. Two rows: the rules alone (``rules``) and
the default finder (``tagger``: the rules' names as features of the CRF tagger, name_model.py;
``--threshold``, ``--keep-rules`` and ``--doubt`` override its dev-chosen settings). Data and
licence: tests/eval_thirdparty/names/README.md. ``--model`` reads another tagger file (one
``bench/train_names.py --out`` wrote). ``--documents``: the finder reads each treebank document
whole (its sentences joined by line breaks), scored per sentence as before. Examples are printed
for the dev half only (tagger row).
``--presidio``: Presidio with a spaCy pipeline beside it (bench/presidio_ner.py, its PERSON spans).
``--ner MODEL``: the [ner] extra's spaCy pipeline through this project's SpacyFinder (a venv with
spaCy and MODEL installed: ``make ner``), its Person spans.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from bisect import bisect_right
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import presidio_ner
from redaction.embedded.name_model import MODEL_PATH, NameModel, tokenize, worth_tagging
from redaction.embedded.names import DOUBT, KEEP_RULES, MODEL_THRESHOLD, NameFinder, load_gazetteer

DATA = Path(__file__).resolve().parent.parent / "tests" / "eval_thirdparty" / "names"
CAPITALISED = re.compile(r"\b[A-Z][a-z]+")


def load(half: str) -> list[dict]:
    halves = ["dev", "heldout"] if half == "both" else [half]
    return [json.loads(line) for h in halves for line in (DATA / f"{h}.jsonl").open()]


Spans = list[tuple[int, int]]


def evaluate(rows: list[dict], found_spans: list[Spans], examples: int) -> dict[str, float]:
    expected = covered = exact = found_n = found_ok = 0
    busy = busy_fp = 0
    misses: list[str] = []
    false: list[str] = []
    for row, spans in zip(rows, found_spans, strict=True):
        text, gold = row["text"], [tuple(s) for s in row["persons"]]
        for s, e in gold:
            expected += 1
            if any(a <= s and e <= b for a, b in spans):
                covered += 1
            else:
                misses.append(f"{text[s:e]!r} in {text!r} found {[text[a:b] for a, b in spans]}")
            exact += (s, e) in spans
        for a, b in spans:
            found_n += 1
            if any(a < e and s < b for s, e in gold):
                found_ok += 1
            else:
                false.append(f"{text[a:b]!r} in {text!r}")
        if not gold and len(CAPITALISED.findall(text)) >= 3:
            busy += 1
            busy_fp += bool(spans)
    for title, items in (("misses", misses), ("false positives", false)):
        if examples:
            print(f"-- {title} ({len(items)})")
            for item in items[:examples]:
                print("  ", item)
    return {
        "sentences": len(rows),
        "names": expected,
        "recall": covered / max(1, expected),
        "exact_recall": exact / max(1, expected),
        "precision": found_ok / max(1, found_n),
        "busy_sentences": busy,
        "fp_per_20_busy": 20 * busy_fp / max(1, busy),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", default="both", choices=["dev", "heldout", "both"])
    parser.add_argument("--examples", type=int, default=0)
    parser.add_argument("--presidio", action="store_true")
    parser.add_argument("--ner", metavar="MODEL")
    parser.add_argument("--threshold", type=float, default=MODEL_THRESHOLD)
    parser.add_argument("--keep-rules", type=float, default=KEEP_RULES)
    parser.add_argument("--doubt", type=float, default=DOUBT)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--documents", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    load_gazetteer()
    print(f"gazetteer loaded in {time.perf_counter() - started:.3f} s")
    finders = {
        "rules": NameFinder(model=None),
        "tagger": NameFinder(
            load_gazetteer(),
            NameModel(args.model),
            threshold=args.threshold,
            keep_rules=args.keep_rules,
            doubt=args.doubt,
        ),
    }
    for half in ["dev", "heldout"] if args.half == "both" else [args.half]:
        rows = load(half)
        texts = [r["text"] for r in rows]
        chars = sum(len(t) for t in texts)
        for name, finder in finders.items():
            if args.documents:
                ours = by_document(finder, rows)
            else:
                ours = [[(e.offset, e.end) for e in finder.find_entities(t)] for t in texts]
            shown = args.examples if half == "dev" and name == "tagger" else 0
            result = evaluate(rows, ours, shown)
            best = min(_timed(finder, rows) for _ in range(3))
            print(half, name, json.dumps({k: round(v, 3) for k, v in result.items()}))
            print(f"{half} {name} speed: {chars / best / 1e6:.2f} M chars/s ({chars} chars)")
        _gate(finders, rows, half)
        if args.presidio:
            found, seconds = presidio_ner.findings(texts)
            spans = [[(a, b) for a, b, kind, _ in row if kind == "PERSON"] for row in found]
            result = evaluate(rows, spans, 0)
            print(half, "presidio+spacy", json.dumps({k: round(v, 3) for k, v in result.items()}))
            print(f"{half} presidio+spacy speed: {chars / seconds / 1e6:.3f} M chars/s")
        if args.ner:
            _ner(args.ner, rows, half)


def _ner(model: str, rows: list[dict], half: str) -> None:
    from redaction.embedded.ner import load_spacy_finder

    finder = load_spacy_finder(model)
    texts = [r["text"] for r in rows]
    started = time.perf_counter()
    found = [
        [(e.offset, e.end) for e in finder.find_entities(t) if e.category == "Person"]
        for t in texts
    ]
    seconds = time.perf_counter() - started
    result = evaluate(rows, found, 0)
    print(half, f"ner {model}", json.dumps({k: round(v, 3) for k, v in result.items()}))
    print(f"{half} ner speed: {sum(map(len, texts)) / seconds / 1e6:.3f} M chars/s")


def _gate(finders: dict[str, NameFinder], rows: list[dict], half: str) -> None:
    """How many sentences pass the tagger's gate, and both finders' speed on the same sentences
    lower-cased (text with few capitals, which the gate mostly keeps from the tagger)."""
    lists = load_gazetteer()
    passed = sum(worth_tagging([t.text for t in tokenize(r["text"])], lists) for r in rows)
    print(f"{half} gate: {passed} of {len(rows)} sentences tagged")
    lower = [{"text": r["text"].lower()} for r in rows]
    chars = sum(len(r["text"]) for r in lower)
    for name, finder in finders.items():
        best = min(_timed(finder, lower) for _ in range(3))
        print(f"{half} {name} speed, lower-cased: {chars / best / 1e6:.2f} M chars/s")


def by_document(finder: NameFinder, rows: list[dict]) -> list[Spans]:
    """Each sentence's found spans when the finder reads whole documents (the treebank's, from the
    sentence ids), sentences joined by line breaks: names found elsewhere in the document count."""
    documents: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        documents.setdefault(row["id"].rsplit("-", 1)[0], []).append(i)
    out: list[Spans] = [[] for _ in rows]
    for members in documents.values():
        starts, position = [], 0
        for i in members:
            starts.append(position)
            position += len(rows[i]["text"]) + 1
        text = "\n".join(rows[i]["text"] for i in members)
        for e in finder.find_entities(text):
            k = bisect_right(starts, e.offset) - 1
            out[members[k]].append((e.offset - starts[k], e.end - starts[k]))
    return out


def _timed(finder: NameFinder, rows: list[dict]) -> float:
    started = time.perf_counter()
    for row in rows:
        finder.find_entities(row["text"])
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
