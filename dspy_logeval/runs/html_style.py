"""The stylesheet report.html and leaderboard.html share (inline: the pages fetch nothing)."""

from __future__ import annotations

CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#1d2430;background:#f6f7f9}
h1{font-size:22px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 10px}
h3{font-size:14px;margin:4px 0 8px}.meta{color:#556;font-size:12px}
.meta code{background:#eceff3;padding:1px 4px;border-radius:3px}.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:22px;font-weight:600}.card .l{color:#556;font-size:12px}
.card .ci{color:#889;font-size:11px}.note{color:#556;font-size:12px;margin:4px 0 8px}
.row{display:flex;flex-wrap:wrap;gap:24px}.panel{background:#fff;border:1px solid #dde1e7;border-radius:8px;
padding:12px}table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #dde1e7;
padding:4px 6px;text-align:left;vertical-align:top;font-size:12px}th{background:#eef1f5}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.id{white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:11px;max-height:220px;overflow:auto}
.bad{color:#b3261e}.ok{color:#1b7f3b}input,select{padding:4px;margin:0 8px 8px 0}
#fails,table.fields{table-layout:fixed}#fails td,table.fields td{overflow-wrap:anywhere}
#fails col.s{width:90px}#fails col.c{width:110px}#fails col.l{width:40%}
table.fields td,table.fields th{border:none;padding:1px 4px}table.fields col.f{width:120px}
table.fields tr.diff td{background:#fde7e5}
table.fields tr.diff td.p{color:#b3261e;font-weight:600}table.fields td.f{color:#556}
details summary{cursor:pointer;color:#2b5c9e}details .msg{margin:4px 0;border-left:3px solid #c9d3e0;
padding-left:6px}details .role{font-weight:600;font-size:11px;color:#556}
.group{margin-bottom:24px}.scroll{overflow-x:auto}a{color:#2b5c9e}"""
