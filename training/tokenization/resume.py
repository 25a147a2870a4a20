"""The runner's resume state: what is already done (the tokenizer, which parts) for which config and dataset.

A retry (``ctx.attempt > 1``) continues from the state when the fingerprint (config + dataset manifest) matches;
anything else starts over from an empty folder, because outputs of a different config must never mix.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATE_FILE = "train_tokenizer.state.json"
OUTPUTS = ("tokenizer", "tokens", ".tokenizer.tmp")


class RunState:
    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def begin(cls, folder: Path, fingerprint: str, *, resume: bool, log: Callable[[str], None]) -> RunState:
        path = folder / STATE_FILE
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                data = {}
            if resume and data.get("fingerprint") == fingerprint:
                done = len(data.get("parts", {}))
                log(f"resuming: tokenizer {'kept' if data.get('tokenizer') else 'to train'}, {done} part(s) done")
                return cls(path, data)
            log("starting over: " + ("config or input changed since the last attempt" if resume else "first attempt"))
        for name in OUTPUTS:
            shutil.rmtree(folder / name, ignore_errors=True)
        state = cls(path, {"fingerprint": fingerprint, "tokenizer": None, "parts": {}, "complete": False})
        state.save()
        return state

    @property
    def tokenizer(self) -> dict[str, Any] | None:
        return self.data.get("tokenizer")

    @property
    def parts(self) -> dict[str, dict[str, Any]]:
        return self.data["parts"]

    def set_tokenizer(self, summary: dict[str, Any]) -> None:
        """A new tokenizer: parts encoded with any earlier one no longer count."""
        self.data["tokenizer"] = summary
        self.data["parts"] = {}
        self.save()

    def add_part(self, name: str, stats: dict[str, Any]) -> None:
        self.data["parts"][name] = stats
        self.save()

    def set_complete(self, summary: dict[str, Any], report: dict[str, Any]) -> None:
        self.data.update(complete=True, summary=summary, report=report)
        self.save()

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
