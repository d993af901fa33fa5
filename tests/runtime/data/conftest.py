"""The data-module tests read the same session store as the dataset tests."""

from tests.datasets.conftest import small_store  # noqa: F401  (a pytest fixture)
