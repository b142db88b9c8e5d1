"""The convert step's real output, shared with the evaluate tests (the plain record reader reads it)."""
from tests.components.evaluate.conftest import converted  # noqa: F401  (a session fixture)
