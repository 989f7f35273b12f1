"""chart.png: ready time and CPU per message per target, medians with min-max bars.

Both panels use a logarithmic axis: Pyodide boots in seconds where the
JavaScript page opens in tens of milliseconds, and a 10 KB object costs
several times a 100 B one; on a linear axis the small bars would vanish.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file

import matplotlib.pyplot as plt

from bench.pages import connects


def _bars(axis, names: list[str], series: list[tuple[str, list[dict | None]]]) -> None:
    """Grouped bars: one group per target, one bar per series, min-max error bars."""
    width = 0.8 / len(series)
    for index, (label, figures) in enumerate(series):
        xs, heights, low, high, tops = [], [], [], [], []
        for position, figure in enumerate(figures):
            if not figure:
                continue
            xs.append(position + (index - (len(series) - 1) / 2) * width)
            heights.append(figure["median"])
            low.append(figure["median"] - figure["min"])
            high.append(figure["max"] - figure["median"])
            tops.append(figure["max"])
        axis.bar(xs, heights, width, label=label, yerr=[low, high], capsize=3)
        for x, height, top in zip(xs, heights, tops, strict=True):
            axis.annotate(  # the median, above its error bar so the two do not overlap
                ("%.0f" if height >= 100 else "%.3g") % height,
                (x, top),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=7,
            )
    axis.set_xticks(range(len(names)), names, rotation=20, ha="right")
    if axis.has_data():  # every run of these targets failed: leave the panel empty
        axis.set_yscale("log")
    axis.legend()
    axis.grid(axis="y", which="both", alpha=0.3)


def draw(results: dict[str, dict], path: Path, title: str) -> None:
    """Write the two-panel chart to ``path``."""
    names = list(results)
    sockets = [name for name in names if connects(name)]
    figure, (ready, cpu) = plt.subplots(1, 2, figsize=(14, 5.5))
    _bars(
        ready,
        names,
        [
            ("cold", [results[n].get("ready_cold_ms") for n in names]),
            ("warm", [results[n].get("ready_warm_ms") for n in names]),
        ],
    )
    ready.set_ylabel("ms (log)")
    ready.set_title("Ready time: navigation start to first onopen")
    _bars(
        cpu,
        sockets,
        [
            ("100 B", [results[n].get("small_cpu_us") for n in sockets]),
            ("10 KB", [results[n].get("large_cpu_us") for n in sockets]),
        ],
    )
    cpu.set_ylabel("us per message (log)")
    cpu.set_title("Main-thread CPU per message (thread CPU time)")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
