"""Click options generated from the config dataclasses, so names, help and defaults have one source.

Every option defaults to None ("not given"); `given()` (pipelines/config.py) keeps only what the user set, and
the dataclass supplies the rest. Tuple fields take comma-separated values; bool fields become --x/--no-x flags.
A field's metadata gives its help, and optionally its flag (`option`: --data for `data_path`), old flags it
still takes (`aliases`: --theta-combination for `combination`), an environment variable (`envvar`) and a range
(`min`, `max`, `min_open`, `max_open`: click refuses values outside, exit 2). A field
without a default is a required option.
"""
import types
import typing
from dataclasses import MISSING, fields

import click


def _parse_tuple(item_type):
    def parse(value):
        if value is None:
            return None
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        try:
            return tuple(item_type(p) for p in parts)
        except ValueError:
            raise click.BadParameter(f"expected comma-separated {item_type.__name__} values, got {value!r}") from None
    return parse


class FieldOption(click.Option):
    """An option made from a dataclass field; `field_default` is the value used when it is not given."""

    def __init__(self, *args, field_default=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_default = field_default


class AutoInt(click.ParamType):
    """A whole number (at least `low`), or `auto`: None, the config decides."""
    name = "integer|auto"

    def __init__(self, low: int | None = None):
        self.low = low

    def convert(self, value, param, ctx):
        if value is None or value == "auto" or isinstance(value, int):
            return None if value == "auto" else value
        if not str(value).isdigit() or (self.low is not None and int(value) < self.low):
            self.fail(f"expected auto or a whole number of at least {self.low}, got {value!r}", param, ctx)
        return int(value)


def _type(base, meta):
    """The click type: `auto` or a number where the metadata says `auto`; a range where it gives bounds."""
    if meta.get("auto"):
        return AutoInt(meta.get("min"))
    if "min" not in meta and "max" not in meta:
        return base
    kind = click.IntRange if base is int else click.FloatRange
    return kind(meta.get("min"), meta.get("max"), min_open=meta.get("min_open", False),
                max_open=meta.get("max_open", False))


def _click_option(field, hint):
    meta, required = field.metadata, field.default is MISSING
    name = meta.get("option", field.name).replace("_", "-")
    default = None if required else field.default
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    default = shown if shown not in (None, ()) else "auto"
    help_text = meta.get("help", "") + ("" if required else f" [default: {default}]")
    base = typing.get_args(hint)[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
    common = dict(cls=FieldOption, field_default=default, help=help_text, required=required)
    if not required:   # click 8.5 counts an explicit default=None as given, so a required option has none
        common["default"] = None
    if base is bool:
        flags = [f"--{n}/--no-{n}" for n in (name, *meta.get("aliases", ()))]
        return click.option(*flags, field.name, **common)
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        return click.option(f"--{name}", field.name, type=str, **common,
                            callback=lambda ctx, param, value: _parse_tuple(item)(value))
    return click.option(f"--{name}", field.name, type=_type(base, meta), envvar=meta.get("envvar"), **common)


def options_from(*classes, exclude=()):
    """Decorator adding one option per user-settable field of each dataclass (skips `derived` fields)."""
    def decorator(f):
        for cls in reversed(classes):
            hints = typing.get_type_hints(cls)
            for field in reversed(fields(cls)):
                if field.metadata.get("derived") or field.name in exclude or "help" not in field.metadata:
                    continue
                f = _click_option(field, hints[field.name])(f)
        return f
    return decorator


def option_for(cls, name: str):
    """The option of one field of `cls`, for a command that takes it without the rest of the dataclass."""
    field = next(f for f in fields(cls) if f.name == name)
    return _click_option(field, typing.get_type_hints(cls)[name])


