"""Street addresses of the embedded detector on third-party annotated text, beside Presidio.

    .venv/bin/python bench/addresses_eval.py [--half dev|heldout|both] [--examples N] [--presidio]

Per half (tests/eval_thirdparty/addresses/README.md): recall (expected addresses overlapped by a
found Address span), coverage (share of the expected addresses' characters inside found spans),
precision (found spans that overlap an expected address), and false positives on address-free
text: the person-name sentences of the same half (Universal NER English web text and news), per
100 sentences. ``--presidio``: Presidio with a spaCy pipeline (bench/presidio_ner.py), whose
LOCATION spans are read as addresses (it has no address recognizer). Examples: dev half only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import presidio_ner
from redaction.embedded.addresses import AddressFinder

DATA = Path(__file__).resolve().parent.parent / "tests" / "eval_thirdparty"
Spans = list[tuple[int, int]]


def load(half: str, folder: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / folder / f"{half}.jsonl").open()]


def score(rows: list[dict], found: list[Spans], examples: int) -> dict[str, float]:
    expected = hit = gold_chars = covered_chars = found_n = found_ok = 0
    misses: list[str] = []
    false: list[str] = []
    for row, spans in zip(rows, found, strict=True):
        text, gold = row["text"], [tuple(s) for s in row["addresses"]]
        for s, e in gold:
            expected += 1
            inside = {i for a, b in spans for i in range(max(a, s), min(b, e))}
            hit += bool(inside)
            gold_chars += len(text[s:e].strip())
            covered_chars += sum(1 for i in inside if not text[i].isspace())
            if not inside:
                misses.append(f"{text[s:e]!r} found {[text[a:b] for a, b in spans]}")
        for a, b in spans:
            found_n += 1
            if any(a < e and s < b for s, e in gold):
                found_ok += 1
            else:
                false.append(f"{text[a:b]!r} in {text!r}")
    for title, items in (("misses", misses), ("false positives", false)):
        if examples:
            print(f"-- {title} ({len(items)})")
            for item in items[:examples]:
                print("  ", item)
    return {
        "texts": len(rows),
        "addresses": expected,
        "recall": hit / max(1, expected),
        "coverage": covered_chars / max(1, gold_chars),
        "found": found_n,
        "precision": found_ok / max(1, found_n),
    }


def address_free(rows: list[dict], found: list[Spans], examples: int) -> dict[str, float]:
    false = [
        f"{row['text'][a:b]!r} in {row['text']!r}"
        for row, spans in zip(rows, found, strict=True)
        for a, b in spans
    ]
    if examples:
        print(f"-- found in address-free sentences ({len(false)})")
        for item in false[:examples]:
            print("  ", item)
    return {"sentences": len(rows), "found": len(false), "per_100": 100 * len(false) / len(rows)}


def ours() -> Callable[[list[str]], list[Spans]]:
    finder = AddressFinder()
    return lambda texts: [[(e.offset, e.end) for e in finder.find_entities(t)] for t in texts]


def presidio(texts: list[str]) -> list[Spans]:
    found, _ = presidio_ner.findings(texts)
    return [[(a, b) for a, b, kind, _score in row if kind == "LOCATION"] for row in found]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", default="both", choices=["dev", "heldout", "both"])
    parser.add_argument("--examples", type=int, default=0)
    parser.add_argument("--presidio", action="store_true")
    args = parser.parse_args()
    finders = [("embedded", ours())]
    if args.presidio:
        if not presidio_ner.available():
            sys.exit("no Presidio venv with a spaCy pipeline: see bench/presidio_ner.py")
        finders.append(("presidio+spacy", presidio))
    for half in ["dev", "heldout"] if args.half == "both" else [args.half]:
        rows, free = load(half, "addresses"), load(half, "names")
        for name, find in finders:
            shown = args.examples if half == "dev" and name == "embedded" else 0
            result = score(rows, find([r["text"] for r in rows]), shown)
            clean = address_free(free, find([r["text"] for r in free]), shown)
            print(half, name, json.dumps({k: round(v, 3) for k, v in result.items()}))
            print(
                half, name, "address-free", json.dumps({k: round(v, 3) for k, v in clean.items()})
            )


if __name__ == "__main__":
    main()
