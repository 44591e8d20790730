"""Score-by-round plot: a PNG the capability_gaps asset embeds in its markdown metadata."""

from __future__ import annotations

import base64
import io


def score_by_round_png(rounds: list[str], series: dict[str, list[float | None]], title: str = "") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for name, values in series.items():
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    ax.set_title(title, fontsize=9)
    return finish_png(fig, ax, rounds, "accuracy")


def finish_png(fig, ax, labels: list[str], ylabel: str) -> bytes:
    """Round labels on x, accuracy in [0, 1] on y, legend; the figure as PNG bytes (closed)."""
    import matplotlib.pyplot as plt

    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
