"""Fixtures shared by the library's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Tiny torch models: one thread is faster, and a second one only fights other tests for the cores."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
