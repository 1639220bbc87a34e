"""Answer check: ``POST /redact`` of two trees, same requests, every JSON answer compared.

    python bench/redact_answers.py TREE_A TREE_B

Each tree is a directory holding ``redaction/`` and ``function_app.py`` (a git worktree, or a
copy of one with some changes taken out). Each is served in turn by ``python -m redaction serve``
(this venv, the tree as working directory; embedded detector, cache off, a function key, restore
and pseudonym keys so that placeholders answer) and gets the same requests over real HTTP: the
bench corpus (tests/eval, 20 messages a request, as bench/detector.py sends it), the third-party
dev half (tests/eval_thirdparty/dev.jsonl, data only: a difference there is counted, its text is
never printed), the examples/, and built bodies (tool calls, content parts, an image URL, a
Responses input, token ids, escapes and invisible characters, a long text, config variants,
refusals). Answers must be identical but for ``duration_ms`` and ``restore_token`` (random);
the exit status is 1 otherwise.

Made for speed work outside the detector that must not change an answer (bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.detector import wait_served  # noqa: E402  (after the path: run as a script)

KEY = "bench-answers-function-key"
SHOWN = 3  # differing answers shown per set (never for the third-party half)
Request = bytes


def request_sets() -> dict[str, list[Request]]:
    sys.path.insert(0, str(ROOT))
    from redaction.embedded.evaluation import read_labeled

    corpus = [d.text for d in read_labeled(sorted((ROOT / "tests" / "eval").glob("*.txt")))]
    dev_path = ROOT / "tests" / "eval_thirdparty" / "dev.jsonl"
    dev = [json.loads(line)["text"] for line in dev_path.read_text().splitlines() if line]
    examples = [path.read_bytes() for path in sorted((ROOT / "examples").glob("*.json"))]
    return {
        "bench corpus": conversations(corpus),
        "third-party dev": conversations(dev) + [single(text) for text in dev[::7]],
        "examples": examples,
        "built": built(corpus[:60]),
    }


def conversations(texts: list[str], size: int = 20) -> list[Request]:
    return [
        encode({"body": {"messages": [user(t) for t in texts[i : i + size]]}})
        for i in range(0, len(texts), size)
    ]


def single(text: str) -> Request:
    return encode({"body": {"messages": [user(text)]}})


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def encode(value: Any) -> Request:
    return json.dumps(value).encode()


def built(sample: list[str]) -> list[Request]:
    call = {"email": "bob@contoso.com", "nested": {"phone": "+1 425 555 0100"}}
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Contact admin@corp.example for access."},
            {
                "role": "user",
                "content": [{"type": "text", "text": t} for t in sample[:10]]
                + [{"type": "image_url", "image_url": {"url": "https://example.com/a.png?x=1"}}],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"c{i}",
                        "type": "function",
                        "function": {"name": "f", "arguments": json.dumps({"note": t, **call})},
                    }
                    for i, t in enumerate(sample[10:20])
                ],
            },
            {"role": "tool", "tool_call_id": "c0", "content": json.dumps(sample[20:25])},
            user(
                user(
                    "My card: 4111\u00a01111\u20091111 1111, SSN \uff15\uff13\uff16-\uff12\uff12-"
                    "\uff18\uff19\uff11\uff15, ali\u00adce@example.com"
                ),
            ),
            user("x" * 6000 + " alice@example.com " + "y " * 3000 + ". ".join(sample[25:60])),
        ],
    }
    requests = [encode(body)]
    responses = {"input": [{"role": "user", "content": [{"type": "input_text", "text": "t"}]}]}
    requests += [
        encode({"body": {"model": "m", "instructions": "Reply to carol@example.org", **responses}}),
        encode({"body": {"model": "m", "prompt": ["SSN 123-45-6789", "ok"]}}),
        encode({"body": {"model": "m", "prompt": [1, 2, 3]}}),
        encode({"body": {"model": "m", "input": "e-mail: dave@example.com"}}),
    ]
    configs: list[dict[str, Any]] = [
        {"fail_closed": True, "excluded_categories": ["Date"], "redaction_character": "*"},
        {"mask_style": "placeholder", "correlation_id": "c2", "conversation_id": "conv"},
        {"categories": ["Email", "CreditCardNumber"], "min_confidence": 0.5},
        {
            "allow_list": ["alice@example.com"],
            "allow_list_case_sensitive": False,
            "allow_patterns": ["\\d{3}-\\d{2}-\\d{4}"],
            "custom_patterns": [{"name": "emp", "pattern": "\\bEMP-?\\d{6}\\b", "category": "E"}],
            "category_thresholds": {"PhoneNumber": 0.9},
        },
        {"scan_roles": ["user"], "detection_language": "de"},
    ]
    for config in configs:
        requests.append(encode({**copy.deepcopy({"body": body}), "config": config}))
        texts = [user(f"EMP-204511 alice@example.com 123-45-6789 {t}") for t in sample[:20]]
        requests.append(encode({"body": {"messages": texts}, "config": config}))
    return requests + refusals()


def refusals() -> list[Request]:
    message = b'{"role": "user", "content": "a"}'
    return [
        b"{",
        b'{"body": []}',
        b'{"body": {"messages": []}, "config": {"bogus": 1}}',
        b'{"body": {"messages": [' + message + b']}, "config": {"redaction_character": "ab"}}',
        b'{"body": {"x": ' + b"[" * 200 + b"1" + b"]" * 200 + b"}}",
        b'{"body": {"n": NaN}}',
        b'{"body": {"messages": [{"role": "user", "content": "\\ud800 lone"}]}}',
        b'{"body": {"messages": [{"role": "user", "content": "\xff bad"}]}}',
    ]


def clean(answer: Any) -> Any:
    """The answer without what differs between runs by design."""
    if isinstance(answer, dict):
        return {k: clean(v) for k, v in answer.items() if k not in ("duration_ms", "restore_token")}
    if isinstance(answer, list):
        return [clean(v) for v in answer]
    return answer


def answers(tree: Path, sets: dict[str, list[Request]]) -> dict[str, list[Any]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = base64.b64encode(b"k" * 32).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    env.update(
        PII_DETECTOR="local",
        PII_CACHE_ENABLED="false",
        REDACTION_API_KEY=KEY,
        PII_RESTORE_KEY=secret,
        PII_PSEUDONYM_KEY=base64.b64encode(b"p" * 32).decode(),
        APPLICATIONINSIGHTS_CONNECTION_STRING="",
    )
    command = [sys.executable, "-m", "redaction", "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=tree, env=env, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(_post(f"http://127.0.0.1:{port}", sets, server))
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _post(
    url: str, sets: dict[str, list[Request]], server: subprocess.Popen[bytes]
) -> dict[str, list[Any]]:
    headers = {"Content-Type": "application/json", "x-functions-key": KEY}
    found: dict[str, list[Any]] = {}
    async with aiohttp.ClientSession() as session:
        await wait_served(session, url, server)
        for name, requests in sets.items():
            found[name] = []
            for body in requests:
                async with session.post(f"{url}/redact", data=body, headers=headers) as answer:
                    payload = json.loads(await answer.read())
                    found[name].append([answer.status, clean(payload)])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("tree_a", type=Path)
    parser.add_argument("tree_b", type=Path)
    args = parser.parse_args()
    sets = request_sets()
    first, second = answers(args.tree_a, sets), answers(args.tree_b, sets)
    differing = 0
    for name, requests in sets.items():
        pairs = list(zip(first[name], second[name], strict=True))
        diff = [i for i, (a, b) in enumerate(pairs) if a != b]
        differing += len(diff)
        statuses = sorted({a[0] for a, _ in pairs})
        print(f"{name}: {len(requests)} requests (status {statuses}), {len(diff)} answers differ")
        if name != "third-party dev":
            for index in diff[:SHOWN]:
                print(f"  request {index}:\n    {json.dumps(pairs[index][0])[:2000]}")
                print(f"    {json.dumps(pairs[index][1])[:2000]}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
