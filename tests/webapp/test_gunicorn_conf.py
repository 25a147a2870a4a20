"""gunicorn.conf.py: the worker hook loads the URLconf and freezes what is loaded (fewer, shorter GC pauses)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_post_worker_init_loads_the_views_and_freezes_them(tmp_path):
    script = (
        "import gc, runpy, sys, django; django.setup()\n"
        "conf = runpy.run_path('gunicorn.conf.py')\n"
        "assert 'annotation.api.tasks' not in sys.modules\n"
        "conf['post_worker_init'](None)\n"
        "assert 'annotation.api.tasks' in sys.modules\n"
        "print(gc.get_freeze_count())\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "webapp.settings.local", "PLUMBLINE_VAR_DIR": str(tmp_path), "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 50_000
