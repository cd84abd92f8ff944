"""The house rules a reader relies on, checked on the source: imports flow {app, api} -> pipelines -> {models, data}
(models and data never import each other), also where a module is named in a string (a server's app, a
pyfunc's module); every module is imported as `forecast.<folder>...`; no function is over 50 lines; and the
distribution installs exactly the folders, under the one package name `forecast`."""
import ast
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "pipelines", "models", "data")
ROOT_PACKAGE = "api"   # the package `forecast` itself: its __init__ and the Python API (forecast.forecaster)
ALLOWED = {"api": {"api", "pipelines", "models", "data"}, "app": {"app", "pipelines", "models", "data"},
           "pipelines": {"pipelines", "models", "data"}, "models": {"models"}, "data": {"data"}}
MAX_LINES = 50


def _sources():
    return sorted(p for package in (*PACKAGES, ROOT_PACKAGE) for p in (ROOT / package).rglob("*.py"))


NAMED = re.compile(r"forecast\.(?:%s)(?:\.\w+)*" % "|".join(PACKAGES))   # `forecast.app.x`, also inside "mod:attr"


def _imports(path: Path) -> set[str]:
    """Every module of ours that `path` imports (at the top or inside a function) or names in a string, as
    `folder.module...` (without the `forecast.` prefix)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names |= set(NAMED.findall(node.value))
    ours = {n.removeprefix("forecast.") for n in names if n.startswith("forecast.")}
    return {n if n.split(".")[0] in PACKAGES else f"{ROOT_PACKAGE}.{n}" for n in ours}   # forecast.forecaster: api/


def _bare_imports(path: Path) -> set[str]:
    """Imports of a folder by its bare name (`from data.io import ...`): they would find a user's own `data`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        module = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        found |= {m for m in module if m.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path):
    package = path.relative_to(ROOT).parts[0]
    wrong = sorted(n for n in _imports(path) if n.split(".")[0] not in ALLOWED[package])
    assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"
    assert not _bare_imports(path), f"{path.relative_to(ROOT)} imports {_bare_imports(path)} without `forecast.`"


def _function_level_imports(path: Path) -> list[str]:
    """`import forecast...` inside a function, as `line: module`."""
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                found += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] == "forecast"]
    return found


@pytest.mark.parametrize("path", [p for p in _sources() if p.relative_to(ROOT).parts[0] not in ("app", ROOT_PACKAGE)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_imports_the_project(path):
    """A logged model imports its own copy of data/, models/ and pipelines/ in isolation and then takes it out of
    sys.modules (pipelines/serving/pyfunc_model.py): an import run later, inside a function, finds the serving
    machine's `forecast` or none (tests/pipelines/serving/test_isolation.py). app/ and api/ are not in a logged
    model (its code has a `forecast/__init__.py` of its own)."""
    assert not _function_level_imports(path), f"{path.relative_to(ROOT)}: {_function_level_imports(path)}"


def test_a_function_level_import_is_found(tmp_path):
    source = tmp_path / "member.py"
    source.write_text("import forecast.models.theta\n\ndef f():\n    from forecast.models.theta import theta\n")
    assert _function_level_imports(source) == ["4: forecast.models.theta"]


def test_a_module_named_in_a_string_is_a_dependency(tmp_path):
    """The check above sees dependencies by string: a server started as "forecast.app.x:app" from pipelines/."""
    source = tmp_path / "serve.py"
    source.write_text('command = ["uvicorn", "forecast.app.serving:app"]\nparam = "data.horizon"\n')
    assert _imports(source) == {"app.serving"}


def test_no_function_is_over_fifty_lines():
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in _sources() for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, long


def test_the_distribution_installs_every_folder_under_forecast():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    folders = {"forecast." + str(p.parent.relative_to(ROOT)).replace("/", ".") for package in PACKAGES
               for p in (ROOT / package).rglob("__init__.py")}
    assert listed == folders | {"forecast"}
    assert not [p for p in (ROOT / ROOT_PACKAGE).iterdir() if p.is_dir() and p.name != "__pycache__"]
    mapping = dict(line.split(" = ") for line in config["options"]["package_dir"].strip().splitlines())
    assert mapping == {"forecast": ROOT_PACKAGE, **{f"forecast.{p}": p for p in PACKAGES}}
