import shutil

import pytest
from django.conf import settings

from tests.training.alignment.conftest import base_model, snapshots  # noqa: F401 - shared fixtures
from tests.training.pretraining.conftest import token_shards  # noqa: F401
from training.runners.base import ArtifactSpec
from training.services import artifact_register


@pytest.fixture
def shards_artifact(token_shards, db):  # noqa: F811
    root = settings.ARTIFACTS_ROOT / "imported-shards"
    shutil.copytree(token_shards.parent, root)
    return artifact_register(spec=ArtifactSpec("token_shards", root / "tokens", name="test shards"))
