"""The page's inline style sheet and its one small script (status and name filter).

Both are constants: no data is ever written into the script, so no value can break out of it.
Without JavaScript every table is shown; printing always shows every table.
"""

from __future__ import annotations

STYLE = """
:root { --ink:#1d2733; --muted:#5b6875; --line:#d9dee5; --soft:#f4f6f9; --bad:#b3261e;
  --bad-bg:#fbe3e0; --good:#1e7a3c; --good-bg:#e2f4e8; --warn:#8a5a00; --warn-bg:#fff1d6;
  --grey-bg:#eceff3; --src:#1f4e79; --lake:#6cb4e4; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC",
  "Noto Color Emoji", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0; }
h3 { font-size: 14px; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
a { color: var(--src); }
.meta { color: var(--muted); margin: 0; }
.meta code { color: var(--ink); }
.verdict { margin: 16px 0; padding: 16px 20px; border-radius: 8px; border-left: 8px solid; }
.verdict.ok { background: var(--good-bg); border-color: var(--good); }
.verdict.no { background: var(--bad-bg); border-color: var(--bad); }
.verdict .headline { font-size: 22px; font-weight: 700; margin: 0 0 8px; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; padding: 0; list-style: none; }
.counts li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
.counts b { font-size: 18px; margin-right: 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.s-match { background: var(--good-bg); color: var(--good); }
.s-mismatch, .s-error { background: var(--bad-bg); color: var(--bad); }
.s-error { outline: 1px solid var(--bad); }
.s-skipped, .s-not_run { background: var(--warn-bg); color: var(--warn); }
.s-disabled { background: var(--grey-bg); color: var(--muted); }
.levels { display: inline-flex; gap: 4px; flex-wrap: wrap; }
.lvl { font-size: 12px; padding: 1px 7px; border-radius: 4px; white-space: nowrap; }
.lvl.pass { background: var(--good-bg); color: var(--good); }
.lvl.fail { background: var(--bad-bg); color: var(--bad); font-weight: 700; }
.lvl.not_run { background: var(--grey-bg); color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .v { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Noto Sans Mono",
  "Noto Sans CJK SC", monospace; font-size: 12.5px; }
.v { white-space: pre-wrap; overflow-wrap: anywhere; }
table.stats td.st-min, table.stats td.st-max, table.stats td.st-sum, table.stats td.st-mean {
  width: 11em; }
.null, .empty { font-size: 11px; padding: 0 5px; border-radius: 3px; font-style: italic; }
.null { background: #e8e3f5; color: #4b3a8c; }
.empty { background: var(--grey-bg); color: var(--muted); }
.none { color: var(--muted); }
.k { color: var(--muted); }
.filters { display: none; flex-wrap: wrap; gap: 6px; align-items: center; margin: 8px 0; }
.js .filters { display: flex; }
.filters button { font: inherit; padding: 3px 10px; border: 1px solid var(--line);
  background: #fff; border-radius: 14px; cursor: pointer; }
.filters button[aria-pressed="true"] { background: var(--ink); color: #fff; border-color: var(--ink); }
.filters input { font: inherit; padding: 3px 8px; border: 1px solid var(--line); border-radius: 4px;
  min-width: 220px; }
.index td { vertical-align: middle; }
.tbl { margin: 26px 0 0; padding: 16px 20px; border: 1px solid var(--line); border-radius: 8px;
  border-top: 6px solid var(--line); }
.tbl.s-border-mismatch, .tbl.s-border-error { border-top-color: var(--bad); }
.tbl.s-border-match { border-top-color: var(--good); }
.tbl.s-border-skipped, .tbl.s-border-not_run { border-top-color: #e0a526; }
.tbl header { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; }
.tbl header .top { margin-left: auto; font-size: 12px; }
.reason { margin: 6px 0 0; }
.problems { margin: 6px 0 0; padding-left: 20px; color: var(--bad); }
.notes { margin: 6px 0 0; padding-left: 20px; color: var(--warn); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 4px 18px;
  margin: 12px 0 0; }
.facts div { border-bottom: 1px dotted var(--line); padding: 2px 0; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; word-break: break-word; }
tr.bad td { background: #fff7f6; }
td.diff { background: var(--bad-bg) !important; color: var(--bad); font-weight: 600; }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); margin: 2px 0 0; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -2px; border-radius: 2px; }
.chart { display: block; max-height: 260px; }
.caption { font-size: 12px; color: var(--muted); margin: 2px 0 8px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .filters, .no-print { display: none !important; }
  section.tbl[hidden] { display: block !important; }
  tr[hidden] { display: table-row !important; }
  .tbl { break-inside: auto; border-radius: 0; }
  table, .chart, .facts, header { break-inside: avoid; }
  th { position: static; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# Filters the inventory rows and table sections by `data-status` and by name (and by `?status=`
# in the address); no data inside.
SCRIPT = """
(function () {
  var status = "all", text = "";
  var search = document.getElementById("name-filter");
  function apply() {
    document.querySelectorAll("[data-status]").forEach(function (el) {
      var okStatus = status === "all" || el.getAttribute("data-status") === status;
      var okName = !text || el.getAttribute("data-name").indexOf(text) >= 0;
      el.hidden = !(okStatus && okName);
    });
  }
  document.querySelectorAll("button[data-filter]").forEach(function (button) {
    button.addEventListener("click", function () {
      status = button.getAttribute("data-filter");
      document.querySelectorAll("button[data-filter]").forEach(function (other) {
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
      apply();
    });
  });
  if (search) {
    search.addEventListener("input", function () { text = search.value.toLowerCase(); apply(); });
  }
  // report.html?status=mismatch opens with that filter: a link to just the failing tables.
  var wanted = new URLSearchParams(window.location.search).get("status");
  var start = wanted && document.querySelector('button[data-filter="' + CSS.escape(wanted) + '"]');
  if (start) { start.click(); }
  document.documentElement.classList.add("js");
})();
"""
