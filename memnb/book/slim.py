"""Keep a published chapter notebook small enough to commit.

The executed ``cpu`` notebooks are committed beside ``results/cpu/`` (``book/chapters/``), so
every byte stays in the repository's history. ``slim(nb)`` removes what a reader does not need
and caps what could grow without bound; figures stay as they are (PNG at ``figure.dpi`` = 110,
``memnb.plotting``), since they are the page:

- widget outputs (``application/vnd.jupyter.widget-*``: a progress bar's state, useless
  without a live kernel) are dropped;
- a stream (stdout/stderr) longer than ``MAX_LINES`` lines keeps its first and last lines
  with a note of how many were cut;
- a rich output (HTML table, ...) over ``MAX_RICH_CHARS`` characters is replaced by its
  ``text/plain`` form, with a note.

It returns the number of outputs changed; the notebook is edited in place.
"""

from __future__ import annotations

MAX_LINES = 120
MAX_RICH_CHARS = 200_000
_KEEP_HEAD = 80


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def slim(nb) -> int:
    changed = 0
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                widget = [k for k in data if k.startswith("application/vnd.jupyter.widget")]
                for k in widget:
                    del data[k]
                big = [k for k in data if k not in ("text/plain", "image/png") and len(_text(data[k])) > MAX_RICH_CHARS]
                for k in big:
                    del data[k]
                if big:
                    note = f"\n[{', '.join(big)} output over {MAX_RICH_CHARS} characters cut by memnb.book.slim]"
                    data["text/plain"] = _text(data.get("text/plain", "")) + note
                if widget or big:
                    changed += 1
                if not data:
                    continue
            if out.get("output_type") == "stream":
                lines = _text(out.get("text", "")).splitlines(keepends=True)
                if len(lines) > MAX_LINES:
                    tail = MAX_LINES - 1 - _KEEP_HEAD  # the note is a line: the result has MAX_LINES
                    cut = len(lines) - (MAX_LINES - 1)
                    out["text"] = "".join(lines[:_KEEP_HEAD] + [f"[... {cut} lines cut ...]\n"] + lines[-tail:])
                    changed += 1
            outputs.append(out)
        if "outputs" in cell:
            cell["outputs"] = outputs
    return changed
