"""The guidelines' terms (data/glossary.json) are used consistently in every Latvian label of data/."""
import json
import re

from layers.resources import load_json


def _glossary() -> list[dict]:
    return load_json("glossary.json")["terms"]


def _latvian_labels(doc, path=""):
    """(where, text) of every Latvian string in a catalogue: values of 'lv' and of keys ending in '_lv'."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, str) and (k == "lv" or k.endswith("_lv")):
                yield f"{path}.{k}", v
            else:
                yield from _latvian_labels(v, f"{path}.{doc.get('id', k) if isinstance(doc.get('id'), str) else k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _latvian_labels(v, f"{path}[{i}]")


def _catalogues() -> dict[str, dict]:
    names = ["action_plan", "annotation_choices", "assessment_questions", "assistance_types", "forms_of_exploitation",
             "indicators", "layer_kinds", "outreach_candidates", "place_categories", "risk_groups", "risk_rules",
             "vulnerability_factors"]
    return {f"{n}.json": load_json(f"{n}.json") for n in names}


def avoided_terms(catalogues: dict[str, dict], glossary: list[dict]) -> list[str]:
    """Every Latvian label that uses a rendering the glossary says the guidelines do not use."""
    found = []
    for term in glossary:
        for word in term.get("avoid", []):
            for name, doc in catalogues.items():
                for where, text in _latvian_labels(doc):
                    if ".legacy" in where:  # version-1 questions kept word for word so old answers stay readable
                        continue
                    if word.lower() in text.lower():
                        found.append(f"{name}{where}: {text!r} uses {word!r}, not {term['lv']!r}")
    return found


def _entry(catalogues, file: str, ref: str) -> list[str]:
    """The Latvian text(s) of one catalogue entry named in a glossary 'used_in'."""
    doc = catalogues[file]
    if ref == "title":
        return [doc["title"]["lv"]]
    if file == "layer_kinds.json":
        kind_id, _, field = ref.partition(".")
        kind = next(k for k in doc["kinds"] if k["id"] == kind_id)
        return [kind["lv"]] if not field else [next(f for f in kind["fields"] if f["name"] == field)["lv"]]
    if ref.startswith("goal:"):
        return [next(g for g in doc["goals"] if g["id"] == ref[5:])["lv"]]
    lists = [v for v in doc.values() if isinstance(v, list)]
    for entries in lists:
        for e in entries:
            if isinstance(e, dict) and e.get("id") == ref:
                return [e.get("lv") or e.get("action_lv", "")]
    raise KeyError(f"{file}: no entry {ref!r}")


def inconsistent_uses(catalogues, glossary) -> list[str]:
    """Catalogue entries named in 'used_in' whose Latvian text does not use the glossary's term."""
    out = []
    for term in glossary:
        for use in term.get("used_in", []):
            for text in _entry(catalogues, use["file"], use["id"]):
                if term["stem"].lower() not in text.lower():
                    out.append(f"{use['file']} {use['id']}: {text!r} does not use {term['lv']!r}")
    return out


def seed_mismatches(terms: list[dict], seed_text: str) -> list[str]:
    """Glossary terms whose quoted words are not on the seed line they cite (or the line after)."""
    lines = seed_text.split("\n") + [""]
    out = []
    for t in terms:
        first = re.findall(r"\w+", t["seed"])[0]
        line = t["seed_line"]
        if not 0 < line <= len(lines) - 1 or first.lower() not in (lines[line - 1] + lines[line]).lower():
            out.append(f"{t['id']}: {t['seed']!r} is not on line {line}")
    return out


def test_glossary_has_the_guidelines_key_terms():
    terms = _glossary()
    assert len(terms) >= 40
    assert len({t["id"] for t in terms}) == len(terms)
    expected = {"trafficking": "cilvēku tirdzniecība", "referral": "novirzīšana", "estimate": "aplēse",
                "situation_assessment": "situācijas apzināšana"}
    by_id = {t["id"]: t for t in terms}
    assert {k: by_id[k]["lv"] for k in expected} == expected
    for t in terms:
        assert t["en"] and t["lv"] and t["stem"].lower() in t["lv"].lower(), t["id"]
        assert t["seed"] and isinstance(t["seed_line"], int) and t["seed_line"] > 0, t["id"]


def test_the_seed_check_sees_a_wrong_line():
    """The check against the guidelines' text (make glossary-check, where the seed is at hand) can fail."""
    terms = [{"id": "referral", "seed": "novirzīšanas mehānisms", "seed_line": 2}]
    assert seed_mismatches(terms, "ievads\nnacionālais novirzīšanas mehānisms\n") == []
    assert seed_mismatches(terms, "novirzīšanas mehānisms\ncits teksts\n\n") != []
    assert seed_mismatches([dict(terms[0], seed_line=99)], "x\n") != []


def test_every_catalogue_uses_the_glossary_terms():
    catalogues, glossary = _catalogues(), _glossary()
    assert inconsistent_uses(catalogues, glossary) == []
    assert avoided_terms(catalogues, glossary) == []


def test_the_check_catches_a_term_the_guidelines_do_not_use():
    """Positive control: the old renderings are found again when put back."""
    catalogues, glossary = json.loads(json.dumps(_catalogues())), _glossary()
    assistance = catalogues["assistance_types.json"]["assistance"]
    next(a for a in assistance if a["id"] == "referral")["lv"] = "Nosūtīšana pie pakalpojuma sniedzēja"
    kinds = catalogues["layer_kinds.json"]["kinds"]
    next(k for k in kinds if k["id"] == "risk_group_estimates")["lv"] = "Riska grupu novērtējumi"
    groups = catalogues["risk_groups.json"]["groups"]
    next(g for g in groups if g["id"] == "migrant_workers")["lv"] = "Viesstrādnieki, nedokumentēti migranti"
    problems = inconsistent_uses(catalogues, glossary)
    assert any("referral" in p and "novirzīšana" in p for p in problems)
    assert any("risk_group_estimates" in p and "aplēse" in p for p in problems)
    avoided = avoided_terms(catalogues, glossary)
    assert any("nosūtīš" in p for p in avoided) and any("viesstrādniek" in p for p in avoided)
    assert any("nedokumentēt" in p for p in avoided)


if __name__ == "__main__":  # make glossary-check: every quote is on the seed line it cites
    import sys
    from pathlib import Path

    problems = seed_mismatches(_glossary(), Path(sys.argv[1]).read_text(encoding="utf-8"))
    print("\n".join(problems) or f"{len(_glossary())} glossary terms found on their seed lines")
    sys.exit(1 if problems else 0)
