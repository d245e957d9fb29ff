"""What the widgets put in an Output widget: a Matplotlib figure as PNG, text, a paragraph."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from matplotlib.figure import Figure


def png_output(figure: Figure, label: str) -> dict[str, Any]:
    """The figure as a display_data output (an Output widget's ``outputs`` item)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": png, "text/plain": label},
    }


def text_output(text: str) -> dict[str, Any]:
    """Printed text as an Output widget's ``outputs`` item."""
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


# JupyterLab shows printed text with `word-break: break-all`, which cuts a long sentence
# mid-word at the edge of a widget; a paragraph of HTML wraps between words.
PARAGRAPH_STYLE = "white-space: normal; word-break: normal; overflow-wrap: normal; margin: 0.5em 0"


def paragraph_output(text: str) -> dict[str, Any]:
    """A sentence as an HTML paragraph that wraps between words (plain text for other views)."""
    markup = f'<p class="eventsim-summary" style="{PARAGRAPH_STYLE}">{html.escape(text)}</p>'
    return html_output(markup, text)


def html_output(markup: str, text: str = "<HTML>") -> dict[str, Any]:
    """HTML for an Output widget, rendered by JupyterLab like a cell's HTML output."""
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": markup, "text/plain": text},
    }
