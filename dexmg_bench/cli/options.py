"""Command-line options taken from a config dataclass, so each option is defined once.

``options(GenerateConfig, task="Threading")`` is a type for a subcommand's parameter: tyro
turns the dataclass's fields into that command's ``--options`` (no prefix), with their help
from its ``Attributes:`` docstring and their defaults from the dataclass, or from the keywords
given (a command's own defaults, e.g. ``dexmg demo``'s ``n=2``). A value a config's
``__post_init__`` refuses is an input error naming the option ("--n must be >= 1",
"--bc-rnn.hidden-dim must be >= 1"), not a traceback or a tyro panel.
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
    fields = {f.name for f in dataclasses.fields(config) if f.init}
    unknown = (set(defaults) | set(omit)) - fields
    if unknown:
        raise TypeError(f"{config.__name__} has no fields {sorted(unknown)}")
    build = _constructor(config, defaults, omit=omit, prefix="")
    return Annotated[config, tyro.conf.arg(name="", constructor=build)]


class _Invalid:
    """A nested config its own checks refused: carried up to the command's config, which raises.

    tyro turns an exception raised while it builds a nested config (``--bc-rnn.*``) into a
    panel naming its internal argument path; the command's own config is built where a
    ``UserInputError`` reaches ``dexmg``'s one-line error.
    """

    def __init__(self, message: str) -> None:
        self.message = message


def _constructor(
    config: type, defaults: dict[str, Any], *, omit: tuple[str, ...] = (), prefix: str
) -> Any:
    """A function with one keyword per field of ``config`` that tyro calls to build it.

    A nested config field becomes its own constructor (options ``--<prefix><field>.*``), so a
    value its ``__post_init__`` refuses is named by its full option.
    """
    from dexmg_bench.errors import UserInputError, option_message

    hints = typing.get_type_hints(config)
    parameters = []
    for f in dataclasses.fields(config):
        if not f.init or f.name in omit:
            continue
        default = defaults.get(f.name, f.default)
        if f.name not in defaults and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()  # a frozen dataclass: one shared instance is safe
        annotation = hints[f.name]
        if dataclasses.is_dataclass(annotation) and default is not dataclasses.MISSING:
            inner = {g.name: getattr(default, g.name) for g in dataclasses.fields(default)}
            nested = prefix + f.name.replace("_", "-") + "."
            build_inner = _constructor(annotation, inner, prefix=nested)
            annotation = Annotated[annotation, tyro.conf.arg(constructor=build_inner)]
            default = dataclasses.MISSING  # the nested constructor's keywords hold the defaults
        parameters.append(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if default is dataclasses.MISSING else default,
                annotation=annotation,
            )
        )

    def build(**values: Any) -> Any:
        message = next((v.message for v in values.values() if isinstance(v, _Invalid)), None)
        if message is None:
            try:
                return config(**values)
            except ValueError as err:
                message = option_message(err, prefix)
        if prefix:
            return _Invalid(message)
        raise UserInputError(message)

    build.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    build.__annotations__ = {p.name: p.annotation for p in parameters}
    build.__doc__ = _joined_field_docs(config.__doc__ or "")
    build.__name__ = build.__qualname__ = config.__name__
    return build


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
