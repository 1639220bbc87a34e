"""Third-party evaluation: every case of tests/eval_thirdparty through /redact, beside Presidio.

    .venv/bin/python bench/thirdparty.py                 # both halves, table
    .venv/bin/python bench/thirdparty.py --half dev --examples 20   # misses shown for dev only
    .venv/bin/python bench/thirdparty.py --json          # machine output
    .venv/bin/python bench/thirdparty.py --repo DataFog/datafog-python   # one source's cases

The embedded detector is reached through the served app (``redaction.http.server.build_app`` on a
loopback aiohttp server, real HTTP, as tests/conftest.py does), detection cache off
(``PII_CACHE_ENABLED=false``), one ``/redact`` per case with the case's language as
``detection_language``. Presidio runs in bench/.presidio-venv through bench/detector.py's worker
(pattern recognizers only, English, default score threshold). A case's span counts as found when
every one of its characters is masked; precision counts masked characters outside expected spans.
See docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "eval_thirdparty"
HALVES = ("dev", "heldout")
PRESIDIO_PYTHON = ROOT / "bench" / ".presidio-venv" / "bin" / "python"
DETECTOR_BENCH = ROOT / "bench" / "detector.py"
REPEATS = 3  # throughput: best of this many timed passes
BATCH = 64  # cases (one message each) in one /redact of a throughput pass
# The redaction character, one not in the case's text: a "#" the text holds cannot be told from a
# masked one ("http://abc.com/123#cite_1" would count as a miss however well masked).
MASKS = ("#", "\u2588", "\u00a4", "\u00a7")


@dataclass(frozen=True)
class Case:
    id: str
    half: str
    text: str
    spans: tuple[tuple[int, int, str], ...]
    group: str
    language: str
    source: str

    @property
    def repo(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def foreign(self) -> bool:
        return self.language not in ("en", "bare")


def load_cases(halves: Sequence[str]) -> list[Case]:
    cases = []
    for half in halves:
        for line in (DATA / f"{half}.jsonl").read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            spans = tuple((s["start"], s["end"], s["category"]) for s in raw["spans"])
            source = f"{raw['source']['repo']}:{raw['source']['path']}"
            cases.append(
                Case(raw["id"], half, raw["text"], spans, raw["group"], raw["language"], source)
            )
    return cases


# ---- embedded detector through /redact --------------------------------------------------------


def _clean_environment() -> None:
    """Settings come from this script, never from the machine's environment (as in the tests)."""
    for name in list(os.environ):
        if name.startswith(("LANGUAGE_", "PII_", "REDACTION_", "REDIS_", "APPLICATIONINSIGHTS_")):
            del os.environ[name]
    os.environ["PII_DETECTOR"] = "local"
    os.environ["PII_CACHE_ENABLED"] = "false"


async def _run_redact(cases: Sequence[Case], repeats: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import SERVER_OPTIONS, build_app
    from redaction.settings import Settings

    settings = Settings(pii_detector="local", pii_cache_enabled=False)
    server = TestServer(build_app(function_app.app, settings))
    await server.start_server(**SERVER_OPTIONS)
    client = TestClient(server)
    await client.start_server()
    try:
        health = await (await client.get("/health")).json()
        masks: list[list[bool] | None] = []
        statuses: dict[str, int] = defaultdict(int)
        begin = time.perf_counter()
        for case in cases:  # accuracy, and throughput at one case a request
            response = await client.post("/redact", json=_payload([case]))
            answer = await response.json()
            status = answer.get("status", f"http-{response.status}")
            statuses[status] += 1
            masks.append(_masked(case.text, answer, _mask(case.text)) if status == "ok" else None)
        per_case = time.perf_counter() - begin
        seconds = []
        for _ in range(repeats):  # throughput at BATCH cases a request (one message each)
            begin = time.perf_counter()
            for start in range(0, len(cases), BATCH):
                response = await client.post("/redact", json=_payload(cases[start : start + BATCH]))
                statuses["batched " + (await response.json()).get("status", "?")] += 1
            seconds.append(time.perf_counter() - begin)
    finally:
        await client.close()
    return {
        "categories": sorted(health["categories"]),
        "masks": masks,
        "seconds": seconds,
        "seconds_per_case": per_case,
        "statuses": dict(statuses),
    }


def _payload(cases: Sequence[Case]) -> dict[str, Any]:
    language = cases[0].language if len(cases) == 1 else "en"
    config = {"detection_language": "en" if language == "bare" else language}
    if len(cases) == 1:
        config["redaction_character"] = _mask(cases[0].text)
    return {
        "body": {"messages": [{"role": "user", "content": case.text} for case in cases]},
        "config": config,
    }


def _mask(text: str) -> str:
    return next(mask for mask in MASKS if mask not in text)


def _masked(text: str, answer: dict[str, Any], mask: str) -> list[bool] | None:
    content = answer["redacted_body"]["messages"][0]["content"]
    if len(content) != len(text):
        return None
    return [c == mask and t != mask for c, t in zip(content, text, strict=True)]


def measure_embedded(cases: Sequence[Case], repeats: int) -> dict[str, Any]:
    _clean_environment()
    return asyncio.run(_run_redact(cases, repeats))


# ---- Presidio (its own venv, bench/detector.py's worker) -----------------------------------------


def measure_presidio(
    cases: Sequence[Case], repeats: int, threshold: float
) -> dict[str, Any] | None:
    if not PRESIDIO_PYTHON.exists():
        return None
    request = json.dumps({"texts": [case.text for case in cases], "repeats": repeats})
    out = subprocess.run(
        [str(PRESIDIO_PYTHON), str(DETECTOR_BENCH), "--presidio-worker"],
        input=request,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    masks = []
    for case, found in zip(cases, result["findings"], strict=True):
        mask = [False] * len(case.text)
        for offset, length, _entity, found_score in found:
            if found_score < threshold:
                continue
            for i in range(offset, min(offset + length, len(case.text))):
                mask[i] = True
        masks.append(mask)
    return {"masks": masks, "seconds": result["seconds"], "threshold": threshold}


# ---- scoring -----------------------------------------------------------------------------------


@dataclass
class Score:
    spans: int = 0
    found: int = 0
    masked: int = 0  # masked characters in the cases counted here
    masked_outside: int = 0  # of which outside every expected span
    negatives: int = 0
    negatives_masked: int = 0
    misses: list[str] = field(default_factory=list)
    false_masks: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.spans if self.spans else None

    @property
    def precision(self) -> float | None:
        return 1 - self.masked_outside / self.masked if self.masked else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "spans": self.spans,
            "found": self.found,
            "recall": self.recall,
            "masked_chars": self.masked,
            "masked_chars_outside": self.masked_outside,
            "precision": self.precision,
            "negatives": self.negatives,
            "negatives_masked": self.negatives_masked,
        }


def score(cases: Sequence[Case], masks: Sequence[list[bool] | None], claimed: set[str]) -> dict:
    """Scores keyed by half, then by row name: categories, and the summary rows ``*...``."""
    table: dict[str, dict[str, Score]] = defaultdict(lambda: defaultdict(Score))
    for case, answer in zip(cases, masks, strict=True):
        mask = answer if answer is not None else [False] * len(case.text)
        inside = [False] * len(case.text)
        for start, end, _ in case.spans:
            for i in range(start, end):
                inside[i] = True
        masked = sum(mask)
        outside = sum(1 for m, s in zip(mask, inside, strict=True) if m and not s)
        rows = ["*all", f"*from {case.repo}", f"group:{case.group}"]
        if case.foreign:
            rows.append("*non-English")
        if case.group in claimed:
            rows.append("*claimed")
        for half in (case.half, "both"):
            for row in rows:
                entry = table[half][row]
                entry.masked += masked
                entry.masked_outside += outside
                if not case.spans:
                    entry.negatives += 1
                    entry.negatives_masked += masked > 0
            if outside:
                table[half][f"group:{case.group}"].false_masks.append(_show(case, mask))
            for start, end, category in case.spans:
                hit = all(mask[start:end])
                span_rows = ["*all", f"*from {case.repo}", category]
                if case.foreign:
                    span_rows.append("*non-English")
                if category in claimed:
                    span_rows.append("*claimed")
                for row in span_rows:
                    entry = table[half][row]
                    entry.spans += 1
                    entry.found += hit
                if not hit:
                    table[half][category].misses.append(_show(case, mask))
    # category rows take precision from the cases of the files testing that category
    for rows in table.values():
        for name in [n for n in rows if n.startswith("group:")]:
            group = rows.pop(name)
            entry = rows[name.removeprefix("group:")]
            entry.masked, entry.masked_outside = group.masked, group.masked_outside
            entry.negatives, entry.negatives_masked = group.negatives, group.negatives_masked
            entry.false_masks = group.false_masks
    return table


def _show(case: Case, mask: list[bool]) -> str:
    shown = "".join(_mask(case.text) if m else c for c, m in zip(case.text, mask, strict=True))
    expected = ", ".join(repr(case.text[s:e]) for s, e, _ in case.spans) or "none"
    return f"{case.id} [{case.language}] {shown!r} expected {expected}"


# ---- report ------------------------------------------------------------------------------------


def _cell(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def report(
    cases: Sequence[Case],
    ours: dict[str, Any],
    theirs: dict[str, Any] | None,
    tables: list[dict],
    halves: Sequence[str],
) -> str:
    chars = sum(len(case.text) for case in cases)
    per_half = ", ".join(f"{h} {sum(c.half == h for c in cases)}" for h in halves)
    lines = [
        f"cases: {len(cases)} ({per_half}), {chars:,} characters; "
        f"claimed categories (/health): {len(ours['categories'])}",
        f"embedded /redact statuses: {ours['statuses']}",
        "presidio: pattern recognizers, English, score threshold "
        + (f"{theirs['threshold']}" if theirs else "- (not run)"),
        "",
        f"{'throughput':<48} {'chars/s':>10} {'cases/s':>9}",
    ]
    per_case = ours["seconds_per_case"]
    rates = [chars / min(ours["seconds"])]
    lines.append(
        f"{'embedded, /redact a case, cache off':<48} {chars / per_case:>10,.0f}"
        f" {len(cases) / per_case:>9,.0f}"
    )
    name = f"embedded, /redact {BATCH} cases, cache off, best of {REPEATS}"
    lines.append(f"{name:<48} {rates[0]:>10,.0f} {len(cases) * rates[0] / chars:>9,.0f}")
    if theirs is not None:
        rates.append(chars / min(theirs["seconds"]))
        name = f"presidio analyze() a case, in process, best of {REPEATS}"
        lines.append(f"{name:<48} {rates[1]:>10,.0f} {len(cases) * rates[1] / chars:>9,.0f}")
        lines.append(f"ratio embedded ({BATCH} a request) / presidio: {rates[0] / rates[1]:.1f}x")
    for half in [*halves, "both"] if len(halves) > 1 else halves:
        lines += ["", f"== {half}", _header(theirs is not None)]
        rows = tables[0][half]
        summary = sorted(n for n in rows if n.startswith("*"))
        categories = sorted(n for n in rows if not n.startswith("*"))
        for name in summary + categories:
            lines.append(_row(name, [table[half].get(name) for table in tables]))
    return "\n".join(lines)


def _header(with_presidio: bool) -> str:
    head = f"{'row':<42} {'spans':>5} {'rec emb':>7} {'prec emb':>8} {'neg emb':>7}"
    if with_presidio:
        head += f" {'rec pres':>8} {'prec pres':>9} {'neg pres':>8}"
    return head


def _row(name: str, scores: list[Score | None]) -> str:
    first = scores[0] or Score()
    cells = [f"{name.lstrip('*') if name.startswith('*') else name:<42} {first.spans:>5}"]
    for n, given in enumerate(scores):
        entry = given or Score()
        negatives = f"{entry.negatives_masked}/{entry.negatives}" if entry.negatives else "-"
        width = (7, 8, 7) if n == 0 else (8, 9, 8)
        cells.append(
            f" {_cell(entry.recall):>{width[0]}} {_cell(entry.precision):>{width[1]}}"
            f" {negatives:>{width[2]}}"
        )
    return "".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--half", choices=[*HALVES, "both"], default="both")
    parser.add_argument("--json", action="store_true", help="machine output")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument(
        "--presidio-threshold",
        type=float,
        default=0.0,
        help="drop Presidio findings under this score (default 0: AnalyzerEngine's default)",
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        help="only the cases of this source repository (owner/name; repeatable)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=0,
        help="list N misses and false masks per category (dev only)",
    )
    args = parser.parse_args()
    halves = HALVES if args.half == "both" else (args.half,)
    cases = load_cases(halves)
    if args.repo:
        cases = [case for case in cases if case.repo in args.repo]
    ours = measure_embedded(cases, REPEATS)
    threshold = args.presidio_threshold
    theirs = None if args.no_presidio else measure_presidio(cases, REPEATS, threshold)
    claimed = set(ours["categories"])
    tables = [score(cases, ours["masks"], claimed)]
    if theirs:
        tables.append(score(cases, theirs["masks"], claimed))
    chars = sum(len(case.text) for case in cases)
    if args.json:
        out = {
            "cases": len(cases),
            "characters": chars,
            "claimed_categories": ours["categories"],
            "statuses": ours["statuses"],
            "presidio_threshold": threshold,
            "throughput_chars_per_s": {
                "embedded_redact_one_case": chars / ours["seconds_per_case"],
                f"embedded_redact_{BATCH}_cases": chars / min(ours["seconds"]),
                "presidio": chars / min(theirs["seconds"]) if theirs else None,
            },
            "scores": {
                detector: {
                    half: {row: s.as_dict() for row, s in sorted(rows.items())}
                    for half, rows in table.items()
                }
                for detector, table in zip(("embedded", "presidio"), tables, strict=False)
            },
        }
        json.dump(out, sys.stdout, indent=1)
        print()
        return
    if theirs is None and not args.no_presidio:
        print("Presidio venv missing: .venv/bin/python bench/detector.py --setup\n")
    print(report(cases, ours, theirs, tables, halves))
    if args.examples and "dev" in tables[0]:
        print("\nexamples (dev half only; the held-out half is never looked at case by case)")
        for name, entry in sorted(tables[0]["dev"].items()):
            if name.startswith("*"):
                continue
            for line in entry.misses[: args.examples]:
                print(f"  miss  {name}: {line}")
            for line in entry.false_masks[: args.examples]:
                print(f"  extra {name}: {line}")


if __name__ == "__main__":
    main()
