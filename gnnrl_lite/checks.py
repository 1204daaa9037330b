"""Input checks shared by every module: clear errors that name the offending key or shape.

Each helper either returns quietly or raises a ``ValueError``/``TypeError`` whose message names
the argument, what was expected and what was received, so a reader copying one module into their
project gets an actionable message rather than a shape error deep inside DGL or PyTorch.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import torch

__all__ = ["check_finite", "check_choice", "check_positive_int"]


def check_finite(x, name: str = "input"):
    """Raise ``ValueError`` if ``x`` contains NaN or infinite values.

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray
        Any numeric array, e.g. an observation batch of shape ``(B, D)``.
    name : str
        Name used in the error message (for example ``"observation"``).

    Returns
    -------
    The input, unchanged, so the call can be used inline.

    Examples
    --------
    >>> check_finite(np.zeros(3), "obs").shape
    (3,)
    """
    if isinstance(x, torch.Tensor):
        bad = ~torch.isfinite(x)
        if bool(bad.any()):
            idx = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"{name} contains NaN or infinite values (first at index {idx}, "
                f"{int(bad.sum())} of {x.numel()} entries); check the environment's observation or "
                "normalise it before it reaches the policy"
            )
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} contains NaN or infinite values (first at index {idx}, "
                f"{int(bad.sum())} of {arr.size} entries); check the environment's observation or "
                "normalise it before it reaches the policy"
            )
    return x


def check_choice(value: str, allowed: Iterable[str], name: str) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` listing the options.

    Examples
    --------
    >>> check_choice("sum", ("sum", "mean", "max"), "readout")
    'sum'
    """
    allowed = tuple(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {allowed}; got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {allowed}")
    return value


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as ``int`` if it is a positive integer, else raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer; got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)
