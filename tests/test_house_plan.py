"""The house plan is a test, not a paragraph: imports flow one way between the apps with no
cycle inside one, the apps are installed once in that order, and no dead code stays."""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(sys.executable).parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _layers_lowest_first() -> list[str]:
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    layers = next(contract["layers"] for contract in contracts if contract["type"] == "layers")
    return [app.strip() for layer in reversed(layers) for app in layer.split("|")]


def test_imports_keep_the_layers_and_no_app_imports_itself_in_a_circle() -> None:
    result = _run("lint-imports", "--no-cache", "--no-logo")
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_apps_list_the_panel_apps_once_in_layer_order() -> None:
    layers = _layers_lowest_first()
    # By module name: "panel.admin_apps.PanelAdminConfig" is Django's admin, not the panel app.
    ours = [app for app in settings.INSTALLED_APPS if app in layers]
    assert ours == [app for app in layers if app != "core"]  # core holds no models: no app


def test_the_simulator_stays_an_app_of_the_checkout_not_of_the_product() -> None:
    # The product's package list leaves sandbox and bench out, and no product module imports
    # them (the "outside-the-product" contract run above).
    included = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(name.startswith(("sandbox", "bench")) for name in included)


def test_no_dead_code_in_the_product() -> None:
    result = _run("vulture")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_beat_schedule_is_built_in_one_place_and_names_real_tasks() -> None:
    import ast

    from panel.celery import app

    trees = [ast.parse(path.read_text()) for path in (ROOT / "panel" / "settings").glob("*.py")]
    writes = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        and any(
            "CELERY_BEAT_SCHEDULE" in ast.unparse(target)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    updates = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "CELERY_BEAT_SCHEDULE"
    ]
    assert len(writes) == 1 and not updates

    app.loader.import_default_modules()
    registered = set(app.tasks)
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered
