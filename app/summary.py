"""What the commands print when they finish."""
import math

import click

from forecast.data.errors import cut, some

METRICS = ("mae", "rmse", "smape", "mase")
UI_PORT = 5050   # not 5000, where `forecast serve` and `mlflow models serve` listen by default


def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def print_training(result) -> None:
    r, m = result.report, result.metrics
    click.echo(f"\nData: {r.series} series, {r.rows_regular} points, frequency {r.frequency}, "
               f"season {r.season_length}, seq_len {r.seq_len}, horizon {r.horizon} ({r.horizon_source})")
    feats = r.covariates + r.known_covariates
    click.echo(f"Covariates used: {', '.join(feats) if feats else 'none'}; calendar: "
               f"{', '.join(r.calendar_features) or 'none'}")
    click.echo(f"Trained {result.epochs} epoch(s) in {result.seconds:.0f}s ({result.windows_per_second:,.0f} training "
               f"windows/s); windows train/val/test "
               f"{r.windows['train']}/{r.windows['val']}/{r.windows['test']}")
    click.echo(f"Stopped by {result.stopped}\n" if result.stopped else "")
    if r.windows["test"] == 0:
        click.echo("No test score: no series is long enough for a test part (see the warning above); score the "
                   "model on later data with forecast backtest")
    else:
        _test_table(m, r)
    click.echo(f"\nRun {result.run_id}; {'registered ' if result.version else 'model at '}{result.model_uri}")
    click.echo(f"See it: mlflow ui --port {UI_PORT} --backend-store-uri {_store()}, then open "
               f"{_run_page(result.run_id)}")


def print_pretraining(results) -> None:
    for r in results:
        click.echo(f"{r.layout}: {r.steps} steps in {r.seconds / 60:.1f} min over {r.windows:,} windows of "
                   f"{r.series:,} series; best validation loss {r.best_val_loss:.4f}; stopped by {r.stopped}")
        click.echo(f"  checkpoint {r.path} ({r.path.stat().st_size / 2**20:.1f} MB); run {r.run_id}")


def _test_table(m: dict, r) -> None:
    series = r.series - r.series_without_test
    click.echo(f"test: {r.windows['test']} window(s) of {r.horizon} steps over {series} series"
               + (" (few: a noisy score; --test-windows N adds origins)" if r.windows["test"] < 10 else ""))
    click.echo(f"{'':<16}{'MAE':>10}{'RMSE':>10}{'sMAPE %':>10}{'MASE':>10}")
    for label, prefix in (("model", "test"), ("seasonal naive", "snaive"), ("naive", "naive")):
        click.echo(f"{label:<16}" + "".join(f"{_fmt(m.get(f'{prefix}_{k}')):>10}" for k in METRICS))
    coverage = next((k for k in m if k.startswith("test_coverage_")), None)
    if coverage:
        low, high = (float(q[1:]) for q in coverage[len("test_coverage_"):].split("_"))
        click.echo(f"pinball {_fmt(m['test_pinball'])}; the {low:g}-{high:g} interval covered {_fmt(m[coverage])} of "
                   f"the actual values (nominal {high - low:.2g})")


def _store() -> str:
    """The tracking store the run went to, as `mlflow ui` takes it."""
    import mlflow

    return mlflow.get_tracking_uri()


def _run_page(run_id: str) -> str:
    """The run's page in `mlflow ui`, in its "Model training" view (MLflow 3.17's UI opens on its GenAI view
    otherwise, whatever the experiment's kind tag says)."""
    import mlflow

    experiment = mlflow.MlflowClient().get_run(run_id).info.experiment_id
    return f"http://127.0.0.1:{UI_PORT}/#/experiments/{experiment}/runs/{run_id}?workflowType=machine_learning"


def _accuracy_table(overall: dict) -> None:
    click.echo(f"{'':<16}{'MAE':>10}{'RMSE':>10}{'sMAPE %':>10}{'MASE':>10}")
    for label, method in (("model", "model"), ("seasonal naive", "snaive"), ("naive", "naive")):
        click.echo(f"{label:<16}" + "".join(f"{_fmt(getattr(overall[method], k)):>10}" for k in METRICS))


def print_backtest(result) -> None:
    click.echo(f"Backtest: {result.series} series x {result.windows} origin(s)\n")
    _accuracy_table(result.accuracy.overall)
    m = result.accuracy.overall["model"]
    click.echo(f"pinball {_fmt(m.pinball)}; interval coverage {_fmt(m.coverage)}")
    by_step = result.accuracy.by_step
    click.echo("MAE by step (model / seasonal naive): " + ", ".join(
        f"{s}: {_fmt(by_step[s]['model'].mae)}/{_fmt(by_step[s]['snaive'].mae)}" for s in sorted(by_step)[:6])
        + (" ..." if len(by_step) > 6 else ""))
    click.echo(f"\nRun {result.run_id}: backtest/accuracy.json, backtest/per_series.csv, plots")


def print_forecasts(forecasts, output: str, model: str = "") -> None:
    fallback = forecasts.loc[forecasts["method"] != "model", "series_id"].unique()
    n = forecasts["series_id"].nunique()
    click.echo(f"Wrote {len(forecasts)} rows ({n} series x {forecasts['step'].max()} steps) to {output}"
               + (f" with {model}" if model else ""))
    if len(fallback):
        click.echo(f"warning: {len(fallback)} series too short for the model got a fallback forecast "
                   f"(see the `method` column): {some(fallback)}", err=True)
    preview = forecasts.head(12)
    text = preview.select_dtypes("object").columns
    shown = {c: preview[c].map(lambda v: cut(v if str(v).isprintable() else repr(v)[1:-1], 40)) for c in text}
    click.echo(preview.assign(**shown).to_string(index=False))   # a 200 kB id, a terminal escape: cut, escaped


def print_spark_forecasts(result) -> None:
    click.echo(f"Wrote {result.rows} rows ({result.series} series) to {result.output} on Spark ({result.master})")
    if result.fallback:
        click.echo(f"warning: {result.fallback} series too short for the model got a fallback forecast "
                   "(see the `method` column)", err=True)


def print_compare(result) -> None:
    s = result.summary
    click.echo(f"\n{'aggregator':<12}{'test MASE':>18}{'snaive':>9}{'steps to conv.':>16}{'proj. zeros':>13}"
               f"{'recent share':>14}{'train s':>9}")
    for r in s.itertuples():
        spread = f"{_fmt(r.test_mase_mean)} +- {_fmt(r.test_mase_std)}"
        click.echo(f"{r.aggregator:<12}{spread:>18}{_fmt(r.snaive_mase):>9}{_fmt(r.steps_to_converge):>16}"
                   f"{_fmt(r.projection_zero_frac):>13}{_fmt(r.last_quarter_share):>14}{r.train_seconds:>9.0f}")
    click.echo(f"\n{len(result.runs)} runs nested under {result.run_id}: compare/summary.csv, compare/runs.csv, "
               "plots/validation_curves.png")


def print_benchmark(result) -> None:
    b = result.budget
    click.echo(f"\nBudget for every trained model: up to {b.max_epochs} epochs"
               + (f" / {b.max_steps} steps" if b.max_steps > 0 else "")
               + (f" within {b.time_budget:.0f} s" if b.time_budget else "")
               + f", early stopping after {b.patience} epochs without validation gain, batch {b.batch_size}, "
               f"gradient clip {b.grad_clip}; test: {result.test_windows} window(s) per series\n")
    click.echo(f"{'model':<30}{'test MASE':>18}{'MAE':>10}{'sMAPE %':>10}{'pinball':>10}{'train s':>9}"
               f"{'predict s':>10}{'params':>10}  health")
    from forecast.pipelines.experiments.benchmark import LABELS
    for r in result.table.itertuples():
        mase = _fmt(r.mase) + (f" +- {r.mase_std:.2g}" if r.seeds > 1 else "")
        params = "-" if math.isnan(r.n_parameters) else f"{int(r.n_parameters):,}"
        click.echo(f"{LABELS.get(r.model, r.model):<30}{mase:>18}{_fmt(r.mae):>10}{_fmt(r.smape):>10}"
                   f"{_fmt(r.pinball):>10}{_fmt(r.train_seconds):>9}{_fmt(r.predict_seconds):>10}{params:>10}"
                   f"  {r.health if isinstance(r.health, str) and r.health else '-'}")
    diagnosed = [(LABELS.get(r.model, r.model), r.diagnoses) for r in result.table.itertuples()
                 if isinstance(r.diagnoses, str) and r.diagnoses]
    if diagnosed:
        click.echo("\nGradient-health diagnoses (every seed; the runs' gradient_health.json say why and what to do):")
        for label, diagnoses in diagnosed:
            click.echo(f"  {label}: {diagnoses}")
    click.echo(f"\n{len(result.runs)} runs nested under {result.run_id}: benchmark/table.csv, benchmark/runs.csv")


def print_promotion(r, model_name: str) -> None:
    click.echo(f"Backtest on {r.windows} window(s) per series after the data both models saw: MASE champion "
               f"(version {r.champion}) {r.champion_mase:.4f}, challenger (version {r.challenger}) "
               f"{r.challenger_mase:.4f}; the challenger's gain over {r.cases} window(s): t = {r.t:.2f}")
    click.echo(f"{'Promoted' if r.promoted else 'Kept the champion'}: {r.reason}; "
               f"models:/{model_name}@champion is version {r.challenger if r.promoted else r.champion} "
               f"(decision logged as run {r.run_id})")
