"""Benchmark: the embedded detector against Presidio's pattern recognizers, same corpus, one run.

    python bench/detector.py --setup   # once: bench/.presidio-venv from presidio-requirements.txt
    python bench/detector.py           # both detectors; Presidio is skipped if its venv is absent
    python bench/detector.py --cpu     # passes timed in process CPU time (a busy shared machine)
    python bench/detector.py --breakdown   # /redact in process: find_entities vs the rest
    python bench/detector.py --served      # only /redact: the served process's CPU, and wall

Presidio runs in its own virtual environment (never a dependency of the app), in a subprocess
that this file also provides (``--presidio-worker``), offline: a blank spaCy tokenizer instead of
a downloaded model, and the NER recognizer removed, so only pattern recognizers run. Both
detectors get the same documents (tests/eval/*.txt) on one thread; accuracy uses the same scorer.
The embedded detector is also measured through ``POST /redact`` (cache off), the figure issue
14's 10x floor is about, two ways:

- **served** (the honest figure): ``python -m redaction serve`` in its own process (settings
  from the environment, with PII_DETECTOR=local, PII_CACHE_ENABLED=false and a function key), a
  client in this process sending the requests over real HTTP; a pass costs the **server
  process's CPU time** (all its threads, from /proc/<pid>/task/*/schedstat, nanoseconds), and its
  wall time as the client sees it;
- **in process** (the older figure): the aiohttp test client and server in this one process, a
  pass timed with this process's clock (wall, or CPU with ``--cpu``), so the client's work
  (encoding the request, the client stack, reading the answer) is billed to /redact too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".presidio-venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "bench" / "presidio-requirements.txt"
CORPUS = sorted((ROOT / "tests" / "eval").glob("*.txt"))
REPEATS = 5
COLD_RUNS = 5
FIRST_CALL = "My email is alice@example.com and my SSN is 123-45-6789"
DETECTOR_DISTRIBUTIONS = ("python-stdnum", "phonenumberslite")  # as pinned in requirements.txt

PRESIDIO_TO_AZURE = {
    "EMAIL_ADDRESS": "Email",
    "PHONE_NUMBER": "PhoneNumber",
    "URL": "URL",
    "IP_ADDRESS": "IPAddress",
    "CREDIT_CARD": "CreditCardNumber",
    "IBAN_CODE": "InternationalBankingAccountNumber",
    "US_SSN": "USSocialSecurityNumber",
    "US_ITIN": "USIndividualTaxpayerIdentification",
    "US_BANK_NUMBER": "USBankAccountNumber",
    "US_PASSPORT": "USUKPassportNumber",
    "UK_PASSPORT": "USUKPassportNumber",
    "US_DRIVER_LICENSE": "USDriversLicenseNumber",
    "ABA_ROUTING_NUMBER": "ABARoutingNumber",
    "UK_NHS": "UKNationalHealthNumber",
    "UK_NINO": "UKNationalInsuranceNumber",
    "DATE_TIME": "Date",
    "ES_NIF": "ESDNI",
    "ES_NIE": "ESTaxIdentificationNumber",
    "IT_FISCAL_CODE": "ITFiscalCode",
    "IT_VAT_CODE": "ITValueAddedTaxNumber",
    "PL_PESEL": "PLNationalID",
    "FI_PERSONAL_IDENTITY_CODE": "FINationalID",
    "SE_PERSONNUMMER": "SENationalID",
    "DE_TAX_ID": "DETaxIdentificationNumber",
    "DE_VAT_ID": "DEValueAddedNumber",
    "CA_SIN": "CASocialInsuranceNumber",
    "IN_AADHAAR": "INUniqueIdentificationNumber",
    "IN_PAN": "INPermanentAccount",
}

_COLD_START = f"""
import time
start = time.perf_counter()
from redaction.embedded import EmbeddedRecognizer
EmbeddedRecognizer().find_entities({FIRST_CALL!r})
print(time.perf_counter() - start)
"""


# ---- Presidio side (runs inside bench/.presidio-venv) ----------------------------------------


def presidio_worker() -> None:
    """Reads {"texts": [...], "repeats": n, "cpu": bool} on stdin, prints timings and findings
    as JSON."""
    request = json.load(sys.stdin)
    clock = time.process_time if request.get("cpu") else time.perf_counter
    start = time.perf_counter()
    analyzer = _presidio_analyzer()
    analyzer.analyze(FIRST_CALL, language="en")
    cold = time.perf_counter() - start
    texts = request["texts"]
    findings = [_presidio_findings(analyzer, text) for text in texts]
    elapsed = []
    for _ in range(request["repeats"]):
        begin = clock()
        for text in texts:
            analyzer.analyze(text, language="en")
        elapsed.append(clock() - begin)
    json.dump({"cold_start": cold, "seconds": elapsed, "findings": findings}, sys.stdout)


def _presidio_analyzer():  # type: ignore[no-untyped-def]
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from spacy.language import Language

    @Language.component("lower_lemma")
    def lower_lemma(doc):  # type: ignore[no-untyped-def]
        for token in doc:  # context words are matched on lemmas; a blank model has none
            token.lemma_ = token.lower_
        return doc

    class BlankSpacyEngine(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            nlp = spacy.blank("en")
            nlp.add_pipe("lower_lemma")
            self.nlp = {"en": nlp}

    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
    registry.remove_recognizer("SpacyRecognizer")
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def _presidio_findings(analyzer, text: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [
        [r.start, r.end - r.start, r.entity_type, r.score]
        for r in analyzer.analyze(text, language="en")
    ]


# ---- Driver (runs in the project's venv) -----------------------------------------------------


def setup() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    (VENV / ".gitignore").write_text("*\n")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
    subprocess.run(pip, check=True)


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def distribution_size(name: str) -> int:
    files = metadata.distribution(name).files or []
    return sum(f.size or 0 for f in files)


# How passes are timed: wall time, or with --cpu the process's CPU time (steadier when other
# work shares the machine; both processes, ours and Presidio's, are timed the same way).
CLOCK: Callable[[], float] = time.perf_counter


def measure_embedded(texts: Sequence[str]) -> dict[str, object]:
    from redaction.embedded import EmbeddedRecognizer

    colds = [
        float(
            subprocess.run(
                [sys.executable, "-c", _COLD_START],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
        )
        for _ in range(COLD_RUNS)
    ]
    recognizer = EmbeddedRecognizer()
    findings = [recognizer.find_entities(text) for text in texts]
    elapsed = []
    for _ in range(REPEATS):
        begin = CLOCK()
        for text in texts:
            recognizer.find_entities(text)
        elapsed.append(CLOCK() - begin)
    sizes = {name: distribution_size(name) for name in DETECTOR_DISTRIBUTIONS}
    return {
        "cold_start": statistics.median(colds),
        "seconds": elapsed,
        "findings": findings,
        "install_bytes": sum(sizes.values()),
        "install_detail": sizes,
    }


REDACT_MESSAGES = 20  # messages per /redact request: a conversation's worth


def measure_redact(texts: Sequence[str]) -> list[float]:
    """Seconds per pass of every text through ``POST /redact`` of the served app over real HTTP
    (embedded detector, detection cache off), ``REDACT_MESSAGES`` texts a request, client and
    server in this one process (the client's work is in the figure)."""
    return asyncio.run(_redact_passes(texts))


async def _redact_passes(texts: Sequence[str]) -> list[float]:
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import SERVER_OPTIONS, build_app
    from redaction.settings import Settings

    settings = Settings(pii_detector="local", pii_cache_enabled=False)
    server = TestServer(build_app(function_app.app, settings))
    await server.start_server(**SERVER_OPTIONS)
    client = TestClient(server)
    await client.start_server()
    bodies = _redact_bodies(texts)
    elapsed = []
    try:
        for _ in range(REPEATS):
            begin = CLOCK()
            for body in bodies:
                response = await client.post("/redact", json=body)
                assert response.status == 200, await response.text()
                await response.read()
            elapsed.append(CLOCK() - begin)
    finally:
        await client.close()
    return elapsed


SERVED_KEY = "bench-detector-function-key"  # the served app checks a function key, as deployed


def measure_redact_served(texts: Sequence[str]) -> dict[str, list[float]]:
    """Per pass of every text through ``POST /redact`` of ``python -m redaction serve`` in its
    own process (embedded detector, cache off, other settings from the environment), over real
    HTTP from this process: ``cpu``, the server process's CPU seconds (all threads), and
    ``wall``, seconds as the client sees them. One warm-up pass first."""
    port = _free_port()
    env = {
        **os.environ,
        "PII_DETECTOR": "local",
        "PII_CACHE_ENABLED": "false",
        "REDACTION_API_KEY": SERVED_KEY,
    }
    command = [sys.executable, "-m", "redaction", "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(_served_passes(texts, f"http://127.0.0.1:{port}", server))
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _served_passes(
    texts: Sequence[str], url: str, server: subprocess.Popen[bytes]
) -> dict[str, list[float]]:
    import aiohttp

    headers = {"Content-Type": "application/json", "x-functions-key": SERVED_KEY}
    bodies = [json.dumps(body).encode() for body in _redact_bodies(texts)]
    cpu: list[float] = []
    wall: list[float] = []
    async with aiohttp.ClientSession() as session:
        await wait_served(session, url, server)
        for index in range(REPEATS + 1):  # the first pass warms up
            cpu_begin, wall_begin = _cpu_seconds(server.pid), time.perf_counter()
            for body in bodies:
                async with session.post(f"{url}/redact", data=body, headers=headers) as answer:
                    assert answer.status == 200, answer.status
                    await answer.read()
            if index:
                wall.append(time.perf_counter() - wall_begin)
                cpu.append(_cpu_seconds(server.pid) - cpu_begin)
    return {"cpu": cpu, "wall": wall}


def _redact_bodies(texts: Sequence[str]) -> list[dict[str, object]]:
    return [
        {
            "body": {
                "messages": [{"role": "user", "content": t} for t in texts[i : i + REDACT_MESSAGES]]
            }
        }
        for i in range(0, len(texts), REDACT_MESSAGES)
    ]


def _cpu_seconds(pid: int) -> float:
    """CPU time of every live thread of ``pid`` (Linux, nanosecond counters; the worker threads
    live as long as the server)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
    return total / 1e9


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def wait_served(session, url: str, server: subprocess.Popen[bytes]) -> None:  # type: ignore[no-untyped-def]
    """Until the served app answers ``/health`` with 200 (a minute at most; it must not exit)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the served app exited during start-up")
        try:
            async with session.get(f"{url}/health") as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the served app did not become ready")


def measure_breakdown(texts: Sequence[str]) -> str:
    """Where one pass of ``/redact``'s work goes, in process (``api.redact``, no HTTP, cache
    off): CPU seconds inside ``find_entities`` and everything else (body walk, canonical view,
    seams, packing, mapping back, masking, JSON, telemetry), best pass of ``REPEATS``."""
    from redaction.embedded import EmbeddedRecognizer

    find = EmbeddedRecognizer.find_entities
    inside = [0.0]

    def timed(self: EmbeddedRecognizer, *args: object, **kwargs: object) -> object:
        begin = time.process_time()
        try:
            return find(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            inside[0] += time.process_time() - begin

    EmbeddedRecognizer.find_entities = timed  # type: ignore[method-assign,assignment]
    try:
        passes = asyncio.run(_api_passes(texts, inside))
    finally:
        EmbeddedRecognizer.find_entities = find  # type: ignore[method-assign]
    total = min(whole for whole, _ in passes)
    detector = min(inside for _, inside in passes)
    rest = min(whole - inside for whole, inside in passes)
    return (
        f"/redact in process (CPU ms per pass, each the best of {REPEATS}): {total * 1000:.1f}; "
        f"inside find_entities {detector * 1000:.1f}; the rest {rest * 1000:.1f}"
    )


async def _api_passes(texts: Sequence[str], inside: list[float]) -> list[tuple[float, float]]:
    from redaction import runtime
    from redaction.http import api
    from redaction.settings import Settings

    runtime.configure(Settings(pii_detector="local", pii_cache_enabled=False))
    bodies = [
        json.dumps(
            {"body": {"messages": [{"role": "user", "content": t} for t in texts[i : i + 20]]}}
        ).encode()
        for i in range(0, len(texts), REDACT_MESSAGES)
    ]
    headers = {"Content-Type": "application/json"}
    passes = []
    for _ in range(REPEATS + 1):  # the first pass warms up
        inside[0] = 0.0
        begin = time.process_time()
        for body in bodies:
            assert (await api.redact(body, headers)).status == 200
        passes.append((time.process_time() - begin, inside[0]))
    await runtime.shutdown()
    return passes[1:]


def measure_presidio(texts: Sequence[str]) -> dict[str, object] | None:
    from redaction.entities import Entity

    if not VENV_PYTHON.exists():
        return None
    request = json.dumps(
        {"texts": list(texts), "repeats": REPEATS, "cpu": CLOCK is time.process_time}
    )
    colds, result = [], {}
    for _ in range(COLD_RUNS if COLD_RUNS < 3 else 3):
        out = subprocess.run(
            [str(VENV_PYTHON), str(Path(__file__).resolve()), "--presidio-worker"],
            input=request,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout)
        colds.append(result["cold_start"])
    result["cold_start"] = statistics.median(colds)
    result["findings"] = [
        [Entity(o, n, PRESIDIO_TO_AZURE.get(t, f"presidio:{t}"), s) for o, n, t, s in found]
        for found in result["findings"]
    ]
    site = next((VENV / "lib").glob("python*/site-packages"))
    result["install_bytes"] = directory_size(site)
    return result


def speed(chars: int, seconds: Sequence[float]) -> tuple[float, float]:
    best = min(seconds)
    return chars / best, best * 1000 / (chars / 1000)


def redact_lines(
    chars: int, ours: dict[str, object], theirs: dict[str, object] | None
) -> list[str]:
    """The /redact rows (served: server CPU and wall; in process: the older figure) and each
    one's ratio to Presidio's passes, timed with the clock the run chose for Presidio."""
    rows: list[tuple[str, Sequence[float], str]] = []
    served = ours.get("served")
    if isinstance(served, dict):
        rows.append(("served CPU", served["cpu"], "server process CPU, own process, real HTTP"))
        rows.append(("served wall", served["wall"], "wall time at the client, same passes"))
    in_process = ours.get("redact_seconds")
    if isinstance(in_process, list):
        clock = "CPU" if CLOCK is time.process_time else "wall"
        note = f"client and server in one process, {clock}: the client is billed too"
        rows.append(("in process", in_process, note))
    lines = [
        "",
        f"/redact (embedded, cache off, {REDACT_MESSAGES} messages a request; "
        "the served CPU figure is the one issue 14's floor is about):",
    ]
    presidio = speed(chars, theirs["seconds"])[0] if theirs else None  # type: ignore[arg-type]
    for name, seconds, note in rows:
        per_second, per_k = speed(chars, seconds)
        ratio = f"{per_second / presidio:>5.1f}x Presidio" if presidio else ""
        lines.append(
            f"  {name:<12} {per_second:>10,.0f} chars/s {per_k:>7.3f} ms/1k {ratio}  ({note})"
        )
    return lines


def report(texts: Sequence[str], ours: dict[str, object], theirs: dict[str, object] | None) -> str:
    from redaction.embedded.evaluation import Tally, read_labeled

    chars = sum(len(text) for text in texts)
    labeled = read_labeled(CORPUS)
    clock = "CPU" if CLOCK is time.process_time else "wall"
    lines = [
        f"corpus: {len(texts)} documents, {chars} characters, best of {REPEATS} passes "
        f"({clock} time)",
        "",
    ]
    rows = [("embedded", ours)] + ([("presidio", theirs)] if theirs else [])
    lines.append(f"{'detector':<10} {'chars/s':>10} {'ms/1k':>7} {'cold s':>7} {'install MB':>10}")
    for name, result in rows:
        per_second, per_k = speed(chars, result["seconds"])  # type: ignore[arg-type]
        lines.append(
            f"{name:<10} {per_second:>10,.0f} {per_k:>7.3f} {result['cold_start']:>7.3f} "
            f"{result['install_bytes'] / 1e6:>10.1f}"  # type: ignore[operator]
        )
    if theirs:
        ratio = speed(chars, ours["seconds"])[0] / speed(chars, theirs["seconds"])[0]  # type: ignore[arg-type]
        lines.append(f"throughput ratio embedded/presidio: {ratio:.1f}x in process (detector only)")
    lines += redact_lines(chars, ours, theirs)
    lines.append(f"embedded detector dependencies: {ours['install_detail']}")
    tallies = []
    for _, result in rows:
        tally = Tally()
        for document, found in zip(labeled, result["findings"], strict=True):  # type: ignore[call-overload]
            tally.add(document, found)
        tallies.append({s.category: s for s in tally.scores()})
    gold = sorted(c for c, s in tallies[0].items() if s.expected)
    lines += [
        "",
        f"{'category':<38} {'n':>4} {'rec ours':>8} {'prec ours':>9}"
        + (f" {'rec pres':>8} {'prec pres':>9}" if theirs else ""),
    ]
    for category in gold:
        cells = [f"{category:<38} {tallies[0][category].expected:>4}"]
        for tally in tallies:
            score = tally.get(category)
            cells.append(
                f" {score.recall:>8.3f} {score.precision:>9.3f}"
                if score
                else f" {0.0:>8.3f} {'-':>9}"
            )
        lines.append("".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--setup", action="store_true", help="create bench/.presidio-venv")
    parser.add_argument("--presidio-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", action="store_true", help="time passes in process CPU time")
    parser.add_argument(
        "--breakdown", action="store_true", help="only /redact in process: detector vs the rest"
    )
    parser.add_argument(
        "--served", action="store_true", help="only /redact served: server CPU and wall time"
    )
    args = parser.parse_args()
    global CLOCK  # noqa: PLW0603 - one clock for the whole run
    if args.cpu:
        CLOCK = time.process_time
    if args.presidio_worker:
        presidio_worker()
        return
    if args.setup:
        setup()
        return
    sys.path.insert(0, str(ROOT))
    from redaction.embedded.evaluation import read_labeled

    texts = [document.text for document in read_labeled(CORPUS)]
    if args.breakdown:
        print(measure_breakdown(texts))
        return
    if args.served:
        chars = sum(len(text) for text in texts)
        print("\n".join(redact_lines(chars, {"served": measure_redact_served(texts)}, None)))
        return
    ours = measure_embedded(texts)
    ours["served"] = measure_redact_served(texts)
    ours["redact_seconds"] = measure_redact(texts)
    theirs = measure_presidio(texts)
    if theirs is None:
        print(f"Presidio venv missing ({VENV}); run: python bench/detector.py --setup\n")
    print(report(texts, ours, theirs))


if __name__ == "__main__":
    main()
