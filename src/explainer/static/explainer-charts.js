/* The book's charts: drawn by the site's own vega-embed, in the page's colour mode.
 *
 * Every chart is a <div class="explainer-chart"> written by explainer.charts.chart_html:
 * its Vega-Lite spec sits in a <script type="application/json"> inside it. This script
 * draws each one as SVG when the page loads and draws it again, keeping the positions
 * of its sliders and dropdowns, whenever the theme's light/dark switch (or the system
 * setting it follows) changes the page's mode. No request leaves the site.
 */
(function () {
  "use strict";

  // colours for dark pages; light pages use the spec's own theme (explainer.charts)
  const DARK = {
    title: { color: "#f0f0f0", subtitleColor: "#c8c8c8" },
    axis: { labelColor: "#dcdcdc", titleColor: "#f0f0f0", gridColor: "#3a4048",
            domainColor: "#9aa0a6", tickColor: "#9aa0a6" },
    legend: { labelColor: "#dcdcdc", titleColor: "#f0f0f0" },
    header: { labelColor: "#dcdcdc", titleColor: "#f0f0f0" },
    text: { color: "#f0f0f0" },
    view: { stroke: null },
    // Okabe-Ito, with black swapped for a light grey and the blue lightened for contrast
    range: { category: ["#56B4E9", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#7fc8f8",
                        "#F0E442", "#d0d0d0"] },
    bar: { color: "#56B4E9" }, line: { color: "#56B4E9" }, point: { color: "#56B4E9" },
    area: { color: "#56B4E9" }, rule: { color: "#dcdcdc" },
  };
  const EMBED = { renderer: "svg",
                  actions: { export: true, source: false, compiled: false, editor: false } };
  const drawn = new Map();  // chart div -> {view, mode}

  function pageMode() {
    const root = document.documentElement;
    const theme = root.dataset.theme || root.dataset.mode;
    if (theme === "dark" || theme === "light") return theme;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches
      ? "dark" : "light";
  }

  function merge(target, extra) {
    for (const [k, v] of Object.entries(extra)) {
      if (v && typeof v === "object" && !Array.isArray(v) && target[k] && typeof target[k] === "object") {
        merge(target[k], v);
      } else {
        target[k] = v;
      }
    }
    return target;
  }

  function boundParams(node, out) {
    if (Array.isArray(node)) { node.forEach(n => boundParams(n, out)); return out; }
    if (node && typeof node === "object") {
      (node.params || []).forEach(p => { if (p && p.bind && p.name) out.add(p.name); });
      Object.values(node).forEach(v => boundParams(v, out));
    }
    return out;
  }

  // A title wider than the chart makes Vega squeeze the plot to fit it: on a narrow screen,
  // break long titles and subtitles into lines that fit the container instead.
  function wrap(text, maxChars) {
    const words = String(text).split(/\s+/), lines = [];
    let line = "";
    for (const w of words) {
      if (line && (line + " " + w).length > maxChars) { lines.push(line); line = w; }
      else { line = line ? line + " " + w : w; }
    }
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function fitTitles(node, width) {
    if (!node || typeof node !== "object") return;
    const maxChars = Math.max(16, Math.floor(width / 10));  // ~10 px per bold title character
    if (node.title) {
      if (typeof node.title === "string" || Array.isArray(node.title)) node.title = { text: node.title };
      const t = node.title;
      if (typeof t === "object") {
        if (typeof t.text === "string" && t.text.length > maxChars) t.text = wrap(t.text, maxChars);
        if (typeof t.subtitle === "string" && t.subtitle.length > maxChars * 1.2) {
          t.subtitle = wrap(t.subtitle, Math.floor(maxChars * 1.2));
        }
      }
    }
    ["layer", "hconcat", "vconcat", "concat"].forEach(k => (node[k] || []).forEach(n => fitTitles(n, width)));
    if (node.spec) fitTitles(node.spec, width);
  }

  function background() {
    const bg = getComputedStyle(document.body).backgroundColor;
    return bg && bg !== "rgba(0, 0, 0, 0)" ? bg : (pageMode() === "dark" ? "#14181e" : "#ffffff");
  }

  async function draw(div) {
    const source = div.querySelector("script.explainer-chart-spec");
    const target = div.querySelector(".explainer-chart-view");
    if (!source || !target || typeof vegaEmbed === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const mode = pageMode();
    const previous = drawn.get(div);
    const keep = {};
    if (previous) {
      for (const name of boundParams(spec, new Set())) {
        try { keep[name] = previous.view.signal(name); } catch (e) { /* not a signal */ }
      }
      previous.view.finalize();
      target.replaceChildren();
    }
    fitTitles(spec, target.clientWidth || div.clientWidth || window.innerWidth);
    spec.config = merge(spec.config || {}, mode === "dark" ? DARK : {});
    spec.config.background = background();
    drawn.set(div, { view: null, mode: mode });
    const result = await vegaEmbed(target, spec, EMBED);
    for (const [name, value] of Object.entries(keep)) {
      try { result.view.signal(name, value); } catch (e) { /* param gone */ }
    }
    if (Object.keys(keep).length) await result.view.runAsync();
    // the export menu's toggle is an icon only: give it a name screen readers can say
    target.querySelectorAll("details > summary").forEach(s => {
      s.setAttribute("aria-label", "Save this chart as an image");
      s.setAttribute("title", "Save this chart as an image");
    });
    div.dataset.chartMode = mode;
    drawn.set(div, { view: result.view, mode: mode });
  }

  function drawAll(onlyStale) {
    const mode = pageMode();
    document.querySelectorAll("div.explainer-chart").forEach(div => {
      if (onlyStale && div.dataset.chartMode === mode) return;
      draw(div).catch(err => {
        const target = div.querySelector(".explainer-chart-view");
        if (target) {  /* the message as text: an error may echo data, never markup */
          const box = document.createElement("div");
          box.className = "error";
          box.textContent = String(err);
          target.replaceChildren(box);
        }
        console.error(err);
      });
    });
  }

  function start() {
    drawAll(false);
    new MutationObserver(() => drawAll(true)).observe(document.documentElement,
      { attributes: true, attributeFilter: ["data-theme", "data-mode"] });
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: dark)")
        .addEventListener("change", () => drawAll(true));
    }
  }

  window.explainerCharts = { drawAll: drawAll, pageMode: pageMode };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
