"""The floor plan (docs/development.md, "Layout"): one folder per feature, shared leaves at the top,
no upward imports, and the Language emulator beside the package, never shipped."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_infra import ignore_patterns, is_ignored, repository_files

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "redaction"

# The parts of `redaction`: each feature folder is one part; each top-level module is a leaf, part
# of the composition or the entry point. A new module must be placed here (and in the table).
LEAVES = frozenset(
    {"__init__", "errors", "reasons", "entities", "categories", "deadline", "models"}
    | {"telemetry", "workers", "strict_json", "headers"}
)
FEATURES = frozenset(
    {"planning", "policy", "cache", "embedded", "detectors", "placeholders", "audit"}
)
COMPOSITION = frozenset({"scanning", "service", "settings", "runtime"})
EDGE = "http"  # the HTTP edge: calls the runtime's service, so it sits above the composition
ENTRY = "__main__"

# What each part may import from `redaction`, besides itself and the leaves (every part may import
# a leaf; a leaf imports only leaves). Anything else is an upward or sideways import.
ALLOWED: dict[str, frozenset[str]] = {
    "leaf": frozenset(),
    "planning": frozenset(),
    "policy": frozenset(),
    "cache": frozenset(),
    "embedded": frozenset(),
    "detectors": frozenset({"embedded"}),
    "placeholders": frozenset({"planning"}),
    "audit": frozenset(),
    "scanning": frozenset({"planning", "cache", "detectors"}),
    "service": frozenset({"planning", "policy", "placeholders", "scanning"}),
    "settings": frozenset({"policy", "placeholders"}),
    "runtime": FEATURES | {"scanning", "service", "settings"},
    EDGE: FEATURES | COMPOSITION,
    ENTRY: FEATURES | COMPOSITION | {EDGE},
}
# Beside the package, never shipped; it may use the leaves and the embedded recognizer.
EMULATOR_ALLOWED = frozenset({"embedded"})


def part_of(module: str) -> str:
    """The part a `redaction...` module belongs to (``leaf`` for every leaf)."""
    head = module.split(".")[1] if module.count(".") else "__init__"
    if head in LEAVES:
        return "leaf"
    if head in FEATURES | COMPOSITION or head in (EDGE, ENTRY):
        return head
    raise AssertionError(
        f"{module}: not placed in the floor plan: add it to a group and a row of ALLOWED here "
        "and to docs/development.md's Layout table"
    )


def module_name(path: Path, root: Path = ROOT) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, int, bool]]:
    """Every module `path` imports (at any depth: lazy imports count), with the line and whether
    the import is at module level."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from redaction import runtime` imports a module; `from x import name`, x itself
            names = [
                f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}", root) else base
                for alias in node.names
            ]
        else:
            continue
        found += [(name, node.lineno, id(node) in top_level) for name in names]
    return found


def _is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_is_placed_and_folders_do_not_shadow_modules() -> None:
    for path in python_files(PACKAGE):
        part_of(module_name(path))
    for folder in (p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        assert not (PACKAGE / f"{folder.name}.py").exists(), f"{folder.name}.py shadows a folder"


def layout_problems(root: Path) -> list[str]:
    """Every import in `root`/redaction that the table does not allow."""
    wrong = []
    for path in python_files(root / "redaction"):
        source = module_name(path, root)
        part = part_of(source)
        for target, line, _ in imports(path, root):
            where = f"{path.relative_to(root)}:{line} imports {target}"
            if target.split(".")[0] in ("emulator", "tests"):
                if not (source == "redaction.__main__" and target == "emulator"):
                    wrong.append(f"{where}: the package never imports a test double")
                continue
            if target.split(".")[0] != "redaction":
                continue
            to = part_of(target)
            if to not in (part, "leaf") and to not in ALLOWED[part]:
                kind = "upward" if to in COMPOSITION | {EDGE, ENTRY} else "sideways"
                wrong.append(f"{where}: {kind} import ({part} -> {to})")
    return wrong


def test_the_readme_map_shows_each_feature_folder_and_the_emulator() -> None:
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("## Where things are") :].split("```")[1]
    for folder in sorted(FEATURES | {EDGE}):
        assert f"\n  {folder}/ " in tree, folder
    assert "\nemulator/ " in tree


def test_no_upward_or_sideways_imports() -> None:
    """A feature folder imports the leaves and only the features its row names; nothing below the
    composition imports `scanning`, `service`, `settings` or `runtime`; nothing imports the edge
    but the entry point; nothing in the package imports the emulator or the tests."""
    wrong = layout_problems(ROOT)
    assert not wrong, "\n".join(wrong)


def test_the_emulator_is_beside_the_package_and_imported_lazily() -> None:
    assert not (PACKAGE / "emulator").exists()
    assert (ROOT / "emulator" / "__init__.py").is_file()
    lazy = [(t, line, top) for t, line, top in imports(PACKAGE / "__main__.py") if t == "emulator"]
    assert lazy, "python -m redaction emulator imports the emulator"
    assert not any(top for _, _, top in lazy), "imported at module level: would break a deployment"
    wrong = []
    for path in python_files(ROOT / "emulator"):
        for target, line, _ in imports(path):
            if target.startswith("redaction"):
                to = part_of(target)
                if to != "leaf" and to not in EMULATOR_ALLOWED:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} ({to})")
    assert not wrong, "\n".join(wrong)


def test_funcignore_keeps_the_emulator_and_the_tests_out() -> None:
    patterns = ignore_patterns()
    files = repository_files()
    for root in ("emulator/", "tests/"):
        inside = [path for path in files if path.startswith(root)]
        assert inside, root
        shipped = [path for path in inside if not is_ignored(path, patterns)]
        assert not shipped, f"would be published: {shipped}"
    shipped_package = [p for p in files if p.startswith("redaction/") and p.endswith(".py")]
    assert all(not is_ignored(path, patterns) for path in shipped_package)


def test_the_layout_test_catches_an_upward_import(tmp_path: Path) -> None:
    """The check above is not vacuous: a feature importing the runtime is reported."""
    copy = tmp_path / "redaction"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert layout_problems(tmp_path) == []
    probe = "from redaction import runtime\nfrom redaction.policy import tenant\n"
    (copy / "planning" / "probe.py").write_text(probe)
    message = "\n".join(layout_problems(tmp_path))
    assert "upward import (planning -> runtime)" in message
    assert "sideways import (planning -> policy)" in message


@pytest.mark.server
def test_emulator_command_without_the_emulator_says_so_in_one_line(tmp_path: Path) -> None:
    """As in a deployed package: `redaction/` alone, no `emulator/` beside it."""
    shutil.copytree(PACKAGE, tmp_path / "redaction", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "redaction", "emulator", "--port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("pii-redaction: the Language emulator is not here")
