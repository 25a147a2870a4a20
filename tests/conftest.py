import os

import pytest


def pytest_collection_modifyitems(config, items):
    """`services` tests need DATABASE_URL (PostgreSQL) and REDIS_URL; without them they skip with a visible reason."""
    have_services = bool(os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL"))
    reason = "needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see .ci/run)"
    if os.environ.get("PLUMBLINE_REQUIRE_SERVICES") and not have_services:
        raise pytest.UsageError("PLUMBLINE_REQUIRE_SERVICES is set but DATABASE_URL/REDIS_URL are not.")
    for item in items:
        if "services" in item.keywords and not have_services:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _artifacts_root(settings, tmp_path):
    settings.ARTIFACTS_ROOT = tmp_path / "artifacts"
    settings.ARTIFACTS_ROOT.mkdir()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    """A tiny Llama and its locally trained tokenizer, saved in HF format (built once per session)."""
    pytest.importorskip("transformers", reason="needs the train extra (pip install -e .[train])")
    from tests.tiny_lm import build_tiny_lm

    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"))
