"""report.html's per-sample tables: failures with field-level differences, and every sample with the prompt
messages it was sent and the raw completion it got back.

The messages are embedded once (as prompts.jsonl stores them: each distinct message once) in a JSON block and
shown by a few lines of inline JS when a row's <details> opens, so a 500-sample report stays small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from dspy_logeval.runs.metric_keys import format_value as fmt
from dspy_logeval.runs.prompt_store import PromptStore

# (record field, its score in record["scores"]): the label fields compared exactly; summary is ROUGE-L.
COMPARED = (("root_cause", "root_cause"), ("severity", "severity"), ("component", "component"),
            ("action_needed", "action"))
SAMPLES_JS = """function filt(){const q=document.getElementById('q').value.toLowerCase(),
c=document.getElementById('cat').value;let n=0;document.querySelectorAll('#fails tbody tr').forEach(r=>{
const s=(!c||r.dataset.cat===c)&&r.textContent.toLowerCase().includes(q);r.style.display=s?'':'none';
if(s)n++;});document.getElementById('shown').textContent=n;}
let PD=null;function el(t,c,x){const e=document.createElement(t);if(c)e.className=c;if(x!==undefined)
e.textContent=x;return e;}
function showPrompt(d){if(!d.open||d.dataset.done)return;d.dataset.done='1';
PD=PD||JSON.parse(document.getElementById('prompt-data').textContent);const b=d.querySelector('.body');
const ids=PD.prompts[d.dataset.h];if(!ids){b.appendChild(el('div','note','no prompt recorded for this sample '+
'(run written before prompts.jsonl, or the request never left)'));}else{ids.forEach(i=>{const m=PD.messages[i]||
{role:'?',content:'(missing)'};const w=el('div','msg');w.appendChild(el('div','role',m.role));
w.appendChild(el('pre','',typeof m.content==='string'?m.content:JSON.stringify(m.content,null,1)));
b.appendChild(w);});}const r=PD.raw[d.dataset.i];const w=el('div','msg');w.appendChild(el('div','role',
'raw completion'));w.appendChild(el('pre','',r==null?'(none recorded)':r));b.appendChild(w);}"""


def prompt_data(records: Sequence[Mapping[str, Any]], store: PromptStore) -> str:
    """The <script type="application/json"> block: the run's prompts (by hash) and raw completions (by row)."""
    prompts, messages = store.load()
    used = {str(r.get("prompt_hash")) for r in records if r.get("prompt_hash")}
    kept = {h: ids for h, ids in prompts.items() if h in used}
    data = {"prompts": kept, "messages": {m: messages[m] for ids in kept.values() for m in ids if m in messages},
            "raw": [r.get("raw_completion") for r in records]}
    text = json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")  # no </script> inside
    return f'<script type="application/json" id="prompt-data">{text}</script>'


def prompt_details(record: Mapping[str, Any], index: int) -> str:
    """A closed <details> that shows RECORD's prompt messages and raw completion when opened."""
    return (f'<details data-h="{escape(str(record.get("prompt_hash") or ""))}" data-i="{index}" '
            'ontoggle="showPrompt(this)"><summary>prompt &amp; raw answer</summary><div class="body"></div>'
            "</details>")


def field_diff(record: Mapping[str, Any]) -> str:
    """Expected vs predicted, one row per field; label fields that differ are highlighted."""
    actual, predicted = record.get("actual") or {}, record.get("predicted")
    if predicted is None:
        return '<span class="bad">(no prediction)</span>'
    scores = record.get("scores") or {}
    rows = []
    for field, score in COMPARED:
        differs = scores.get(score, 0.0) < 1.0
        rows.append(f'<tr class="{"diff" if differs else "same"}" data-field="{field}"><td class="f">{field}</td>'
                    f'<td>{escape(str(actual.get(field)))}</td><td class="p">{escape(str(predicted.get(field)))}'
                    "</td></tr>")
    rouge = fmt(scores.get("summary"), "num")
    rows.append(f'<tr><td class="f">summary<br>(ROUGE-L {rouge})</td><td>{escape(str(actual.get("summary")))}'
                f'</td><td>{escape(str(predicted.get("summary")))}</td></tr>')
    return ('<table class="fields"><colgroup><col class="f"><col><col></colgroup><thead><tr><th></th>'
            '<th>expected</th><th>predicted</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _failure_row(r: Mapping[str, Any], index: int) -> str:
    error = f'<div class="bad">{escape(str(r.get("error")))}</div>' if r.get("error") else ""
    return (f'<tr data-cat="{escape(str(r.get("category")))}"><td class="id">{escape(str(r.get("sample_id")))}</td>'
            f'<td>{escape(str(r.get("category")))}</td><td><pre>{escape(str(r.get("logs") or ""))}</pre></td>'
            f"<td>{field_diff(r)}{error}{prompt_details(r, index)}</td></tr>")


def failures_html(records: Sequence[Mapping[str, Any]]) -> str:
    """Every sample with a wrong root cause or no answer: logs, field-by-field differences, prompt and answer."""
    failed = [(i, r) for i, r in enumerate(records) if not r.get("is_correct")]
    cats = sorted({str(r.get("category")) for _, r in failed})
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in cats)
    return (f'<input id="q" placeholder="filter text…" oninput="filt()"><select id="cat" onchange="filt()">'
            f'<option value="">all categories</option>{options}</select> <span id="shown">{len(failed)}</span>'
            f' of {len(failed)} failures shown<table id="fails"><colgroup><col class="s"><col class="c"><col class="l">'
            '<col></colgroup><thead><tr><th>sample</th><th>category</th><th>logs</th>'
            "<th>expected vs predicted (differences highlighted)</th></tr></thead>"
            "<tbody>" + "".join(_failure_row(r, i) for i, r in failed) + "</tbody></table>")


def _sample_row(r: Mapping[str, Any], index: int) -> str:
    mark = '<span class="ok">✓</span>' if r.get("is_correct") else '<span class="bad">✗</span>'
    pred = r.get("predicted") or {}
    return (f'<tr><td class="id">{escape(str(r.get("sample_id")))}</td><td>{mark}</td>'
            f'<td>{escape(str((r.get("actual") or {}).get("root_cause")))}</td>'
            f'<td>{escape(str(pred.get("root_cause", "(failed)")))}</td>'
            f'<td>{escape(str((r.get("actual") or {}).get("severity")))} / {escape(str(pred.get("severity", "–")))}'
            f'</td><td class="num">{fmt(r.get("latency_ms"), "ms")}</td><td class="num">'
            f'{fmt(r.get("prompt_tokens"), "int")} / {fmt(r.get("completion_tokens"), "int")}</td>'
            f"<td>{prompt_details(r, index)}</td></tr>")


def samples_html(records: Sequence[Mapping[str, Any]]) -> str:
    """Every sample, one line each, with its prompt and raw completion behind a click."""
    rows = "".join(_sample_row(r, i) for i, r in enumerate(records))
    return (f"<details><summary>all {len(records)} samples</summary><table id=\"samples\"><thead><tr><th>sample</th>"
            "<th></th><th>true root cause</th><th>predicted</th><th>severity true / predicted</th>"
            '<th class="num">latency</th><th class="num">tokens in / out</th><th>prompt</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></details>")
