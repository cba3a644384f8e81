"""Structural rules: Qt only in gui/, data/ holds data, bundled files found via importlib.resources."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("layers", "audit", "mapping")


def test_core_packages_import_without_qt():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "import audit.demo, mapping.compose\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'))\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"Qt loaded by core packages: {result.stdout}{result.stderr}"


def test_nothing_imports_pyqt5():
    offenders = [p for p in ROOT.glob("**/*.py") if ".venv" not in p.parts and re.search(r"^\s*(from|import)\s+PyQt5", p.read_text(), re.M)]
    assert offenders == []


def test_data_holds_no_code():
    code = [p for p in (ROOT / "data").rglob("*") if p.suffix in (".py", ".js", ".sh")]
    assert code == []


def test_no_bundled_paths_built_from___file__():
    offenders = []
    for pkg in ("layers", "audit", "mapping", "gui"):
        for p in (ROOT / pkg).rglob("*.py"):
            if "__file__" in p.read_text():
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []


def test_every_module_in_core_has_a_docstring():
    missing = []
    for pkg in CORE + ("gui",):
        for p in (ROOT / pkg).rglob("*.py"):
            text = p.read_text().lstrip()
            if text and not text.startswith(('"""', "'''")):
                missing.append(str(p.relative_to(ROOT)))
    assert missing == []


def test_import_order_is_gui_mapping_audit_layers():
    """import-linter's layers contract (pyproject.toml): a package imports only the packages below it,
    at module level or inside a function, with no exception."""
    config = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'type = "layers"\s*\nlayers = \["gui", "mapping", "audit", "layers"\]', config)
    code = ("import sys\n"
            "from importlinter.cli import lint_imports\n"
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"import contract broken:\n{result.stdout}{result.stderr}"


def private_reads(source: str) -> list[str]:
    """``x._name`` where x is not self/cls: one object reading another's private attribute."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            found.append(f"{ast.unparse(node)} (line {node.lineno})")
    return found


def test_no_gui_class_reads_another_ones_private_attributes():
    assert private_reads("class A:\n    def f(self, w):\n        return w._error, self._ok\n") == ["w._error (line 3)"]
    offenders = {str(p.relative_to(ROOT)): private_reads(p.read_text()) for p in (ROOT / "gui").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def menu_building_calls(source: str) -> list[str]:
    """Calls that add menus to the menu bar or patch a built menu."""
    import ast

    return [f"{ast.unparse(n.func)} (line {n.lineno})" for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("menuBar", "insertMenu", "insertAction", "insertSeparator")]


def test_menus_are_built_only_from_the_actions_table():
    """gui/actions.py builds every menu from its table; the window only hands it the menu bar."""
    assert menu_building_calls("w.menuBar().insertMenu(a, b)\n") == ["w.menuBar().insertMenu (line 1)",
                                                                      "w.menuBar (line 1)"]
    found = {str(p.relative_to(ROOT)): menu_building_calls(p.read_text()) for p in (ROOT / "gui").rglob("*.py")}
    assert {k: v for k, v in found.items() if v} == {"gui/main_window.py": [found["gui/main_window.py"][0]]}
    assert "build_menus(self.menuBar()" in (ROOT / "gui" / "main_window.py").read_text()


def test_the_main_window_is_a_small_view():
    lines = (ROOT / "gui" / "main_window.py").read_text().count("\n")
    assert lines <= 250, f"gui/main_window.py has {lines} lines"
