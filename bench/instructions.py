"""Instructions per pass of the bench corpus, counted by cachegrind: a speed figure that does not
depend on the machine's load (wall and CPU time on a shared two-core machine swing by 10-30%).

    .venv/bin/python bench/instructions.py handler [--tree DIR]
    .venv/bin/python bench/instructions.py detector [--tree DIR]
    .venv/bin/python bench/instructions.py served [--tree DIR]

``handler``: ``/redact``'s own work in process (``api.redact`` and the answer's encoding) over the
bench requests of ``bench/detector.py`` (tests/eval, 20 messages a request, detection cache off),
with ``find_entities`` memoized, so what is counted is everything but the detector.
``detector``: ``EmbeddedRecognizer.find_entities`` over the documents one such pass sends it.
``served``: the process of ``python -m redaction serve`` (as ``bench/detector.py --served`` runs
it: function key, detector memoized as in ``handler``) while a client outside valgrind sends it
the passes over real HTTP: everything the served process does but the detector (aiohttp's
server, the function adapter, the request span, ``/redact``, its log line); minus ``handler``,
what serving adds. Each is run under ``valgrind --tool=cachegrind --cache-sim=no`` twice, after
one warm-up pass, with ``PASSES_FEW`` and ``PASSES_MANY`` passes; the difference divided by the
passes between them is one pass (start-up and imports cancel out). ``PYTHONHASHSEED=0``; repeat
runs agree to the million. ``--tree`` counts another checkout's code (``git worktree add /tmp/wt
<commit>``) with this script and corpus. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSES_FEW, PASSES_MANY = 1, 3
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _bodies() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    import detector as bench_detector

    from redaction.embedded.evaluation import read_labeled

    texts = [d.text for d in read_labeled(bench_detector.CORPUS)]
    return [json.dumps(body).encode() for body in bench_detector._redact_bodies(texts)]


def _record_detector_calls(calls: list[tuple[Any, ...]] | None) -> dict[Any, Any]:
    """Wrap ``find_entities``: remember each call's arguments (``calls``) or answer from a memo."""
    from redaction.embedded import EmbeddedRecognizer

    find = EmbeddedRecognizer.find_entities
    memo: dict[Any, Any] = {}

    def wrapped(self: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        key = (text, args, tuple(sorted(kwargs.items())))
        if calls is not None:
            calls.append(key)
            return find(self, text, *args, **kwargs)
        if key not in memo:
            memo[key] = find(self, text, *args, **kwargs)
        return list(memo[key])

    EmbeddedRecognizer.find_entities = wrapped  # type: ignore[method-assign]
    return memo


async def _redact_passes(bodies: list[bytes], passes: int) -> None:
    from redaction import runtime
    from redaction.http import api
    from redaction.settings import Settings

    runtime.configure(Settings(pii_detector="local", pii_cache_enabled=False))
    headers = {"Content-Type": "application/json"}
    try:
        for _ in range(passes):
            for body in bodies:
                (await api.redact(body, headers)).body()
    finally:
        await runtime.shutdown()


def run_passes(mode: str, passes: int) -> None:
    """The measured program: one warm-up pass, then ``passes`` passes."""
    bodies = _bodies()
    if mode == "handler":
        _record_detector_calls(None)
        asyncio.run(_redact_passes(bodies, 1 + passes))
        return
    from redaction.embedded import EmbeddedRecognizer

    find = EmbeddedRecognizer.find_entities
    calls: list[tuple[Any, ...]] = []
    _record_detector_calls(calls)
    asyncio.run(_redact_passes(bodies, 1))
    EmbeddedRecognizer.find_entities = find  # type: ignore[method-assign]
    recognizer = EmbeddedRecognizer()
    for _ in range(1 + passes):
        for text, args, kwargs in calls:
            recognizer.find_entities(text, *args, **dict(kwargs))


def serve_memoized(port: int) -> None:
    """The measured program of ``served``: the app served with ``find_entities`` memoized."""
    from redaction.__main__ import main as redaction_main

    _record_detector_calls(None)
    raise SystemExit(redaction_main(["serve", "--port", str(port)]))


SERVED_KEY = "bench-instructions-function-key"


def count_served(tree: Path, passes: int) -> int:
    """Instructions of the served process over start-up, a warm-up pass and ``passes`` passes
    (the client runs here, outside valgrind; the server stops on SIGINT, as on Ctrl-C)."""
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]  # the client: this checkout's corpus
    import detector as bench_detector

    port = bench_detector._free_port()
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": str(tree),
        "PII_DETECTOR": "local",
        "PII_CACHE_ENABLED": "false",
        "REDACTION_API_KEY": SERVED_KEY,
    }
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        command = [*_valgrind(log.name), str(Path(__file__).resolve()), "served"]
        command += ["--serve", str(port)]
        server = subprocess.Popen(command, env=env, cwd=tree, stderr=subprocess.DEVNULL)
        try:
            asyncio.run(_served_passes(f"http://127.0.0.1:{port}", server, 1 + passes))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=600)
        return _refs(log.read())


async def _served_passes(url: str, server: subprocess.Popen[bytes], passes: int) -> None:
    import aiohttp

    bodies = _bodies()
    headers = {"Content-Type": "application/json", "x-functions-key": SERVED_KEY}
    async with aiohttp.ClientSession() as session:
        while True:  # no request reaches the server before it listens: polls cost it nothing
            if server.poll() is not None:
                raise RuntimeError("the served app exited during start-up")
            try:
                async with session.get(f"{url}/health") as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            await asyncio.sleep(1)
        for _ in range(passes):
            for body in bodies:
                async with session.post(f"{url}/redact", data=body, headers=headers) as answer:
                    assert answer.status == 200, answer.status
                    await answer.read()


def _valgrind(log_file: str) -> list[str]:
    return [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        f"--log-file={log_file}",
        sys.executable,
    ]


def _refs(output: str) -> int:
    refs = _REFS.search(output)
    if refs is None:
        raise RuntimeError("cachegrind printed no instruction count")
    return int(refs.group(1).replace(",", ""))


def count(mode: str, tree: Path, passes: int) -> int:
    if mode == "served":
        return count_served(tree, passes)
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(tree)}
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        command = [*_valgrind(log.name), str(Path(__file__).resolve()), mode]
        command += ["--passes", str(passes)]
        subprocess.run(command, env=env, cwd=tree, capture_output=True, check=True)
        return _refs(log.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("handler", "detector", "served"))
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code counts")
    parser.add_argument("--passes", type=int, help=argparse.SUPPRESS)  # inside valgrind
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # served, inside valgrind
    options = parser.parse_args()
    if options.serve is not None:
        serve_memoized(options.serve)
        return
    if options.passes is not None:  # the measured program (PYTHONPATH is the tree)
        run_passes(options.mode, options.passes)
        return
    tree = options.tree.resolve()
    few, many = count(options.mode, tree, PASSES_FEW), count(options.mode, tree, PASSES_MANY)
    per_pass = (many - few) / (PASSES_MANY - PASSES_FEW)
    print(f"{options.mode} ({tree}): {per_pass / 1e6:.1f} M instructions per pass")


if __name__ == "__main__":
    main()
