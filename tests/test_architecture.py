"""The layout holds: the served wing stands alone, only it travels with a model, nobody reads its privates.

These read the source (imports and attribute names) rather than run it, so they fail the moment
a module reaches across a boundary, whatever the tests of behaviour happen to exercise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import toxicity_pyfunc
from toxicity_pyfunc.served.model import ToxicityModel

PACKAGE = Path(toxicity_pyfunc.__file__).resolve().parent
ROOT = PACKAGE.parent


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _wing_files(wing: str) -> list[Path]:
    return sorted((PACKAGE / wing).rglob("*.py"))


@pytest.mark.parametrize(
    ("wing", "allowed"),
    [
        ("served", ("toxicity_pyfunc.served",)),
        ("service", ("toxicity_pyfunc.served", "toxicity_pyfunc.service", "toxicity_pyfunc")),
        ("jobs", ("toxicity_pyfunc.served", "toxicity_pyfunc.jobs", "toxicity_pyfunc")),
    ],
)
def test_each_wing_imports_only_what_it_may(wing: str, allowed: tuple[str, ...]) -> None:
    crossing = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _wing_files(wing)
        for name in _imports(path)
        if (name == "toxicity_pyfunc" or name.startswith(("toxicity_pyfunc.", "tools")))
        and not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)
    }
    assert not crossing, sorted(crossing)


def test_the_package_never_imports_the_tools() -> None:
    assert not [
        path
        for path in PACKAGE.rglob("*.py")
        if any(name.split(".")[0] == "tools" for name in _imports(path))
    ]


def test_the_package_root_imports_nothing_so_the_served_copy_stands_alone() -> None:
    assert not {name for name in _imports(PACKAGE / "__init__.py") if name.startswith("toxicity_pyfunc")}


def test_no_module_outside_served_reads_a_private_attribute_of_the_model() -> None:
    private = {name for name in vars(ToxicityModel()) if name.startswith("_")}
    assert private  # the model does keep private state; nobody else may read it
    readers = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "tools").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]:
        if (PACKAGE / "served") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            named = node.attr if isinstance(node, ast.Attribute) else None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = node.value  # getattr(model, "_tokenizer")
            if named in private:
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno} reads {named}")
    assert not readers, readers
