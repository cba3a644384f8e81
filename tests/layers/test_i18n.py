"""Translations: one gettext catalogue; every entry is used and keeps its placeholders; Latvian plurals; the language
comes from LANTERN_LANG, else the system locale; a missing or stale .mo is compiled at first use."""
import ast
import os
import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from layers import i18n
from layers.catalogue import kind

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "data" / "locale" / "lv" / "LC_MESSAGES" / "lantern.po"
SOURCES = ("layers", "audit", "mapping", "gui", "main.py")  # what `make messages` extracts from
KEYWORDS = {"_": 1, "N_": 1, "ngettext": 2}  # keyword -> number of message arguments
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


def _files(sources=SOURCES, root=ROOT):
    for source in sources:
        path = root / source
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def messages_in_code(sources=SOURCES, root=ROOT) -> dict[str | tuple[str, str], set[str]]:
    """Every literal message passed to ``_``, ``N_`` or ``ngettext`` (a tuple for plurals) -> the files using it.

    The parser joins implicitly concatenated pieces, as Python does; messages inside f-strings are found too.
    """
    found: dict = {}
    for path in _files(sources, root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS):
                continue
            args = node.args[:KEYWORDS[node.func.id]]
            if len(args) == KEYWORDS[node.func.id] and all(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                key = args[0].value if len(args) == 1 else (args[0].value, args[1].value)
                found.setdefault(key, set()).add(str(path.relative_to(root)))
    return found


def _catalogue(path=PO) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh)


def catalogue_problems(catalog: Catalog, used: dict) -> list[str]:
    """What is wrong with a catalogue: entries no code uses, plural entries used as singular (or the reverse),
    and translations whose placeholders differ from the message's (in any plural form)."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.id not in used:
            problems.append(f"unused: {message.id!r}")
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        want = sorted(PLACEHOLDER.findall(english[-1]))
        if len(english) == 2 and sorted(PLACEHOLDER.findall(english[0])) != want:
            problems.append(f"singular and plural differ in placeholders: {message.id!r}")
        for form in forms:
            if form and sorted(PLACEHOLDER.findall(form)) != want:
                problems.append(f"placeholders differ: {message.id!r} -> {form!r}")
    return problems


# -- the catalogue -------------------------------------------------------------------------------


def test_every_entry_is_used_by_the_code_and_keeps_its_placeholders():
    assert catalogue_problems(_catalogue(), messages_in_code()) == []


def untranslated_messages(catalog: Catalog, used: dict) -> list:
    """Messages of the code with no complete Latvian translation (every plural form), or a fuzzy one."""
    untranslated = []
    for message, files in used.items():
        entry = catalog.get(message)
        forms = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not all(forms) or len(forms) != (3 if isinstance(message, tuple) else 1):
            untranslated.append((message, sorted(files)))
    return untranslated


@pytest.mark.parametrize("sources", [("layers", "audit", "mapping", "main.py"), ("gui",)], ids=["core", "gui"])
def test_every_message_has_a_latvian_translation(sources):
    """Core and window alike: every _(), N_() and ngettext() message has its Latvian (all three plural forms)."""
    untranslated = untranslated_messages(_catalogue(), messages_in_code(sources))
    assert untranslated == [], "run `make messages` and translate these in data/locale/lv/LC_MESSAGES/lantern.po"


def test_the_translation_check_sees_a_missing_plural_form():
    """Positive control: an empty msgstr and a plural entry with one form left empty are both reported."""
    bad = Catalog(locale="lv")
    bad.add("Layers", "Slāņi")
    bad.add("Filters", "")
    bad.add(("{n} risk area", "{n} risk areas"), ("{n} riska teritorija", "{n} riska teritorijas", ""))
    used = {"Layers": {"gui/x.py"}, "Filters": {"gui/x.py"}, ("{n} risk area", "{n} risk areas"): {"gui/x.py"}}
    assert [m for m, _files in untranslated_messages(bad, used)] == ["Filters", ("{n} risk area", "{n} risk areas")]


def test_the_checker_sees_an_unused_entry_and_a_broken_placeholder():
    """Positive control: a deliberately bad catalogue is caught."""
    bad = Catalog(locale="lv")
    bad.add("Legend", "Apzīmējumi")
    bad.add("a message no code uses", "ziņojums")
    bad.add("Risk: {explanation}", "Risks: {skaidrojums}")
    bad.add(("{n} place", "{n} places"), ("{n} vieta", "{n} vietas", "vietu nav"))
    used = {"Legend": set(), "Risk: {explanation}": set(), ("{n} place", "{n} places"): set()}
    problems = catalogue_problems(bad, used)
    assert problems == ["unused: 'a message no code uses'",
                        "placeholders differ: 'Risk: {explanation}' -> 'Risks: {skaidrojums}'",
                        "placeholders differ: ('{n} place', '{n} places') -> 'vietu nav'"]


def test_the_extractor_sees_every_keyword(tmp_path):
    """Positive control for the extraction the checks rely on: _, N_ and ngettext, concatenated literals."""
    (tmp_path / "m.py").write_text('x = _("a" "b")\ny = N_("c")\nz = ngettext("{n} d", "{n} ds", 2)\n'
                                   'w = f"{_(\'e\')}"\nv = _(name)\n', encoding="utf-8")
    assert set(messages_in_code(("m.py",), tmp_path)) == {"ab", "c", ("{n} d", "{n} ds"), "e"}


def test_the_catalogue_declares_latvian_plural_forms():
    catalog = _catalogue()
    assert catalog.num_plurals == 3
    assert catalog.plural_expr.replace(" ", "") == "(n%10==1&&n%100!=11?0:n!=0?1:2)"


def test_no_json_catalogue_is_left():
    assert not (ROOT / "data" / "translations").exists()


# -- the language --------------------------------------------------------------------------------


@pytest.fixture
def latvian():
    before = i18n.language()
    i18n.set_language("lv")
    yield
    i18n.set_language(before)


def test_switching_language(latvian):
    assert i18n._("Legend") == "Apzīmējumi"
    assert kind("reported_cases").label == "Ziņotie gadījumi"
    assert i18n._("a message nobody translated") == "a message nobody translated"


def test_using_switches_for_a_block_only():
    before = i18n.language()
    with i18n.using("lv"):
        assert i18n._("Legend") == "Apzīmējumi"
        with i18n.using(None):
            assert i18n.language() == "lv"
    assert i18n.language() == before


@pytest.mark.parametrize("n, expected", [
    (1, "No faila x.osm.pbf importēta 1 vieta (a)."),
    (21, "No faila x.osm.pbf importēta 21 vieta (a)."),
    (2, "No faila x.osm.pbf importētas 2 vietas (a)."),
    (11, "No faila x.osm.pbf importētas 11 vietas (a)."),
    (111, "No faila x.osm.pbf importētas 111 vietas (a)."),
    (0, "No faila x.osm.pbf importēts 0 vietu (a)."),
])
def test_latvian_plural_forms(latvian, n, expected):
    text = i18n.ngettext("Imported {n} place from {file} ({layers}).", "Imported {n} places from {file} ({layers}).",
                         n).format(n=n, file="x.osm.pbf", layers="a")
    assert text == expected


@pytest.mark.parametrize("n, expected", [(1, "Imported 1 feature into 'x'."), (0, "Imported 0 features into 'x'."),
                                         (2, "Imported 2 features into 'x'."), (21, "Imported 21 features into 'x'.")])
def test_english_plural_forms(n, expected):
    with i18n.using("en"):
        assert i18n.ngettext("Imported {n} feature into '{kind}'.", "Imported {n} features into '{kind}'.",
                             n).format(n=n, kind="x") == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        i18n.set_language("xx")


@pytest.mark.parametrize("env, expected", [
    ({"LANTERN_LANG": "lv"}, "lv"),
    ({"LANTERN_LANG": "en", "LANG": "lv_LV.UTF-8"}, "en"),
    ({"LANTERN_LANG": "xx", "LANG": "lv_LV.UTF-8"}, "lv"),  # an unknown choice falls back to the locale
    ({"LANG": "lv_LV.UTF-8"}, "lv"),
    ({"LC_MESSAGES": "lv_LV", "LANG": "en_GB.UTF-8"}, "lv"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "lv_LV.UTF-8"}, "en"),  # LC_ALL wins
    ({"LC_ALL": "C", "LANG": "lv_LV.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),  # no catalogue: English
    ({}, "en"),
])
def test_the_language_follows_lantern_lang_then_the_system_locale(env, expected):
    assert i18n.default_language(env) == expected


def test_the_process_starts_in_the_system_locale(monkeypatch):
    for name in ("LANTERN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "lv_LV.UTF-8")
    assert i18n.default_language() == "lv"
    code = "from layers import i18n; print(i18n.language(), i18n._('Legend'))"
    env = {k: v for k, v in os.environ.items() if k not in ("LANTERN_LANG", "LC_ALL", "LC_MESSAGES")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**env, "LANG": "lv_LV.UTF-8"})
    assert out.stdout.split() == ["lv", "Apzīmējumi"], out.stderr


def test_a_saved_choice_is_used_unless_lantern_lang_is_set():
    assert i18n.startup_language("lv", {"LANG": "en_GB.UTF-8"}) == "lv"
    assert i18n.startup_language("en", {"LANTERN_LANG": "lv"}) == "lv"
    assert i18n.startup_language(None, {"LANG": "lv_LV.UTF-8"}) == "lv"
    assert i18n.startup_language("xx", {}) == "en"


# -- compiling -----------------------------------------------------------------------------------


def _copy_catalogue(tmp_path) -> Path:
    po = tmp_path / "lv" / "LC_MESSAGES" / "lantern.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(PO.read_bytes())
    return po


def test_a_missing_mo_is_compiled_at_first_use(tmp_path, monkeypatch):
    po = _copy_catalogue(tmp_path)
    monkeypatch.setattr(i18n, "catalogue_source", lambda lang: po)
    monkeypatch.setattr(i18n, "_cache_dir", lambda: tmp_path / "cache")
    i18n.reload()
    try:
        with i18n.using("lv"):
            assert i18n._("Legend") == "Apzīmējumi"
        assert po.with_suffix(".mo").is_file()
    finally:
        i18n.reload()


def test_a_stale_mo_is_compiled_again(tmp_path, monkeypatch):
    po = _copy_catalogue(tmp_path)
    mo = po.with_suffix(".mo")
    i18n.compile_catalogue(po, mo)
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Apzīmējumi"', 'msgstr "Leģenda"'), encoding="utf-8")
    os.utime(mo, (1_000_000, 1_000_000))  # older than the .po
    monkeypatch.setattr(i18n, "catalogue_source", lambda lang: po)
    monkeypatch.setattr(i18n, "_cache_dir", lambda: tmp_path / "cache")
    i18n.reload()
    try:
        with i18n.using("lv"):
            assert i18n._("Legend") == "Leģenda"
    finally:
        i18n.reload()


def test_a_read_only_package_compiles_into_the_cache(tmp_path, monkeypatch):
    po = _copy_catalogue(tmp_path)
    real = i18n.compile_catalogue

    def refuse_beside_the_po(source, target):
        if target.parent == po.parent:
            raise PermissionError("read-only")
        return real(source, target)

    monkeypatch.setattr(i18n, "compile_catalogue", refuse_beside_the_po)
    monkeypatch.setattr(i18n, "catalogue_source", lambda lang: po)
    monkeypatch.setattr(i18n, "_cache_dir", lambda: tmp_path / "cache")
    mo = i18n.compiled_catalogue("lv")
    assert mo == tmp_path / "cache" / "lv" / "LC_MESSAGES" / "lantern.mo" and mo.is_file()
    import gettext

    with open(mo, "rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("Legend") == "Apzīmējumi"


def test_the_bundled_catalogue_compiles_without_errors():
    from babel.messages.mofile import write_mo

    catalog = _catalogue()
    errors = [(m.id, e) for m, errs in catalog.check() for e in errs]
    assert errors == []
    out = BytesIO()
    write_mo(out, catalog)
    assert out.getvalue()


def test_catalogues_are_found_through_resources_not_file_paths():
    source = (ROOT / "layers" / "i18n.py").read_text(encoding="utf-8")
    assert "__file__" not in source and "resource(" in source


def test_numbers_are_written_as_each_language_writes_them():
    from layers.i18n import decimal, integer, percent, using

    with using("en"):
        assert (integer(1234567), decimal(2.25, 1), percent(0.981)) == ("1,234,567", "2.2", "98.1%")
    with using("lv"):
        assert (integer(1234567), decimal(2.25, 1)) == ("1\u00a0234\u00a0567", "2,2")
        assert percent(0.981).startswith("98,1")  # a decimal comma
    with using("en"):
        assert integer(45) == "45"  # small counts read as before
