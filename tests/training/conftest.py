import pytest

from tests.training.steps_runner import KIND
from training.runners import KINDS


@pytest.fixture(autouse=True)
def _steps_kind(monkeypatch):
    monkeypatch.setitem(KINDS, KIND.name, KIND)
    monkeypatch.setenv("PLUMBLINE_EXTRA_JOB_KINDS", "tests.training.steps_runner:KIND")


@pytest.fixture
def engineer(db):
    from tests.annotation.factories import EngineerFactory

    return EngineerFactory()


@pytest.fixture
def staff(client, engineer):
    """The test client, logged in as an engineer (staff)."""
    client.force_login(engineer)
    return client
