"""The options every command gets from its config dataclass (app/options.py), and MLproject's entry points, which
repeat the commands' options and defaults: static checks, no process started."""
from pathlib import Path

import forecast.app
from forecast.app.options import FieldOption

REPO = Path(forecast.app.__file__).resolve().parents[1]


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

    from forecast.app.options import options_from
    from forecast.pipelines.config import given

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
    assert run(toy, ["--data", "x"]).output.strip().endswith(
        ".Toy(data_path='x', windows=3, levels=(0.1, 0.9), force=False, hidden=0)")
    assert "levels=(0.5,)" in run(toy, ["--data", "x", "--levels", "0.5", "--force"]).output
    assert "force=True" in run(toy, ["--data", "x", "--force"]).output
    assert run(toy, []).exit_code == 2 and "--data" in run(toy, []).output       # required: it has no default
    bad = run(toy, ["--data", "x", "--windows", "0"])
    assert bad.exit_code == 2 and "--windows" in bad.output
    bad = run(toy, ["--data", "x", "--levels", "a,b"])
    assert bad.exit_code == 2 and "comma-separated float" in bad.output
    text = run(toy, ["--help"]).output
    assert "[default: 3]" in text and "[default: 0.1,0.9]" in text and "--hidden" not in text
