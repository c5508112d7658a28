"""The sign-off report: one self-contained HTML page rendered from the steps' artifacts.

`model` holds what the page shows; `assemble` builds it from the artifacts' plain dicts, with
`periods` (rows per period on both sides) and `findings` (exclusions and sample differences);
`verdict` counts it; `svg` draws the per-period chart; `markup`, `section` and `page` lay the
page out, with `assets` its inline style sheet and script. Nothing here reads files:
`lakeshift.steps.report` does, and writes `report.html`.
"""
