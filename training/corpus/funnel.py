"""Counting what each step let through, and keeping a few examples of what it took out.

A shard's counts are plain dicts so they pickle across processes and land in its stats file as JSON; the run's
funnel is their sum in shard order, and its samples the first ones in document order, so both are the same whether
the run went straight through or resumed.
"""

from dataclasses import dataclass, field

SAMPLE_CHARS = 500


@dataclass
class StepCount:
    documents_in: int = 0
    documents_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    removed_by: dict[str, int] = field(default_factory=dict)


def text_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class Tally:
    """Per-step counts and samples for one shard (or, merged, for the run)."""

    def __init__(self, samples_per_step: int):
        self.steps: dict[str, StepCount] = {}
        self.samples: dict[str, list[dict]] = {}
        self.samples_per_step = samples_per_step
        self.details: dict[str, dict[str, int]] = {}  # per step: redactions by kind, documents flagged, ...

    def step(self, name: str) -> StepCount:
        return self.steps.setdefault(name, StepCount())

    def passed(self, name: str, bytes_in: int, bytes_out: int) -> None:
        count = self.step(name)
        count.documents_in += 1
        count.documents_out += 1
        count.bytes_in += bytes_in
        count.bytes_out += bytes_out

    def removed(self, name: str, rule: str, bytes_in: int, sample: dict | None = None) -> None:
        count = self.step(name)
        count.documents_in += 1
        count.bytes_in += bytes_in
        count.removed_by[rule] = count.removed_by.get(rule, 0) + 1
        if sample is not None:
            self.sample(name, {**sample, "rule": rule})

    def count(self, name: str, key: str, n: int = 1) -> None:
        bucket = self.details.setdefault(name, {})
        bucket[key] = bucket.get(key, 0) + n

    def sample(self, name: str, sample: dict) -> None:
        bucket = self.samples.setdefault(name, [])
        if len(bucket) < self.samples_per_step:
            if "text" in sample:
                sample = {**sample, "text": sample["text"][:SAMPLE_CHARS]}
            bucket.append(sample)

    def to_json(self) -> dict:
        return {
            "steps": {
                name: {
                    "documents_in": c.documents_in,
                    "documents_out": c.documents_out,
                    "bytes_in": c.bytes_in,
                    "bytes_out": c.bytes_out,
                    "removed_by": dict(sorted(c.removed_by.items())),
                }
                for name, c in self.steps.items()
            },
            "samples": self.samples,
            "details": {name: dict(sorted(d.items())) for name, d in self.details.items()},
        }

    def merge_json(self, data: dict) -> None:
        for name, values in data["steps"].items():
            count = self.step(name)
            count.documents_in += values["documents_in"]
            count.documents_out += values["documents_out"]
            count.bytes_in += values["bytes_in"]
            count.bytes_out += values["bytes_out"]
            for rule, n in values["removed_by"].items():
                count.removed_by[rule] = count.removed_by.get(rule, 0) + n
        for name, samples in data["samples"].items():
            for sample in samples:
                self.sample(name, sample)
        for name, details in data.get("details", {}).items():
            for key, n in details.items():
                self.count(name, key, n)

    def funnel(self, order: list[str]) -> list[dict]:
        """The manifest's funnel: one row per step in pipeline order."""
        rows = []
        for name in order:
            c = self.steps.get(name, StepCount())
            row = {
                "step": name,
                "documents_in": c.documents_in,
                "documents_out": c.documents_out,
                "bytes_in": c.bytes_in,
                "bytes_out": c.bytes_out,
            }
            if c.removed_by:
                row["removed_by"] = dict(sorted(c.removed_by.items()))
            if self.details.get(name):
                row["details"] = dict(sorted(self.details[name].items()))
            rows.append(row)
        return rows
