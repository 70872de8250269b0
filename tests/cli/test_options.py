"""Options defined once: a command's options are its config dataclass's fields."""

from __future__ import annotations

import dataclasses

import pytest

from dexmg_bench.cli import main
from dexmg_bench.cli.options import options
from dexmg_bench.generators.job import GenerateConfig


def _parse(argv):
    """The config tyro builds from ``argv`` for a command with ``n`` defaulting to 2."""
    import tyro

    seen = {}

    def capture(config: options(GenerateConfig, task="Threading", n=2)) -> None:
        seen["config"] = config

    tyro.cli(capture, args=argv)
    return seen["config"]


def test_every_field_is_an_option_with_the_dataclass_help(capsys):
    """`dexmg generate --help` lists each GenerateConfig field with its Attributes text."""
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in dataclasses.fields(GenerateConfig):
        assert f"--{field.name.replace('_', '-')}" in text
    assert "attempt k is a pure function of (seed, k)" in text
    # a field whose help spans two docstring lines reads as one sentence
    assert "noisy replay of the source demos, D0 only" in text


def test_command_defaults_override_the_dataclass_defaults():
    """`options(..., n=2)` makes 2 the default; options given on the line win."""
    assert _parse([]) == GenerateConfig(task="Threading", n=2)
    assert _parse(["--n", "5", "--task", "Coffee"]) == GenerateConfig(task="Coffee", n=5)


def test_a_refused_value_names_the_option():
    """The dataclass's validation error becomes an input error naming --max-attempts."""
    from dexmg_bench.errors import UserInputError

    with pytest.raises(UserInputError, match="--max-attempts must be >= 0"):
        _parse(["--max-attempts", "-1"])


def test_demo_takes_generate_options(capsys):
    """`dexmg demo` has every option of `dexmg generate` plus its own, with n defaulting to 2."""
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in dataclasses.fields(GenerateConfig):
        assert f"--{field.name.replace('_', '-')}" in text
    assert "--size" in text
    assert "successful demos to keep. (default: 2)" in text


def test_options_refuses_unknown_defaults():
    """A default for a field the config lacks is a programming error, raised at import."""
    with pytest.raises(TypeError, match=r"no fields \['m'\]"):
        options(GenerateConfig, m=2)


def test_train_options_are_train_config_fields(capsys):
    """`dexmg train` lists every TrainConfig field but `seed` (it runs one config per --seeds)."""
    from dexmg_bench.baselines.train_config import TrainConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    names = [f.name.replace("_", "-") for f in dataclasses.fields(TrainConfig)]
    for name in names:
        if name in ("seed", "bc-rnn", "diffusion"):
            continue
        assert f"--{name} " in text or f"--{name}, " in text  # flags: --images, --no-images
    assert "--seed " not in text and "--seeds" in text
    assert "--bc-rnn.hidden-dim" in text and "--diffusion.down-dims" in text


def test_eval_options_are_eval_protocol_fields(capsys):
    """`dexmg eval` lists EvalProtocol's fields but the training seeds (the checkpoints' own)."""
    from dexmg_bench.evaluation.protocol import EvalProtocol

    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for field in dataclasses.fields(EvalProtocol):
        name = field.name.replace("_", "-")
        assert (f"--{name} " in text) == (field.name != "training_seeds"), name
    assert "simulator processes. (default: 2)" in text
