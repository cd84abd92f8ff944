"""The house rules a reader relies on, checked on the source: imports flow app -> pipelines -> {models, data}
(models and data never import each other), no function is over 50 lines, and the model's shipped code holds
everything the served model imports."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "pipelines", "models", "data")
ALLOWED = {"app": {"app", "pipelines", "models", "data"}, "pipelines": {"pipelines", "models", "data"},
           "models": {"models"}, "data": {"data"}}
MAX_LINES = 50


def _sources():
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module of ours that `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.split(".")[0] in PACKAGES}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path):
    package = path.relative_to(ROOT).parts[0]
    wrong = sorted(n for n in _imports(path) if n.split(".")[0] not in ALLOWED[package])
    assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"


def test_no_function_is_over_fifty_lines():
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in _sources() for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, long


def test_the_logged_model_ships_every_pipelines_module_it_imports():
    """The pyfunc imports pipelines/serving/inference.py from the model's own copy of the code, which holds
    `data`, `models` and only SERVING_MODULES of `pipelines` (pipelines/serving/logged_model.py)."""
    from pipelines.serving.logged_model import SERVING_MODULES

    shipped = {str(Path(m).with_suffix("")).replace("/", ".").removesuffix(".__init__") for m in SERVING_MODULES}
    for module in SERVING_MODULES:
        needed = {n for n in _imports(ROOT / module) if n.startswith("pipelines")}
        missing = {n for n in needed if n not in shipped and n.rsplit(".", 1)[0] not in shipped}
        assert not missing, f"{module} imports {missing}, which the logged model does not ship"
