import re
import subprocess

import pytest

from audit.field_checklist import write_checklist


@pytest.mark.parametrize("lang, title", [("en", "Field checklist"), ("lv", "Kontrolsaraksts darbam uz vietas")])
def test_one_page_checklist_in_each_language(tmp_path, lang, title):
    out = tmp_path / f"street-{lang}.pdf"
    assert write_checklist(out, "street", lang) == 1
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert title in text
    if lang == "lv":
        assert "sutenersˇ" not in text and "uzrauga suteners" in text  # Latvian letters survive
    else:
        assert "Controlled by a pimp" in text and "Workplace different" not in text  # filtered to the type
