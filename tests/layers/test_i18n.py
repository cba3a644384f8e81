"""Translations: every Latvian entry belongs to a message the code really uses, and switching works."""
import json
import re
from pathlib import Path

import pytest

from layers import i18n
from layers.catalogue import kind

ROOT = Path(__file__).resolve().parents[2]


def _messages_in_code() -> set[str]:
    """Every literal passed to ``_()`` outside gui/ (the parser joins implicitly concatenated pieces, as Python does)."""
    import ast

    found = set()
    for package in ("layers", "audit", "mapping"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    found.add(node.args[0].value)
    return found


def test_every_latvian_message_is_used_by_the_code():
    lv = json.loads((ROOT / "data" / "translations" / "lv.json").read_text(encoding="utf-8"))
    unused = sorted(set(lv) - _messages_in_code())
    assert unused == []


def test_placeholders_survive_translation():
    lv = json.loads((ROOT / "data" / "translations" / "lv.json").read_text(encoding="utf-8"))
    for en, text in lv.items():
        assert re.findall(r"{[^}]*}", en) == re.findall(r"{[^}]*}", text), en


@pytest.fixture
def latvian():
    i18n.set_language("lv")
    yield
    i18n.set_language("en")


def test_switching_language(latvian):
    assert i18n._("Legend") == "Apzīmējumi"
    assert kind("reported_cases").label == "Ziņotie gadījumi"
    assert i18n._("a message nobody translated") == "a message nobody translated"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        i18n.set_language("xx")
