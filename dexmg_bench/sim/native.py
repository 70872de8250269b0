"""Call MuJoCo's C functions from numba-compiled code, so a whole control step runs without Python.

The Python bindings cost a few microseconds per call; at 25 substeps and several calls per substep
that overhead is larger than the physics. numba cannot call the bindings, but it can call the C
library the bindings already loaded, given function addresses and the raw ``mjModel*``/``mjData*``
pointers (``MjModel._address``). Addresses are passed as arguments, not baked in as constants,
so the compiled kernels can be cached on disk.

Pointers travel as 64-bit integers; on the x86-64 and AArch64 C calling conventions a pointer and
a 64-bit integer are passed the same way.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache

import mujoco
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@cache
def _library() -> ctypes.CDLL:
    """The libmujoco that the Python bindings loaded (the same handle, not a second copy)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "libmujoco.so" in line:
                return ctypes.CDLL(line.split()[-1])
    here = glob.glob(os.path.join(os.path.dirname(mujoco.__file__), "libmujoco.so*"))
    if not here:
        raise RuntimeError("Cannot find libmujoco next to the mujoco Python package.")
    return ctypes.CDLL(here[0])


def address(name: str) -> int:
    """The address of one MuJoCo C function, e.g. ``address("mj_step1")``."""
    return ctypes.cast(getattr(_library(), name), ctypes.c_void_p).value


def binding(
    functions: np.ndarray, model: mujoco.MjModel, data: mujoco.MjData, jac: tuple[np.ndarray, ...]
) -> tuple:
    """A kernel's handle on ``data``: what it calls, the pointers, what kinematics write.

    ``(functions, model*, data*, qpos, site_xpos, site_xmat, jacp, jacr)``, with ``jac`` the two
    (3, nv) Jacobian buffers ``mj_jacSite`` fills. The arrays are views into ``data``, valid for
    its lifetime. Every kernel of ``sim/`` takes this one tuple first.
    """
    jacp, jacr = jac
    return (
        functions,
        np.uint64(model._address),
        np.uint64(data._address),
        data.qpos,
        data.site_xpos,
        data.site_xmat,
        jacp,
        jacr,
    )


@intrinsic
def ccall(typingctx, fn, args):  # noqa: ARG001 (numba passes the typing context)
    """``ccall(fn_address, (arg, ...))`` calls ``void fn(arg, ...)`` at a raw address.

    Arguments are uint64 (pointers) or int32 (C ``int``); their numba types fix the C signature.
    """
    if not isinstance(fn, types.Integer) or not isinstance(args, types.BaseTuple):
        return None

    def codegen(context, builder, signature, llargs):
        arg_types = list(signature.args[1])
        values = [builder.extract_value(llargs[1], i) for i in range(len(arg_types))]
        fnty = ir.FunctionType(ir.VoidType(), [context.get_value_type(t) for t in arg_types])
        builder.call(builder.inttoptr(llargs[0], fnty.as_pointer()), values)
        return context.get_dummy_value()

    return types.void(fn, args), codegen


__all__ = ["address", "binding", "ccall"]
