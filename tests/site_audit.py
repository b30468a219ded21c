"""What a reader sees on a built page, measured in the browser (issue #22).

Five figures per chapter page, each something a reader meets:

* ``code_lines``: lines of code visible without opening a fold (a code cell's input that is
  displayed, not inside a closed ``<details>``);
* ``raw_tables``: tables printed as pandas prints them (``table.dataframe``: bare index,
  ``2.664e+06``, ``NaN``) instead of a table made for readers;
* ``empty_charts``: charts with a mark layer whose every item has no area (zero-width bars,
  a line with no length), so the chart draws nothing where its data should be;
* ``clipped_labels``: chart texts (titles, axis and legend labels) cut with an ellipsis or
  reaching outside the chart's own box, measured at the width the page is opened at;
* ``build_talk``: phrases about how the book is built rather than its subject, in the text a
  reader sees (prose and outputs, not code).

Used by ``tests/test_browser.py`` (the limits) and ``benchmarks/site_audit.py`` (the table).
"""

from __future__ import annotations

import re

__all__ = ["BUILD_TALK", "AUDIT_JS", "EMPTY_MARKS_JS", "audit_page", "build_talk"]

# Talk about the build, not the subject (the same words the repository's hook counts).
BUILD_TALK = re.compile(r"JupyterLab|\bshipped\b|\bpredates?\b|\bretrained\b|\bthis cell\b", re.I)

# One chart's mark layers that draw nothing: every item of the layer has no area.
EMPTY_MARKS_JS = """(root) => {
  const empty = [];
  for (const svg of root.querySelectorAll('svg.marks')) {
    for (const g of svg.querySelectorAll('g.role-mark')) {
      const kind = [...g.classList].find(c => c.startsWith('mark-')) || '';
      if (['mark-text', 'mark-group', 'mark-image'].includes(kind)) continue;
      const items = [...g.children].filter(e => e.tagName !== 'g' || kind === 'mark-rule');
      if (!items.length) continue;
      const visible = items.some(e => {
        const b = e.getBBox();
        if (kind === 'mark-rect' || kind === 'mark-arc') return b.width >= 0.5 && b.height >= 0.5;
        return b.width >= 0.5 || b.height >= 0.5;
      });
      if (!visible) empty.push(kind + ' (' + items.length + ' items)');
    }
  }
  return empty;
}"""

AUDIT_JS = """() => {
  const shown = el => !el.closest('details:not([open])') && el.offsetParent !== null;
  // 1. code a reader sees
  let code_lines = 0;
  for (const el of document.querySelectorAll('div.cell_input pre')) {
    if (!shown(el)) continue;
    code_lines += el.innerText.split('\\n').filter(l => l.trim()).length;
  }
  // 2. pandas as it comes
  const raw_tables = [...document.querySelectorAll('.cell_output table.dataframe')].length;
  // 3. charts that draw nothing
  const empty_charts = [];
  for (const div of document.querySelectorAll('div[id^="chart-"]')) {
    const e = (%EMPTY%)(div);
    if (e.length) empty_charts.push(div.id + ': ' + e.join(', '));
  }
  // 4. clipped or ellipsised chart texts
  const clipped = [];
  for (const div of document.querySelectorAll('div[id^="chart-"]')) {
    const box = (div.closest('.explainer-chart') || div).getBoundingClientRect();
    for (const t of div.querySelectorAll('svg.marks text')) {
      const s = t.textContent.trim();
      if (!s) continue;
      const r = t.getBoundingClientRect();
      if (s.endsWith('…') || s.endsWith('...')) { clipped.push(div.id + ': "' + s + '" (ellipsis)'); continue; }
      if (r.width === 0) continue;
      const svg = t.ownerSVGElement.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1)
        clipped.push(div.id + ': "' + s + '" (outside the chart box)');
      else if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1)
        clipped.push(div.id + ': "' + s + '" (cut by the edge of the chart)');
    }
  }
  // 5. the reader's text: prose and outputs, not code
  const main = document.querySelector('main article, article.bd-article, main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('div.cell_input, script, style, .explainer-chart-data, svg').forEach(e => e.remove());
  return {code_lines, raw_tables, empty_charts, clipped, text: copy.innerText};
}""".replace("%EMPTY%", EMPTY_MARKS_JS)


def build_talk(text: str) -> list[str]:
    """The build-talk phrases in a page's reader text, each with a little context."""
    return [text[max(0, m.start() - 30): m.end() + 30].replace("\n", " ")
            for m in BUILD_TALK.finditer(text)]


def audit_page(page) -> dict:
    """The five figures for the page open in ``page`` (a Playwright page, charts drawn)."""
    r = page.evaluate(AUDIT_JS)
    r["build_talk"] = build_talk(r.pop("text"))
    return r
