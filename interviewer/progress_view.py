"""Rendering progress: rich tables and terminal charts (plotext), and a PNG (matplotlib)."""

from __future__ import annotations

import threading
from pathlib import Path

# plotext draws on one module-level figure: one chart at a time.
_PLOT_LOCK = threading.Lock()
# plotext's "simple" theme gives successive signals these 256-colour indices; the legend repeats them.
_SERIES_COLORS = [12, 10, 9, 14, 13, 11]


def render_progress(data: dict, console) -> None:
    from rich.table import Table

    if not data["answers"]:
        console.print("No graded answers yet: run `interviewer practice` first.")
        return
    console.print(f"[bold]{data['answers']}[/] graded answers, mean score [bold]{data['mean_score']:.1f}[/]/10, {data['mean_seconds'] or 0:.0f} s per question; {data['due']} due for review")
    t = Table("round", "answers", "mean", "seconds/question", title="By round")
    for r in data["by_round"]:
        t.add_row(r["round"], str(r["answers"]), f"{r['mean_score']:.1f}", f"{r['mean_seconds'] or 0:.0f}")
    console.print(t)
    t = Table("topic", "answers", "mean", "bar", title="By topic (weakest first)")
    for r in data["by_topic"][:15]:
        t.add_row(r["topic"], str(r["answers"]), f"{r['mean_score']:.1f}", "█" * int(round(r["mean_score"])))
    console.print(t)
    if data["by_domain"]:
        t = Table("domain", "answers", "mean", title="By domain")
        for r in data["by_domain"]:
            t.add_row(r["domain"], str(r["answers"]), f"{r['mean_score']:.1f}")
        console.print(t)
    if console.is_terminal:
        chart = trend_chart(data["trend"], min(console.width, 100), 15)
        if chart is not None:
            console.print(chart)
    console.print(f"Weakest topics: {', '.join(data['weakest_topics']) or '-'}")


def trend_chart(trend: list[dict], width: int, height: int = 14):
    """Mean score per day for each round as a rich Text (the CLI prints it, the TUI shows it in a
    Static), or None with fewer than two days of answers."""
    from rich.text import Text

    days = sorted({r["day"] for r in trend})
    if len(days) < 2:
        return None
    import plotext as plt

    rounds = sorted({r["round"] for r in trend})
    with _PLOT_LOCK:
        # The chart goes into a widget, not to this process's terminal: its size is ours to pick.
        plt.terminal.limit(False, False)
        fig = plt.figure
        fig.clear()
        fig.plot_size(max(30, width), height)
        fig.theme("simple")
        for i, rnd in enumerate(rounds):
            pts = [(days.index(r["day"]), r["mean_score"]) for r in trend if r["round"] == rnd]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            line = fig.signal(xs, ys)
            line.lines()
            fig.draw(line)
            # A dot on each day practised, in the line's colour: a round practised once still shows.
            color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
            fig.draw(fig.signal(xs, ys, marker=plt.marker("●", plt.pixel(foreground=color))))
        fig.ruler("y").lim(0, 10)
        step = max(1, len(days) // 6)  # at most about six dates under the axis
        ticks = list(range(0, len(days), step))
        fig.ruler("x").ticks(ticks, [days[i][5:] for i in ticks])
        fig.title("Mean score per day")
        chart = Text.from_ansi(fig.build().string())
    legend = Text("  ")
    for i, rnd in enumerate(rounds):
        legend.append("■ ", style=f"color({_SERIES_COLORS[i % len(_SERIES_COLORS)]})")
        legend.append(rnd + "   ")
    return Text.assemble(chart, "\n", legend)


def plot_png(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    days = sorted({r["day"] for r in data["trend"]})
    for rnd in sorted({r["round"] for r in data["trend"]}):
        pts = [(days.index(r["day"]), r["mean_score"]) for r in data["trend"] if r["round"] == rnd]
        ax1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=rnd)
    ax1.set_xticks(range(len(days)), days, rotation=45, ha="right", fontsize=7)
    ax1.set_ylim(0, 10)
    ax1.set_title("Mean score per day")
    ax1.legend(fontsize=8)
    topics = data["by_topic"][:12]
    ax2.barh([t["topic"] for t in topics], [t["mean_score"] for t in topics], color="tab:orange")
    ax2.set_xlim(0, 10)
    ax2.set_title("Weakest topics")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
