"""The known fortnight of orders (dataset.py) as a fixture."""
import pytest

from tests.hotline.reports.dataset import build


@pytest.fixture
def dataset(api, world, new_ticket, clock):
    return build(api, world, new_ticket, clock)
