"""Fixtures shared across the component tests."""
import pytest

from tests.components.common.fakes import callers_sigterm_handler


@pytest.fixture
def marker_handler():
    """The caller's SIGTERM handler (``fakes.callers_sigterm_handler``) for the length of the test."""
    with callers_sigterm_handler() as handler:
        yield handler
