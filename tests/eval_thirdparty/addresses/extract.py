"""Builds the street-address evaluation set from two public projects, as data only.

    python tests/eval_thirdparty/addresses/extract.py MIRRORS_DIR

dev: pyap's tests of a full address (``test_full_address`` in ``test_parser_us.py`` and
``test_parser_gb.py``): US and UK address strings that are addresses (True) or not (False).
held-out: presidio-research's ``data/synth_dataset_v2.json``: 1,500 sentences (templates filled
by Faker) with STREET_ADDRESS, ZIP_CODE and GPE spans; a gold address is a STREET_ADDRESS span
merged with the STREET_ADDRESS, ZIP_CODE and GPE spans next to it (only spaces and commas between).
Rows: ``text``, ``addresses`` (``[start, end)`` spans; empty for a negative), ``source``, ``id``.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYAP = "vladimarius/pyap"
PRESIDIO = "microsoft/presidio-research"
ADDRESS_PARTS = {"STREET_ADDRESS", "ZIP_CODE", "GPE"}


def _git(mirrors: Path, repo: str, *args: str) -> str:
    git = mirrors / repo.replace("/", "+") / "repo"
    return subprocess.check_output(["git", "-C", str(git), *args], text=True)


def pyap_rows(mirrors: Path) -> list[dict]:
    commit = _git(mirrors, PYAP, "rev-parse", "HEAD").strip()
    rows = []
    for path in ("test_parser_us.py", "test_parser_gb.py"):
        tree = ast.parse(_git(mirrors, PYAP, "show", f"HEAD:{path}"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef) and node.name == "test_full_address"):
                continue
            cases = ast.literal_eval(node.decorator_list[0].args[1])  # type: ignore[attr-defined]
            for number, (text, positive) in enumerate(cases, 1):
                rows.append(
                    {
                        "text": text,
                        "addresses": [[0, len(text)]] if positive else [],
                        "source": f"{PYAP}/{path}@{commit[:12]}",
                        "id": f"{path}:test_full_address:{number}",
                    }
                )
    return rows


def merged_addresses(text: str, spans: list[dict]) -> list[list[int]]:
    """STREET_ADDRESS spans joined with the address parts right next to them."""
    parts = sorted(
        (s["start_position"], s["end_position"], s["entity_type"])
        for s in spans
        if s["entity_type"] in ADDRESS_PARTS
    )
    groups: list[list] = []
    for start, end, kind in parts:
        if groups and re.fullmatch(r"[\s,]*", text[groups[-1][1] : start]):
            groups[-1][1] = max(groups[-1][1], end)
            groups[-1][2].add(kind)
        else:
            groups.append([start, end, {kind}])
    return [[s, e] for s, e, kinds in groups if "STREET_ADDRESS" in kinds]


def presidio_rows(mirrors: Path) -> list[dict]:
    commit = _git(mirrors, PRESIDIO, "rev-parse", "HEAD").strip()
    path = "data/synth_dataset_v2.json"
    data = json.loads(_git(mirrors, PRESIDIO, "show", f"HEAD:{path}"))
    return [
        {
            "text": row["full_text"],
            "addresses": merged_addresses(row["full_text"], row["spans"]),
            "source": f"{PRESIDIO}/{path}@{commit[:12]}",
            "id": f"{path}:{number}:template{row['template_id']}",
        }
        for number, row in enumerate(data, 1)
    ]


def main() -> None:
    mirrors = Path(sys.argv[1])
    for half, rows in (("dev", pyap_rows(mirrors)), ("heldout", presidio_rows(mirrors))):
        with (HERE / f"{half}.jsonl").open("w") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(half, len(rows), sum(len(r["addresses"]) for r in rows))


if __name__ == "__main__":
    main()
