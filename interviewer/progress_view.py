"""Rendering progress: rich tables and terminal charts (plotext), and a PNG (matplotlib)."""

from __future__ import annotations

from pathlib import Path


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
    days = sorted({r["day"] for r in data["trend"]})
    if len(days) >= 2 and console.is_terminal:
        import plotext as plt

        plt.clear_figure()
        for rnd in sorted({r["round"] for r in data["trend"]}):
            pts = [(days.index(r["day"]), r["mean_score"]) for r in data["trend"] if r["round"] == rnd]
            plt.plot([p[0] for p in pts], [p[1] for p in pts], label=rnd)
        plt.ylim(0, 10)
        plt.title("Mean score per day")
        plt.plotsize(min(console.width, 100), 15)
        console.print(plt.build(), markup=False, highlight=False)
    console.print(f"Weakest topics: {', '.join(data['weakest_topics']) or '-'}")


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
