"""Tags on every MLflow run this product creates: its version and, where it runs from a git checkout, the commit
(`-dirty` with uncommitted changes), so that a result can be traced to its code. MLflow's own run-context plugin
(`mlflow.run_context_provider`, registered in setup.cfg) sets them at run creation; its git tags describe the
script that started the run, which for a console script is not a checkout."""
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mlflow.tracking.context.abstract_context import RunContextProvider

SOURCE = Path(__file__).resolve().parents[1]   # where the package runs from: a checkout for an editable install


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(SOURCE), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@lru_cache(maxsize=1)
def product_tags() -> dict[str, str]:
    try:
        tags = {"forecast.version": metadata.version("forecast")}
    except metadata.PackageNotFoundError:
        tags = {"forecast.version": "unknown"}
    commit = _git("rev-parse", "HEAD") if (SOURCE / ".git").exists() else None
    if commit:
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        tags["forecast.git_commit"] = commit + ("-dirty" if dirty else "")
    return tags


class ProductContext(RunContextProvider):
    def in_context(self) -> bool:
        return True

    def tags(self) -> dict[str, str]:
        return product_tags()
