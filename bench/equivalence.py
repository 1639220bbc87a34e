"""Equivalence check: the embedded detector's findings at two commits, on the same texts.

    python bench/equivalence.py BASE [--head REF] [--generated N] [--seed S] [--min-score X]

BASE (and HEAD, if given) are checked out into temporary git worktrees; without ``--head`` the
working tree is used. Each side runs ``EmbeddedRecognizer().find_entities(text, language)`` in its
own subprocess over the same texts: tests/eval/*.txt, both halves of tests/eval_thirdparty/ (run
as data only: a difference there is counted, its text is never printed) and N generated texts
(digit groups, separators, cue words, CJK and Latin letters, seeded). Every finding (offset,
length, category, score) must be identical; the exit status is 1 otherwise.

Made for speed work that must not change a finding (bench/RESULTS.md, "Embedded detector: exact
speed-ups").
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = sorted((ROOT / "tests" / "eval").glob("*.txt"))
THIRDPARTY = ("dev", "heldout")
SHOWN = 5  # differing texts shown per set (never for the third-party halves)

_WORKER = """
import json, sys
sys.path.insert(0, ".")
from redaction.embedded import EmbeddedRecognizer
request = json.load(sys.stdin)
recognizer = EmbeddedRecognizer(**request["options"])
cases = request["cases"]
found = [
    [[e.offset, e.length, e.category, repr(e.score)] for e in recognizer.find_entities(t, lang)]
    for t, lang in cases
]
json.dump(found, sys.stdout)
"""

# Pieces that steer the detector down its numeric paths: cue words of several categories and
# languages, negative cues, prefixes, separators and scripts written without spaces.
_WORDS = tuple(
    " ".join(
        (
            "phone tel. tel call me at mobile fax whatsapp contact order ref invoice ticket no.",
            "nr. card visa iban account acct ssn passport licence license dob born birthday date",
            "ip server id personnummer pesel nif nie codice fiscale steuer-id bsn tc kimlik",
            "aadhaar pan telefon telefone celular handy téléphone teléfono 电话 電話 手机 号码",
            "携帯 전화 โทร ext. x version build serial the a of and on",
        )
    ).split(" ")
)
_SCRIPTS = ("我的", "は", "의", "ที่", "abc", "Zq", "_", "-", "é")
_SEPARATORS = (" ", " ", " ", "-", ".", "/", " - ", "(", ")", ") ", "\t", "\n", ",", ", ", ": ")
_FORMATS = (0, 1, 2, 2)  # E164, INTERNATIONAL, NATIONAL (phonenumbers.PhoneNumberFormat)
_LEADS = ("", "", "", "+", "+", "00", "0", "(+", "(0", "(")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _number(rng: random.Random) -> str:
    """A run of digit groups: phone-, card-, id- or date-like."""
    groups = [_digits(rng, rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6, 8, 9, 10, 11)))]
    for _ in range(rng.choice((0, 0, 1, 2, 2, 3, 3, 4, 5))):
        groups.append(rng.choice(_SEPARATORS[:6]) + _digits(rng, rng.choice((2, 3, 3, 4, 4, 6))))
    tail = rng.choice(("", "", "", "", "-" + _digits(rng, 3), " x12", "-R", "AB"))
    return rng.choice(_LEADS) + "".join(groups) + tail


def _phone(rng: random.Random) -> str:
    """A region's example number with its last digits redrawn, written in one of its formats."""
    import phonenumbers

    region = rng.choice(sorted(phonenumbers.SUPPORTED_REGIONS))
    kind = rng.choice(
        (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    )
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return _number(rng)
    tail = rng.choice((0, 2, 3, 4))
    national = str(example.national_number)
    if tail:
        national = national[:-tail] + _digits(rng, tail)
    example.national_number = int(national)
    written = phonenumbers.format_number(example, rng.choice(_FORMATS))
    return written.replace(" ", rng.choice((" ", " ", "-", ".", "")))


def _mutated(rng: random.Random, text: str) -> str:
    """A text with a few of its digits redrawn (check digits fail, lengths stay)."""
    chars = list(text)
    places = [i for i, char in enumerate(chars) if char.isdigit()]
    for i in rng.sample(places, min(len(places), rng.choice((1, 1, 2, 3)))):
        chars[i] = rng.choice("0123456789")
    return "".join(chars)


def _code(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.choice((1, 2))))
    body = "".join(rng.choice("0123456789ABCDEFX") for _ in range(rng.randint(6, 22)))
    return rng.choice((letters, letters.lower())) + body


def generated_texts(count: int, seed: int) -> list[tuple[str, str]]:
    """Seeded texts and their languages."""
    rng = random.Random(seed)
    languages = ("en", "en", "en", "de", "fr", "pt", "tr", "zh", "ja", "nl", "hi", "es")
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.25:
                parts.append(_number(rng))
            elif kind < 0.45:
                parts.append(_phone(rng))
            elif kind < 0.55:
                parts.append(_code(rng))
            elif kind < 0.65:
                parts.append(rng.choice(_SCRIPTS))
            else:
                parts.append(rng.choice(_WORDS))
            parts.append(rng.choice(("", " ", " ", " ", ", ", ". ", "; ", ": ", "\n")))
        texts.append(("".join(parts).strip(), rng.choice(languages)))
    return texts


def corpus(generated: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    from redaction.embedded.evaluation import read_labeled

    sets = {"tests/eval": [(d.text, "en") for d in read_labeled(EVAL)]}
    for half in THIRDPARTY:
        path = ROOT / "tests" / "eval_thirdparty" / f"{half}.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        sets[half] = [(r["text"], "en" if r["language"] == "bare" else r["language"]) for r in rows]
    sets["generated"] = generated_texts(generated, seed)
    rng = random.Random(seed)
    sets["mutated"] = [(_mutated(rng, text), lang) for text, lang in sets["tests/eval"] * 3]
    return sets


def findings(
    tree: Path, cases: Sequence[tuple[str, str]], options: dict[str, object]
) -> list[list[object]]:
    out = subprocess.run(
        [sys.executable, "-c", _WORKER],
        input=json.dumps({"cases": cases, "options": options}),
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    result: list[list[object]] = json.loads(out.stdout)
    return result


def worktree(ref: str, into: Path) -> Path:
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(into), ref], check=True, cwd=ROOT
    )
    return into


def compare(
    sets: dict[str, list[tuple[str, str]]],
    base: Path,
    head: Path,
    options: dict[str, object] | None = None,
) -> int:
    """Prints a line per set and returns how many texts differ in all. ``options``: keyword
    arguments of EmbeddedRecognizer on both sides (``min_score``, ``phone_regions``)."""
    everything = [case for cases in sets.values() for case in cases]
    before = findings(base, everything, options or {})
    after = findings(head, everything, options or {})
    differing, offset = 0, 0
    for name, cases in sets.items():
        window = slice(offset, offset + len(cases))
        pairs = list(zip(before[window], after[window], strict=True))
        offset += len(cases)
        changed = [i for i, (old, new) in enumerate(pairs) if old != new]
        entities = sum(len(old) for old, _ in pairs)
        differing += len(changed)
        print(f"{name:<12} {len(cases):>6} texts {entities:>6} findings  {len(changed)} differ")
        if name not in THIRDPARTY:
            for i in changed[:SHOWN]:
                print(f"    {cases[i]!r}\n      before {pairs[i][0]}\n      after  {pairs[i][1]}")
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("base", help="the commit to compare with")
    parser.add_argument("--head", help="a commit (default: the working tree)")
    parser.add_argument("--generated", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--min-score", type=float, help="the recognizer's (default: its own)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sets = corpus(args.generated, args.seed)
    with tempfile.TemporaryDirectory(prefix="equivalence-") as scratch:
        trees = [worktree(args.base, Path(scratch) / "base")]
        if args.head:
            trees.append(worktree(args.head, Path(scratch) / "head"))
        try:
            options = {} if args.min_score is None else {"min_score": args.min_score}
            differing = compare(sets, trees[0], trees[1] if args.head else ROOT, options)
        finally:
            for tree in trees:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)], check=False, cwd=ROOT
                )
    print("identical" if not differing else f"{differing} texts differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
