"""Figures logged with a run. Matplotlib with the Agg backend: no display needed."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecast.data.schema import ID, TIME  # noqa: E402
from forecast.data.windows import Panel  # noqa: E402


def forecast_figure(panel: Panel, table: pd.DataFrame, quantiles: tuple[float, ...], max_series: int = 4,
                    context: int = 96):
    """Actual vs forecast (median, outer quantile band, seasonal naive) on the last test window of a few series."""
    shown = list(dict.fromkeys(table[ID]))[:max_series]
    fig, axes = plt.subplots(len(shown), 1, figsize=(10, 2.6 * len(shown)), squeeze=False)
    lo, hi = f"q{quantiles[0]}", f"q{quantiles[-1]}"
    for ax, sid in zip(axes[:, 0], shown):
        rows = table[(table[ID] == sid) & (table["origin"] == table.loc[table[ID] == sid, "origin"].max())]
        i = int(np.flatnonzero(panel.ids == sid)[0])
        a, b = panel.offsets[i], panel.offsets[i + 1]
        first = pd.Index(panel.timestamps[a:b]).get_loc(rows[TIME].iloc[0])
        hist = slice(a + max(0, first - context), a + first)
        ax.plot(panel.timestamps[hist], panel.raw_target[hist], color="0.3", lw=1, label="history")
        ax.plot(rows[TIME], rows["actual"], color="black", lw=1.5, label="actual")
        ax.plot(rows[TIME], rows["prediction"], color="tab:blue", lw=1.5, label="forecast (median)")
        ax.fill_between(rows[TIME], rows[lo], rows[hi], color="tab:blue", alpha=0.2, label=f"{lo}-{hi}")
        ax.plot(rows[TIME], rows["seasonal_naive"], color="tab:orange", lw=1, ls="--", label="seasonal naive")
        ax.set_title(str(sid), fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=7, loc="upper left", ncol=5)
    fig.tight_layout()
    return fig


def loss_figure(history: pd.DataFrame):
    """Train and validation loss per epoch."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for column in ("train_loss", "val_loss"):
        if column in history:
            ax.plot(history["epoch"], history[column], marker="o", ms=3, label=column)
    ax.set_xlabel("epoch")
    ax.set_ylabel("pinball loss (scaled)")
    ax.legend()
    fig.tight_layout()
    return fig


def log_figure(fig, artifact_path: str) -> None:
    """Log a figure to the active MLflow run as a PNG and free it."""
    import mlflow

    mlflow.log_figure(fig, artifact_path)
    plt.close(fig)


def flow_figure(flow: list[tuple[int, dict]]):
    """Gradient flow: log10 gradient norm per parameter group (rows, input side first) over checks."""
    steps = [s for s, _ in flow]
    groups = list(flow[0][1])
    values = np.log10(np.array([[f.get(g, np.nan) for _, f in flow] for g in groups]) + 1e-30)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(groups) + 1.5))
    image = ax.imshow(values, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(groups)), groups, fontsize=7)
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 8)).astype(int)
    ax.set_xticks(ticks, [steps[i] for i in ticks], fontsize=7)
    ax.set_xlabel("step")
    fig.colorbar(image, ax=ax, label="log10 gradient norm")
    fig.tight_layout()
    return fig


def timestep_share_figure(profiles: list[tuple[int, list[float]]]):
    """Share of the gradient at the projection output per input timestep (columns), over checks (rows)."""
    values = np.array([p for _, p in profiles])
    fig, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(values, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_xlabel("input timestep (right = most recent)")
    ticks = np.linspace(0, len(profiles) - 1, min(len(profiles), 8)).astype(int)
    ax.set_yticks(ticks, [profiles[i][0] for i in ticks], fontsize=7)
    ax.set_ylabel("step")
    fig.colorbar(image, ax=ax, label="gradient share")
    fig.tight_layout()
    return fig


def time_weights_figure(weights: list[float]):
    """The aggregator's weight per timestep (mean over the last checked batch)."""
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(range(len(weights)), weights, color="tab:blue")
    ax.axhline(1.0 / len(weights), color="0.4", ls="--", lw=1, label="uniform (mean pooling)")
    ax.set_xlabel("input timestep (right = most recent)")
    ax.set_ylabel("weight")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def error_by_step_figure(by_step: dict):
    """MAE per horizon step for the model and the two baselines."""
    steps = sorted(by_step)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for method, style in (("model", "-"), ("snaive", "--"), ("naive", ":")):
        ax.plot(steps, [by_step[s][method].mae for s in steps], style, marker="o", ms=3,
                label={"model": "model", "snaive": "seasonal naive", "naive": "naive"}[method])
    ax.set_xlabel("horizon step")
    ax.set_ylabel("MAE")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def validation_curves_figure(curves: dict[str, list[list[dict]]]):
    """Validation loss per epoch for each aggregator: the mean over seeds, with each seed faint."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, runs) in enumerate(curves.items()):
        color = f"C{i}"
        frames = [pd.DataFrame(run) for run in runs if run]
        for frame in frames:
            ax.plot(frame["epoch"], frame["val_loss"], color=color, alpha=0.25, lw=1)
        if frames:
            mean = pd.concat(frames).groupby("epoch")["val_loss"].mean()
            ax.plot(mean.index, mean.values, color=color, lw=2, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation pinball loss (scaled)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
