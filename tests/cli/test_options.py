"""Options defined once: a command's options are its config dataclass's fields."""

from __future__ import annotations

import dataclasses

import pytest

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig
from dexmg_bench.baselines.train_config import TrainConfig
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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bc-rnn.hidden-dim", "-5"], "--bc-rnn.hidden-dim must be >= 1. Got -5."),
        (["--bc-rnn.rollout", "nope"], "--bc-rnn.rollout must be one of"),
        (["--bc-rnn.encoder.width", "0"], "--bc-rnn.encoder.width"),
        (["--diffusion.kernel-size", "0"], "--diffusion.kernel-size must be >= 1"),
        (["--diffusion.horizon", "3"], "must be <= horizon (3)"),
    ],
)
def test_a_refused_nested_value_is_one_line_naming_its_option(argv, message, tmp_path, capsys):
    """`dexmg train --bc-rnn.hidden-dim -5`: exit 2 with one line, not tyro's panel."""
    base = ["train", "--dataset", "dexmg/threading-source-v0", "--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as stopped:
        main([*base, *argv])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("dexmg: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "tyro" not in err


def test_nested_options_keep_their_defaults():
    """Only the options given change a nested config; the rest keep the dataclass defaults."""
    import tyro

    seen = {}

    def capture(config: options(TrainConfig, omit=("seed",))) -> None:
        seen["config"] = config

    tyro.cli(capture, args=["--dataset", "d/x-v0", "--bc-rnn.seq-len", "20"])
    assert seen["config"] == TrainConfig(dataset="d/x-v0", bc_rnn=BCRNNConfig(seq_len=20))


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
