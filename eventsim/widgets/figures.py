"""One helper the widgets share: a Matplotlib figure as an Output widget's PNG."""

from __future__ import annotations

import base64
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
