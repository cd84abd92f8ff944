"""The MLproject entry points through `mlflow run`, which starts the run itself (MLFLOW_RUN_ID)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import forecast.app
from forecast.app.options import FieldOption

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)

REPO = Path(forecast.app.__file__).resolve().parents[1]


def test_train_and_backtest_entry_points_log_into_the_run_mlflow_started(tmp_path, make_frame):
    make_frame(n_series=2, length=150).to_csv(tmp_path / "d.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # a fresh environment for MLflow: earlier in-process tests leave MLFLOW_EXPERIMENT_ID of another store behind
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=uri, PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    mlflow = [sys.executable, "-m", "mlflow", "run", str(REPO), "--env-manager", "local"]
    done = subprocess.run([*mlflow, "-e", "train", "-P", f"data={tmp_path / 'd.csv'}", "-P", "max_epochs=1",
                           "-P", "model_name=projected"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run([*mlflow, "-e", "backtest", "-P", f"data={tmp_path / 'd.csv'}", "-P", "windows=2",
                           "-P", "model=models:/projected/1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    (trained,) = [r for r in runs if "test_mase" in r.data.metrics]
    assert trained.data.params["max_epochs"] == "1" and str(client.search_model_versions("name='projected'")[0].version) == "1"
    (tested,) = [r for r in runs if r.data.tags.get("forecast.kind") == "backtest"]
    assert "backtest_mase" in tested.data.metrics


def _default(option) -> str:
    """An option's default as MLproject writes it: the config field's where the option comes from one."""
    value = option.field_default if isinstance(option, FieldOption) else option.default
    return "auto" if value is None else ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def test_every_entry_point_is_a_command_whose_options_and_defaults_it_repeats():
    import re

    import yaml

    from forecast.app.cli import main

    entries = yaml.safe_load((REPO / "MLproject").read_text())["entry_points"]
    assert set(entries) == {"train", "predict", "backtest", "promote", "compare", "benchmark"}
    for name, entry in entries.items():
        command = main.commands[name]
        options = {o: p for p in command.params for o in p.opts}
        used = dict((param, flag) for flag, param in re.findall(r"(--[\w-]+) \{(\w+)\}", entry["command"]))
        assert set(used.values()) <= set(options), name
        assert all(flag == "--" + param.replace("_", "-") for param, flag in used.items()), name
        assert set(used) == set(entry["parameters"]), name
        for param, spec in entry["parameters"].items():
            if isinstance(spec, dict) and "default" in spec:
                assert spec["default"] == _default(options[used[param]]), f"{name}: {param}"


def test_options_come_from_the_config_fields_with_one_default_each():
    """options_from: a field's flag, help with its default, required where it has none, ranges refused by click."""
    from dataclasses import dataclass, field

    import click
    from click.testing import CliRunner

    from forecast.app.options import given, options_from

    @dataclass(frozen=True)
    class Toy:
        data_path: str = field(metadata={"option": "data", "help": "Input."})
        windows: int = field(default=3, metadata={"help": "Origins.", "min": 1})
        levels: tuple[float, ...] = field(default=(0.1, 0.9), metadata={"help": "Levels."})
        force: bool = field(default=False, metadata={"help": "Force."})
        hidden: int = field(default=0, metadata={"derived": True})

    @click.command()
    @options_from(Toy)
    def toy(**options):
        click.echo(repr(given(Toy, options)))

    run = CliRunner().invoke
    assert run(toy, ["--data", "x"]).output.strip() == "test_options_come_from_the_config_fields_with_one_default_each.<locals>.Toy(data_path='x', windows=3, levels=(0.1, 0.9), force=False, hidden=0)"
    assert "levels=(0.5,)" in run(toy, ["--data", "x", "--levels", "0.5", "--force"]).output
    assert "force=True" in run(toy, ["--data", "x", "--force"]).output
    assert run(toy, []).exit_code == 2 and "--data" in run(toy, []).output       # required: it has no default
    bad = run(toy, ["--data", "x", "--windows", "0"])
    assert bad.exit_code == 2 and "--windows" in bad.output
    bad = run(toy, ["--data", "x", "--levels", "a,b"])
    assert bad.exit_code == 2 and "comma-separated float" in bad.output
    text = run(toy, ["--help"]).output
    assert "[default: 3]" in text and "[default: 0.1,0.9]" in text and "--hidden" not in text
