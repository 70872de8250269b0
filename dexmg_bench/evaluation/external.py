"""Policies trained outside dexmg-bench, named by one spec string for the standard evaluator.

``sb3:PATH.zip`` is a stable-baselines3 model, ``robomimic:PATH.pth`` a robomimic checkpoint and
``module:callable`` any importable factory (or a plain ``obs -> action`` function). A spec is a
small frozen value, so it pickles: whichever process runs a policy rebuilds it from the string,
and every input error (missing file, unknown kind, module or attribute) is a ``UserInputError``
raised by ``check`` before any simulator starts.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pickle
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dexmg_bench.errors import UserInputError, reading
from dexmg_bench.evaluation.rollout import Policy

Kind = Literal["sb3", "robomimic", "module"]
FORMS = "sb3:PATH.zip, robomimic:PATH.pth or module:callable"
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# ``x:model.zip`` is a misspelt kind, not attribute ``zip`` of ``model`` in module ``x``.
_FILE_SUFFIXES = {".zip", ".pth", ".pt", ".ckpt", ".pkl", ".onnx", ".safetensors", ".npz"}
# Algorithms the zip's policy class points to; DDPG saves TD3's policy and loads the same way.
_SB3_BY_POLICY_MODULE = {
    "stable_baselines3.sac.policies": "SAC",
    "stable_baselines3.td3.policies": "TD3",
}
_SB3_COMMON = ("PPO", "SAC", "TD3", "A2C", "DDPG")
# Not an extra: PyPI's torchvision 0.28 (the build for torch 2.13) is a CUDA build, which fails to
# import next to the CPU-only torch; install a CPU build of it next to robomimic.
ROBOMIMIC_INSTALL = "robomimic==0.3.0, six and a torchvision built for your torch"


@dataclass(frozen=True)
class ExternalPolicy:
    """A policy factory made from a ``--policy`` spec; calling it builds one fresh policy."""

    kind: Kind
    target: str

    @classmethod
    def parse(cls, spec: str) -> ExternalPolicy:
        """Split ``KIND:TARGET``; a prefix other than ``sb3``/``robomimic`` names a module."""
        prefix, sep, rest = spec.partition(":")
        if not sep or not rest or not prefix:
            raise UserInputError(f"--policy {spec!r}: give {FORMS}.")
        if prefix in ("sb3", "robomimic"):
            return cls(kind=prefix, target=rest)  # type: ignore[arg-type]
        looks_like_a_file = Path(rest).suffix in _FILE_SUFFIXES
        if _DOTTED.fullmatch(prefix) and _DOTTED.fullmatch(rest) and not looks_like_a_file:
            return cls(kind="module", target=spec)
        raise UserInputError(f"--policy {spec}: unknown policy kind {prefix!r}; give {FORMS}.")

    def __str__(self) -> str:
        return self.target if self.kind == "module" else f"{self.kind}:{self.target}"

    @property
    def name(self) -> str:
        """The checkpoint name in results and video file names: the file stem or callable name."""
        if self.kind == "module":
            return self.target.rpartition(":")[2]
        return Path(self.target).stem

    def check(self) -> None:
        """Fail on bad input now, before any simulator starts.

        A file is loaded once (cheap next to a rollout); a factory is only resolved, not called.
        """
        if self.kind == "module":
            _resolve(self.target)
        else:
            self()

    def __call__(self) -> Policy:
        """One fresh policy (each worker slot gets its own: recurrent state is per episode)."""
        if self.kind == "sb3":
            return _sb3_policy(Path(self.target))
        if self.kind == "robomimic":
            return RobomimicPolicy(Path(self.target))
        return _module_policy(self.target)


def _sb3_algorithm(path: Path) -> str:
    """The SB3 algorithm class that saved ``path``, read from the policy class in its zip."""
    try:
        import stable_baselines3
    except ImportError as err:
        raise UserInputError(
            f"--policy sb3:{path} needs stable-baselines3: pip install 'dexmg-bench[baselines]'"
        ) from err
    with reading(path, "a stable-baselines3 model .zip"):
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    module = str(data.get("policy_class", {}).get("__module__", ""))
    if module and not module.startswith("stable_baselines3."):
        raise UserInputError(
            f"--policy sb3:{path} was saved by {module.partition('.')[0]}; only stable_baselines3 "
            "algorithms load here (wrap others with --policy module:callable)."
        )
    if module in _SB3_BY_POLICY_MODULE:
        return _SB3_BY_POLICY_MODULE[module]
    if module == "stable_baselines3.common.policies":  # on-policy: PPO has a clip range
        return "PPO" if "clip_range" in data else "A2C"
    for algo in _SB3_COMMON:  # an unreadable policy class: the first class that loads it
        try:
            getattr(stable_baselines3, algo).load(str(path), device="cpu")
        except (KeyError, ValueError, RuntimeError, TypeError, AttributeError):
            continue
        return algo
    raise UserInputError(f"--policy sb3:{path}: none of {', '.join(_SB3_COMMON)} can load it.")


def _sb3_policy(path: Path) -> Policy:
    from dexmg_bench.baselines.adapters import SB3Policy

    policy = SB3Policy(path, algo=_sb3_algorithm(path), deterministic=True)
    if policy.keys is None:
        raise UserInputError(
            f"--policy sb3:{path} was trained on a {type(policy.model.observation_space).__name__}"
            " observation; the evaluator passes the env's Dict observation (train with "
            "MultiInputPolicy, or adapt it with --policy module:callable)."
        )
    return policy


def _resolve(target: str) -> Any:
    """Import ``module:attr.path``; the working folder is importable, as for ``python -m``."""
    module_name, _, attr = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise UserInputError(f"--policy {target}: cannot import {module_name!r} ({err})") from err
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UserInputError(f"--policy {target}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj) and not _is_policy(obj):
        raise UserInputError(
            f"--policy {target}: {attr} is a {type(obj).__name__}; give a factory returning a "
            "policy (reset() and act(obs)), or a function obs -> action."
        )
    return obj


def _is_policy(obj: Any) -> bool:
    """An instance (not a class) with the evaluator's ``reset`` and ``act``."""
    if inspect.isclass(obj):
        return False
    return callable(getattr(obj, "act", None)) and callable(getattr(obj, "reset", None))


def _takes_no_arguments(fn: Any) -> bool:
    try:
        inspect.signature(fn).bind()
    except (TypeError, ValueError):  # needs arguments, or a builtin without a signature
        return False
    return True


def _module_policy(target: str) -> Policy:
    """A factory's product, a copy of a policy object, or a function ``obs -> action`` wrapped."""
    from dexmg_bench.baselines.adapters import CallablePolicy

    obj = _resolve(target)
    if _is_policy(obj):  # one object per worker slot: slots must not share recurrent state
        return copy.deepcopy(obj)
    if not _takes_no_arguments(obj):
        return CallablePolicy(obj)
    made = obj()
    if _is_policy(made):
        return made
    if callable(made):
        return CallablePolicy(made)
    raise UserInputError(
        f"--policy {target}: the factory returned a {type(made).__name__}, not a policy "
        "(reset() and act(obs)) nor a function obs -> action."
    )


def _robomimic_modules(path: Path) -> Any:
    with reading(path, "a robomimic checkpoint .pth"):
        path.stat()
    try:
        from robomimic.utils import file_utils
    except ImportError as err:
        raise UserInputError(
            f"--policy robomimic:{path} needs robomimic, which is not installed ({err}): "
            f"install {ROBOMIMIC_INSTALL} (docs/interop.md)"
        ) from err
    return file_utils


class RobomimicPolicy:
    """A robomimic checkpoint's ``RolloutPolicy``: its own observation normalisation, on CPU."""

    def __init__(self, path: Path):
        import torch

        file_utils = _robomimic_modules(path)
        try:
            with reading(path, "a robomimic checkpoint .pth"):
                self.policy, ckpt = file_utils.policy_from_checkpoint(
                    ckpt_path=str(path), device=torch.device("cpu"), verbose=False
                )
        except (pickle.UnpicklingError, RuntimeError) as err:  # torch.load on a foreign file
            first_line = (str(err).splitlines() or [""])[0]
            raise UserInputError(
                f"{path} cannot be read as a robomimic checkpoint .pth "
                f"({type(err).__name__}: {first_line})"
            ) from err
        self.keys = list(ckpt["shape_metadata"]["all_obs_keys"])

    def reset(self) -> None:
        """A new episode: robomimic clears its RNN state and action queues."""
        self.policy.start_episode()

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The checkpoint's action for the observation keys it was trained on."""
        return np.asarray(self.policy({k: obs[k] for k in self.keys}), dtype=np.float64)


__all__ = ["FORMS", "ExternalPolicy", "RobomimicPolicy"]
