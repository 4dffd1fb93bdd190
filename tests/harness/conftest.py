import pytest
from harness_helpers import write_suite


@pytest.fixture
def small_suite(tmp_path):
    return write_suite(tmp_path)
