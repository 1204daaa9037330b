"""Tests for gnnrl_lite.checks: validation helpers return their input or raise errors naming the argument."""

import numpy as np
import pytest
import torch

from gnnrl_lite.checks import check_choice, check_finite, check_positive_int


@pytest.mark.parametrize("x", [np.zeros((2, 3)), torch.ones(4), np.arange(5), torch.arange(3)])
def test_check_finite_returns_finite_input_unchanged(x):
    """check_finite returns the very same object for finite float and integer arrays/tensors."""
    assert check_finite(x, "obs") is x, "check_finite must return its input unchanged when it is finite"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_check_finite_rejects_nan_and_inf_naming_input_and_index(bad, kind):
    """check_finite raises ValueError naming the input and the first bad index for NaN/inf entries."""
    x = np.zeros((2, 3), np.float32)
    x[1, 2] = bad
    if kind == "torch":
        x = torch.as_tensor(x)
    with pytest.raises(ValueError, match=r"observation contains NaN or infinite values \(first at index \(1, 2\), 1 of 6"):
        check_finite(x, "observation")


def test_check_choice_accepts_allowed_value():
    """check_choice returns a value that is one of the allowed options."""
    assert check_choice("max", ("sum", "mean", "max"), "readout") == "max", "an allowed value must be returned as is"


def test_check_choice_rejects_unknown_value_listing_options():
    """check_choice raises ValueError naming the argument, the bad value and the allowed options."""
    with pytest.raises(ValueError, match=r"unknown readout 'median'; expected one of \('sum', 'mean', 'max'\)"):
        check_choice("median", ("sum", "mean", "max"), "readout")


def test_check_choice_rejects_non_string():
    """check_choice raises TypeError naming the argument for a non-string value."""
    with pytest.raises(TypeError, match="aggregation must be a string"):
        check_choice(3, ("sum",), "aggregation")


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_check_positive_int_returns_python_int(value):
    """check_positive_int returns a positive integer (also NumPy's) as a Python int of equal value."""
    out = check_positive_int(value, "num_envs")
    assert type(out) is int and out == int(value), "check_positive_int must return the value as a Python int"


@pytest.mark.parametrize("value, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)])
def test_check_positive_int_rejects_bad_values_naming_argument(value, exc):
    """check_positive_int rejects zero, negatives, floats, bools and strings with an error naming the argument."""
    with pytest.raises(exc, match="num_envs must be a positive integer"):
        check_positive_int(value, "num_envs")
