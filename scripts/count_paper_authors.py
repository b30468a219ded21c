#!/usr/bin/env python3
"""Count the author lists in DeepSeek's V2, V3 and R1 papers -> data/paper_authors.csv.

How data/paper_authors.csv was measured (see data/README.md). Each paper's PDF is
taken from its GitHub repository's history and turned into text, then the names
under each role heading of appendix A ("Contributions and Acknowledgments") are
counted: one name per line, up to the sentence "Within each role, authors are
listed alphabetically ...". A trailing ``*`` marks someone who has left the team.

    git -C DeepSeek-V2 show ec98ee3:deepseek-v2-tech-report.pdf > v2.pdf
    git -C DeepSeek-V3 show 4c2fdb8:DeepSeek_V3.pdf > v3.pdf
    git -C DeepSeek-R1 show 0cf7856:DeepSeek_R1.pdf > r1.pdf
    python scripts/count_paper_authors.py v2.pdf v3.pdf r1.pdf > data/paper_authors.csv

``names_also_in_v3`` counts the distinct names that also appear (anywhere) in the V3
report's list: a measure of how far the three papers share one team.

Needs ``pypdf`` (not a dependency of the book: pip install pypdf to re-run). The
committed CSV carries a hand-written ``note`` column that this script leaves empty.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter

PAPERS = {  # file stem -> (paper, arXiv id, source_id, role headings in order)
    "v2": ("DeepSeek-V2", "2405.04434", "v2_report",
           ("Research & Engineering", "Data Annotation", "Business & Compliance")),
    "v3": ("DeepSeek-V3", "2412.19437", "v3_report",
           ("Research & Engineering", "Data Annotation", "Business & Compliance")),
    "r1": ("DeepSeek-R1", "2501.12948", "r1_paper", ("Core Contributors", "Contributors")),
}


def _pdf_lines(path: str) -> list[str]:
    """Text lines of a PDF (pypdf), stripped."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return [line.strip() for line in text.splitlines()]


def roles(lines: list[str], headings: tuple[str, ...]) -> dict[str, list[str]]:
    """Names listed under each role heading of appendix A."""
    start = max(i for i, line in enumerate(lines) if line.endswith("Contributions and Acknowledgments"))
    out: dict[str, list[str]] = {}
    current = None
    for line in lines[start + 1:]:
        if line.startswith("Within each role"):
            break
        if line in headings:
            current = line
            out[current] = []
        elif current and line and not line.isdigit() and line != "Appendix":
            out[current].append(line)  # page numbers are bare digits
    return out


def main(paths: list[str]) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["paper", "arxiv", "role", "entries", "unique_names", "marked_departed",
                "names_also_in_v3", "source_id", "note"])
    lists = {path: _pdf_lines(path) for path in paths}
    v3 = next(p for p in paths if p.rsplit("/", 1)[-1].lower().startswith("v3"))
    v3_names = {n.rstrip("*") for names in roles(lists[v3], PAPERS["v3"][3]).values() for n in names}
    for path in paths:
        stem = path.rsplit("/", 1)[-1].split(".")[0].lower()
        paper, arxiv, sid, headings = PAPERS[stem]
        by_role = roles(lists[path], headings)
        everyone: list[str] = []
        for role in headings:
            names = by_role.get(role, [])
            everyone += names
            clean = {n.rstrip("*") for n in names}
            w.writerow([paper, arxiv, role, len(names), len(clean),
                        sum(n.endswith("*") for n in names), len(clean & v3_names), sid, ""])
        counts = Counter(n.rstrip("*") for n in everyone)
        w.writerow([paper, arxiv, "all roles", len(everyone), len(counts),
                    sum(n.endswith("*") for n in everyone), len(set(counts) & v3_names), sid, ""])


if __name__ == "__main__":
    main(sys.argv[1:])
