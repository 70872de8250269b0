"""Command-line options taken from a config dataclass, so each option is defined once.

``options(GenerateConfig, task="Threading")`` is a type for a subcommand's parameter: tyro
turns the dataclass's fields into that command's ``--options`` (no prefix), with their help
from its ``Attributes:`` docstring and their defaults from the dataclass, or from the keywords
given (a command's own defaults, e.g. ``dexmg demo``'s ``n=2``). The config is built through
``errors.from_options``, so a value its ``__post_init__`` refuses is an input error naming the
option ("--n must be >= 1"), not a traceback.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Annotated, Any

import tyro


def options(config: type, *, omit: tuple[str, ...] = (), **defaults: Any) -> Any:
    """The parameter type whose options are ``config``'s fields, validated as input.

    ``omit`` leaves fields off the command line (they keep the dataclass's defaults), for a
    command that sets them itself (``dexmg train`` runs one config per ``--seeds`` value).
    """
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"options() takes a dataclass, not {config!r}")
    from dexmg_bench.errors import from_options

    fields = {f.name: f for f in dataclasses.fields(config) if f.init}
    unknown = (set(defaults) | set(omit)) - set(fields)
    if unknown:
        raise TypeError(f"{config.__name__} has no fields {sorted(unknown)}")
    hints = typing.get_type_hints(config)
    parameters = []
    for name, f in fields.items():
        if name in omit:
            continue
        default = defaults.get(name, f.default)
        if name not in defaults and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()  # a frozen dataclass: one shared instance is safe
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if default is dataclasses.MISSING else default,
                annotation=hints[name],
            )
        )

    def build(**values: Any) -> Any:
        return from_options(config, **values)

    build.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    build.__annotations__ = {p.name: p.annotation for p in parameters}
    build.__doc__ = _joined_field_docs(config.__doc__ or "")
    build.__name__ = build.__qualname__ = config.__name__
    return Annotated[config, tyro.conf.arg(name="", constructor=build)]


def _joined_field_docs(doc: str) -> str:
    """The docstring with each field's continuation lines joined onto its first line.

    tyro reads a dataclass's ``Attributes:`` as help text but keeps the line breaks of a
    function's, which would break the help of every option that spans two lines.
    """
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    field_indent = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if re.match(r"^(Attributes|Args):\s*$", line.strip()):
            field_indent = None
            out.append(line)
        elif out and line.strip() and field_indent is not None and indent > field_indent:
            out[-1] += " " + line.strip()
        else:
            if line.strip() and field_indent is None and out and out[-1].strip().endswith(":"):
                field_indent = indent
            out.append(line)
    return "\n".join(out)
