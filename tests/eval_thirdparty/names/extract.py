"""Builds the person-name evaluation set from Universal NER (UNER) English files, as data only.

Each sentence's ``# text =`` line is the text; its PER tokens (IOB2) are found in it left to right,
which gives character offsets. Run from the repository root with the git mirrors of the sources:

    python tests/eval_thirdparty/names/extract.py MIRRORS_DIR

dev: UNER English-EWT dev (web text: e-mails, reviews, answers, blogs, newsgroups).
held-out: UNER English-EWT test (other documents of the same treebank) and UNER English-PUD
(news and Wikipedia sentences).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {
    "dev": [("UniversalNER/UNER_English-EWT", "en_ewt-ud-dev.iob2")],
    "heldout": [
        ("UniversalNER/UNER_English-EWT", "en_ewt-ud-test.iob2"),
        ("UniversalNER/UNER_English-PUD", "en_pud-ud-test.iob2"),
    ],
}


def sentences(raw: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(sent_id, text, [(token, tag)]) for every sentence of an UNER .iob2 file."""
    out = []
    sent_id, text, tokens = "", "", []
    for line in [*raw.splitlines(), ""]:
        if line.startswith("# sent_id = "):
            sent_id = line[len("# sent_id = ") :]
        elif line.startswith("# text = "):
            text = line[len("# text = ") :]
        elif line.startswith("#"):
            continue
        elif not line.strip():
            if tokens:
                out.append((sent_id, text, tokens))
            sent_id, text, tokens = "", "", []
        else:
            columns = line.split("\t")
            tokens.append((columns[1], columns[2]))
    return out


def person_spans(text: str, tokens: list[tuple[str, str]]) -> list[list[int]] | None:
    """Character spans of PER entities, or None when a token cannot be found in the text."""
    spans: list[list[int]] = []
    position = 0
    for token, tag in tokens:
        start = text.find(token, position)
        if start < 0:
            return None
        end = start + len(token)
        position = end
        if tag == "B-PER":
            spans.append([start, end])
        elif tag == "I-PER" and spans:
            spans[-1][1] = end
    return spans


def main() -> None:
    mirrors = Path(sys.argv[1])
    for half, files in SOURCES.items():
        rows = []
        for repo, path in files:
            git = mirrors / repo.replace("/", "+") / "repo"
            commit = subprocess.check_output(["git", "-C", git, "rev-parse", "HEAD"], text=True)
            raw = subprocess.check_output(["git", "-C", git, "show", f"HEAD:{path}"], text=True)
            for sent_id, text, tokens in sentences(raw):
                spans = person_spans(text, tokens)
                if spans is None or not text:
                    continue
                rows.append(
                    {
                        "text": text,
                        "persons": spans,
                        "source": f"{repo}/{path}@{commit.strip()[:12]}",
                        "id": sent_id,
                    }
                )
        with (HERE / f"{half}.jsonl").open("w") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(half, len(rows), sum(len(r["persons"]) for r in rows))


if __name__ == "__main__":
    main()
