"""Runner reports (``job.result["reports"]``) turned into page sections, escaped throughout.

Known shapes get a purpose-built view: the corpus ``funnel`` (a table and the data for a bar chart), the
``samples`` of what each rule removed or redacted (collapsible, one block per step) and the ``tokenizer_report``.
Anything else, including keys a future runner adds, goes through ``render_value``, which lays out dicts as
key/value tables, lists of records as tables and long strings as preformatted text. All output is built with
``format_html`` / ``escape``: report contents come from corpora and models and are never trusted as markup.
"""

import json
from typing import Any

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

MAX_DEPTH = 5
MAX_ROWS = 200
MAX_COLUMNS = 14
MAX_CHIPS = 400
LONG_TEXT = 160
SAMPLE_CHARS = 4000


def format_scalar(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def visible(token: str) -> str:
    """Short strings (tokens, top-token texts) with their invisible characters shown: newline ↵, tab →."""
    return token.replace("\n", "↵").replace("\t", "→").replace("\r", "␍")


def token_chips(tokens: list) -> SafeString:
    chips = format_html_join("", '<span class="chip-token">{}</span>', ((visible(str(t)),) for t in tokens[:MAX_CHIPS]))
    more = f" … {len(tokens) - MAX_CHIPS} more" if len(tokens) > MAX_CHIPS else ""
    return format_html('<span class="chips">{}{}</span>', chips, more)


def _text(value: str) -> SafeString:
    if len(value) <= 40:
        return escape(visible(value))
    if len(value) > LONG_TEXT or "\n" in value:
        clipped = value[:SAMPLE_CHARS] + ("…" if len(value) > SAMPLE_CHARS else "")
        return format_html('<pre class="report-text">{}</pre>', clipped)
    return escape(value)


def _records_table(rows: list[dict], depth: int) -> SafeString:
    columns: list[str] = []
    for row in rows[:MAX_ROWS]:
        columns.extend(k for k in row if k not in columns)
    columns = columns[:MAX_COLUMNS]
    head = format_html_join("", "<th>{}</th>", ((c,) for c in columns))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html_join(
                    "",
                    '<td class="{}">{}</td>',
                    (
                        ("num" if isinstance(row.get(c), int | float) else "", render_value(row.get(c), depth + 1))
                        for c in columns
                    ),
                ),
            )
            for row in rows[:MAX_ROWS]
        ),
    )
    more = (
        format_html('<p class="muted small">{} more rows not shown.</p>', len(rows) - MAX_ROWS)
        if len(rows) > MAX_ROWS
        else ""
    )
    return format_html(
        '<table class="data-table report-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}', head, body, more
    )


def render_value(value: Any, depth: int = 0) -> SafeString:
    """Any JSON value as escaped HTML."""
    if depth > MAX_DEPTH:
        return format_html('<pre class="report-text">{}</pre>', json.dumps(value, indent=2, default=str)[:SAMPLE_CHARS])
    if isinstance(value, str):
        return _text(value)
    if _is_scalar(value):
        return escape(format_scalar(value))
    if isinstance(value, dict):
        if not value:
            return mark_safe('<span class="muted">{}</span>')
        rows = ((k, render_value(v, depth + 1)) for k, v in value.items())
        return format_html(
            '<table class="kv-table"><tbody>{}</tbody></table>',
            format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
        )
    if isinstance(value, list | tuple):
        if not value:
            return mark_safe('<span class="muted">[]</span>')
        if all(isinstance(v, dict) for v in value):
            return _records_table(list(value), depth)
        if all(isinstance(v, str) and len(v) <= 40 for v in value):
            return token_chips(list(value))
        if all(_is_scalar(v) for v in value):
            return escape(", ".join(format_scalar(v) for v in value[:MAX_CHIPS]))
        items = format_html_join("", "<li>{}</li>", ((render_value(v, depth + 1),) for v in value[:MAX_ROWS]))
        return format_html('<ol class="report-list">{}</ol>', items)
    return escape(str(value))


# --- known report shapes --------------------------------------------------------------------------------------


def funnel_section(funnel: list[dict]) -> dict[str, Any]:
    """The corpus funnel: one row per step with what went in and out, plus the series for its bar chart."""
    rows = []
    for entry in funnel:
        docs_in, docs_out = entry.get("documents_in"), entry.get("documents_out")
        bytes_in, bytes_out = entry.get("bytes_in"), entry.get("bytes_out")
        kept = (
            docs_out / docs_in
            if isinstance(docs_in, int | float) and docs_in and isinstance(docs_out, int | float)
            else None
        )
        extra = {
            k: v
            for k, v in entry.items()
            if k not in {"step", "documents_in", "documents_out", "bytes_in", "bytes_out"}
        }
        rows.append(
            {
                "step": entry.get("step", "?"),
                "documents_in": docs_in,
                "documents_out": docs_out,
                "removed": docs_in - docs_out if isinstance(docs_in, int) and isinstance(docs_out, int) else None,
                "kept_percent": kept * 100 if kept is not None else None,
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "extra": render_value(extra) if extra else "",
            }
        )
    chart = {
        "steps": [str(r["step"]) for r in rows],
        "documents": [r["documents_out"] for r in rows],
        "bytes": [r["bytes_out"] for r in rows],
    }
    return {"rows": rows, "chart": chart, "has_extra": any(r["extra"] for r in rows)}


def sample_card(sample: Any) -> SafeString:
    """A sample document: its labels (id, rule, kinds, score, ...) on one line, then its text as written."""
    if not isinstance(sample, dict) or not isinstance(sample.get("text"), str):
        return render_value(sample)
    labels = [(k, render_value(v, MAX_DEPTH - 1)) for k, v in sample.items() if k != "text"]
    head = format_html_join(" · ", '<span class="muted">{}</span> {}', labels)
    clipped = sample["text"][:SAMPLE_CHARS] + ("…" if len(sample["text"]) > SAMPLE_CHARS else "")
    return format_html('<div class="small">{}</div><pre class="report-text">{}</pre>', head, clipped)


def samples_section(samples: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step, the examples a rule removed or redacted: rendered escaped, shown collapsed."""
    out = []
    for step, examples in samples.items():
        items = examples if isinstance(examples, list) else [examples]
        out.append({"step": step, "count": len(items), "items": [sample_card(item) for item in items[:50]]})
    return out


TOKENIZER_GROUPS = (("evaluation", "Measured on held-out text"), ("tokenizer", "Tokenizer"), ("training", "Training"))


def token_samples(samples: Any) -> list[dict[str, Any]]:
    """Sample documents with their tokens as chips, so the cut points are visible at a glance."""
    out = []
    for sample in samples if isinstance(samples, list) else []:
        if not isinstance(sample, dict):
            continue
        tokens = sample.get("tokens")
        out.append(
            {
                "id": sample.get("id", ""),
                "text": str(sample.get("text", ""))[:SAMPLE_CHARS],
                "n_tokens": sample.get("n_tokens", len(tokens) if isinstance(tokens, list) else None),
                "tokens": token_chips(tokens) if isinstance(tokens, list) else "",
            }
        )
    return out


def tokenizer_section(report: Any) -> dict[str, Any]:
    """Groups of measurements (evaluation first), sample tokenizations, and anything else rendered generically."""
    if not isinstance(report, dict):
        return {"groups": [], "samples": [], "rest": [("report", render_value(report))]}
    groups = []
    flat = [(k, format_scalar(v)) for k, v in report.items() if _is_scalar(v) and k != "format"]
    if flat:
        groups.append(("Measures", flat))
    for key, title in TOKENIZER_GROUPS:
        value = report.get(key)
        if isinstance(value, dict) and value:
            groups.append((title, [(k, render_value(v, 2)) for k, v in value.items()]))
    known = {"format", "samples", *(k for k, _ in TOKENIZER_GROUPS)}
    rest = [(k, render_value(v)) for k, v in report.items() if k not in known and not _is_scalar(v)]
    return {"groups": groups, "samples": token_samples(report.get("samples")), "rest": rest}


def report_sections(reports: dict[str, Any]) -> list[dict[str, Any]]:
    sections = []
    for key, value in (reports or {}).items():
        title = key.replace("_", " ").capitalize()
        if key == "funnel" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            sections.append({"key": key, "type": "funnel", "title": "Corpus funnel", **funnel_section(value)})
        elif key == "samples" and isinstance(value, dict):
            sections.append(
                {"key": key, "type": "samples", "title": "Samples per step", "steps": samples_section(value)}
            )
        elif key == "tokenizer_report":
            sections.append({"key": key, "type": "tokenizer", "title": "Tokenizer report", **tokenizer_section(value)})
        else:
            sections.append({"key": key, "type": "generic", "title": title, "html": render_value(value)})
    return sections
