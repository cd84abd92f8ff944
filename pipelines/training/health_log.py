"""Gradient health in MLflow: the run's summary metrics, tags, report artifacts and pictures; and reading a
run's report back for `forecast health`. The measuring is models/health.py's."""
import json
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from forecast.models.forecaster_health import ForecasterHealthMonitor
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.plots import flow_figure, log_figure, time_weights_figure, timestep_share_figure

REPORT = "gradient_health.json"


def steps_to_converge(history: pd.DataFrame, tolerance: float = 0.05) -> int | None:
    """First optimiser step at whose epoch end the validation loss is within 5 % of the run's best."""
    if history.empty or history["val_loss"].isna().all():   # no validation windows: nothing converged to
        return None
    best = history["val_loss"].min()
    return int(history.loc[history["val_loss"] <= best + tolerance * abs(best), "step"].iloc[0])


def render(report: dict) -> str:
    """The readable report: the `gradient_health.md` artifact and what `forecast health` prints."""
    fmt = lambda v, p="{:.4g}": "-" if v is None else p.format(v)  # noqa: E731
    lines = [f"# Gradient health: {report['status'].upper()}", ""]
    if report.get("run_id"):
        lines += [f"Run `{report['run_id']}`; {report['checks']} check(s), every {report['every']} steps.", ""]
    z, r = report["projection_zero_frac"], report["last_quarter_share"]
    lines += ["| figure | value |", "|---|---|",
              f"| exact zeros in temporal_projection's weight gradient, final / max | {fmt(z['final'], '{:.2%}')} / "
              f"{fmt(z['max'], '{:.2%}')} |",
              f"| gradient share of the last quarter of the window, first / final check | {fmt(r['first'], '{:.3f}')} "
              f"/ {fmt(r['final'], '{:.3f}')} |",
              "| steps to converge (validation loss within 5 % of best) | "
              f"{fmt(report.get('steps_to_converge'), '{}')} |",
              f"| output change when the input's time order is shuffled | {fmt(report['order_sensitivity'])} |", ""]
    if report["diagnoses"]:
        lines += ["## Diagnoses", ""]
        lines += [f"- **{d['severity']}** `{d['code']}` ({d['subject']}, step {d['step']}): {d['message']}"
                  for d in report["diagnoses"]]
    else:
        lines += ["No diagnoses: gradients reach every input feature and layer."]
    return "\n".join(lines) + "\n"


def health_tags(report: dict) -> dict[str, str]:
    """The run tags of a gradient-health report: its status and its non-informational diagnoses."""
    codes = ", ".join(f"{d['code']}:{d['subject']}" for d in report["diagnoses"] if d["severity"] != "info")
    return {"health.status": report["status"], "health.diagnoses": codes[:4900] or "none"}


def log_health(monitor: ForecasterHealthMonitor, history: pd.DataFrame, final_step: int, run_id: str) -> dict:
    """Log the monitor's report to the active run: summary metrics, tags, JSON + Markdown, pictures."""
    report = monitor.report(final_step) | {"run_id": run_id, "steps_to_converge": steps_to_converge(history)}
    metrics = {"health/projection_zero_frac_final": report["projection_zero_frac"]["final"],
               "health/projection_zero_frac_max": report["projection_zero_frac"]["max"],
               "health/last_quarter_share_final": report["last_quarter_share"]["final"],
               "health/steps_to_converge": report["steps_to_converge"],
               "health/order_sensitivity": report["order_sensitivity"]}
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None})
    mlflow.set_tags(health_tags(report))
    mlflow.log_dict(report, REPORT)
    mlflow.log_text(render(report), "gradient_health.md")
    if monitor.flow:
        log_figure(flow_figure(monitor.flow), "plots/gradient_flow.png")
    if monitor.detail:     # every value of every check (MLflow charts a summary: models/health.py, `split`)
        _log_csv(pd.DataFrame(monitor.detail), "checks.csv")
    if monitor.profiles:
        log_figure(timestep_share_figure(monitor.profiles), "plots/timestep_share.png")
        _log_csv(pd.DataFrame([[s, *p] for s, p in monitor.profiles],
                              columns=["step", *[f"t{i}" for i in range(len(monitor.profiles[0][1]))]]),
                 "timestep_profiles.csv")
    if monitor.time_weights:
        log_figure(time_weights_figure(monitor.time_weights), "plots/aggregator_weights.png")
    return report


def _log_csv(table: pd.DataFrame, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table.to_csv(Path(tmp) / name, index=False)
        mlflow.log_artifact(str(Path(tmp) / name), "health")


def read_health(run_id: str) -> dict:
    """A run's gradient-health report, from whatever store MLflow points at."""
    client = mlflow.tracking.MlflowClient()
    try:
        client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise ForecastError(f"no run {run_id!r} in {mlflow.get_tracking_uri()}") from None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return json.loads(Path(client.download_artifacts(run_id, REPORT, tmp)).read_text())
    except (mlflow.exceptions.MlflowException, OSError):
        raise ForecastError(f"run {run_id} has no gradient-health report (trained with --health-every 0?)") from None
