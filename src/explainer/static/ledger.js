/* Filtering and sorting for the claims ledger table (explainer.ledger_html.ledger_html).
   Loaded on every page by explainer.book; does nothing on pages without the table. Every
   element is looked up inside its wrapper, never by id: on the book page the section titled
   "Claims ledger" has the id "claims-ledger" (the table is "claims-ledger-table").
   A link with "?article=003" (the intro page's) filters to that article and brings the table
   into view; a link with "#claim-C015" (the verdicts page's) brings that row into view. The
   charts above the table are drawn after the page loads and change its height, so the view
   is kept on the target until they settle or the reader scrolls. */
(function () {
  "use strict";
  function init(wrap) {
    var table = wrap.querySelector("table.claims-ledger-table");
    if (!table || wrap.dataset.ledgerReady) { return; }
    wrap.dataset.ledgerReady = "1";
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr.claim-row"));
    var selects = wrap.querySelectorAll("select[data-filter]");
    var search = wrap.querySelector("input.claims-ledger-search");
    var count = wrap.querySelector(".claims-ledger-count");
    function apply() {
      var want = {};
      Array.prototype.forEach.call(selects, function (s) { want[s.dataset.filter] = s.value; });
      var needle = search ? search.value.trim().toLowerCase() : "";
      var shown = 0;
      rows.forEach(function (r) {
        var ok = true;
        for (var key in want) {
          if (want[key] !== "" && r.dataset[key] !== want[key]) { ok = false; }
        }
        if (ok && needle && r.textContent.toLowerCase().indexOf(needle) < 0) { ok = false; }
        r.style.display = ok ? "" : "none";
        if (ok) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + rows.length + " claims shown"; }
    }
    Array.prototype.forEach.call(selects, function (s) { s.addEventListener("change", apply); });
    // "?article=003" (the intro page's links) preselects that article in the filter
    var wanted = new URLSearchParams(window.location.search).get("article");
    Array.prototype.forEach.call(selects, function (s) {
      if (!wanted || s.dataset.filter !== "seed") { return; }
      Array.prototype.forEach.call(s.options, function (o) {
        if (o.value && o.value.indexOf(wanted) === 0) { s.value = o.value; }
      });
    });
    if (search) { search.addEventListener("input", apply); }
    var hash = window.location.hash.slice(1);
    var row = hash ? wrap.querySelector('tr[id="' + hash.replace(/"/g, "") + '"]') : null;
    var filtered = wanted && Array.prototype.some.call(selects, function (s) {
      return s.dataset.filter === "seed" && s.value;
    });
    var heads = table.querySelectorAll("th[data-sort-key]");
    Array.prototype.forEach.call(heads, function (th) {
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); th.click(); }
      });
      th.addEventListener("click", function () {
        var key = th.dataset.sortKey;
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        function val(r) {
          var cell = r.querySelector('td[data-key="' + key + '"]');
          return cell ? (cell.dataset.value || cell.textContent).trim() : "";
        }
        rows.sort(function (a, b) {
          return dir * val(a).localeCompare(val(b), undefined, {numeric: true});
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      });
    });
    apply();
    if (row || filtered) { keepInView(row || wrap); }
  }
  // scroll `target` to the top now, and again while the page above it changes height
  // (charts drawing), for a few seconds or until the reader scrolls, clicks or types
  function keepInView(target) {
    var done = false;
    function land() { if (!done) { target.scrollIntoView({block: "start"}); } }
    function stop() { done = true; }
    ["wheel", "touchstart", "keydown", "mousedown"].forEach(function (ev) {
      window.addEventListener(ev, stop, {once: true, passive: true});
    });
    land();
    window.addEventListener("load", land);
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(land);
      observer.observe(document.body);
      setTimeout(function () { observer.disconnect(); done = true; }, 5000);
    } else {
      setTimeout(land, 800);
      setTimeout(function () { land(); done = true; }, 2500);
    }
  }
  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.claims-ledger-wrap"), init);
  }
  window.explainerLedgerInit = initAll;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
