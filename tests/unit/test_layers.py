"""The layers contract in `make lint` (import-linter, `[tool.importlinter]` in pyproject):
it holds on the tree, and an upward import planted in a copy breaks it."""

import shutil
import subprocess
import sys
from pathlib import Path

from app.core.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers() -> None:
    result = _lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / "app" / "gateway" / "types.py"
    planted.write_text(planted.read_text() + "\nfrom app.services import model_errors  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "app.gateway is not allowed to import app.services" in result.stdout
