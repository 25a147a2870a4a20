"""project_quality: Krippendorff's alpha, percent agreement, leave-one-out consensus agreement and gold accuracy,
checked against hand-computed values and against ``krippendorff.alpha`` on the reliability matrix."""

import random
from collections import defaultdict
from itertools import combinations

import krippendorff
import numpy as np
import pytest

from annotation.models import Judgment, Response
from annotation.selectors.quality import project_quality
from annotation.services import judgment_submit, task_assign_next, task_skip

from .factories import ProjectFactory, fix_order, import_records, member, prompt_records

pytestmark = pytest.mark.django_db


def _ranking_for(outcome: int, lo: int, hi: int) -> list:
    return {1: [lo, hi], -1: [hi, lo], 0: [[lo, hi]]}[outcome]


def _project_from_matrix(matrix: list[list[int | None]]):
    """matrix[annotator][unit]: +1 the lower response id wins, -1 the higher wins, 0 tie, None not judged."""
    units = len(matrix[0])
    project = ProjectFactory(overlap=len(matrix), task_kinds=["comparison"])
    import_records(project, prompt_records(units, k=2))
    tasks = fix_order(project)
    for i, row in enumerate(matrix):
        user = member(project, username=f"coder{i}")
        for task, value in zip(tasks, row, strict=True):
            lease = task_assign_next(project=project, annotator=user, kind="comparison")
            assert lease.task_id == task.pk
            if value is None:
                task_skip(task_id=task.pk, annotator=user)
                continue
            lo, hi = sorted(task.response_ids)
            judgment_submit(task_id=task.pk, annotator=user, ranking=_ranking_for(value, lo, hi))
    return project


def _criterion(report: dict, name: str = "overall") -> dict:
    return next(c for c in report["criteria"] if c["criterion"] == name)


def _annotator(report: dict, username: str) -> dict:
    return next(a for a in report["annotators"] if a["username"] == username)


def test_perfect_agreement_is_alpha_one():
    project = _project_from_matrix([[1, -1, 1, 0], [1, -1, 1, 0], [1, -1, 1, 0]])
    overall = _criterion(project_quality(project=project))
    assert overall["krippendorff_alpha"] == pytest.approx(1.0)
    assert overall["percent_agreement"] == pytest.approx(1.0)
    assert (overall["units"], overall["units_with_overlap"]) == (4, 4)


def test_everyone_giving_one_value_is_reported_as_perfect():
    project = _project_from_matrix([[1, 1, 1], [1, 1, 1]])
    assert _criterion(project_quality(project=project))["krippendorff_alpha"] == 1.0


def test_hand_computed_alpha_and_percent_agreement():
    # Units (lo wins, lo wins), (hi, hi), (lo, hi). Coincidences: n=6, n(+1)=n(-1)=3, one disagreeing unit.
    # Ordinal delta(-1,+1) = (3 + 0 + 3 - 3)^2 = 9; D_o = 2*9/6 = 3; D_e = 2*3*3*9/(6*5) = 5.4; alpha = 1 - 3/5.4.
    project = _project_from_matrix([[1, -1, 1], [1, -1, -1]])
    overall = _criterion(project_quality(project=project))
    assert overall["krippendorff_alpha"] == pytest.approx(4 / 9)
    assert overall["percent_agreement"] == pytest.approx(2 / 3)
    report = project_quality(project=project)
    for name in ("coder0", "coder1"):
        entry = _annotator(report, name)
        assert entry["judgments"] == 3
        assert entry["consensus_agreement"] == pytest.approx(2 / 3)
        assert entry["consensus_units"] == 3


def test_systematic_disagreement_is_negative():
    project = _project_from_matrix([[1, -1, 1, -1], [-1, 1, -1, 1]])
    overall = _criterion(project_quality(project=project))
    assert overall["krippendorff_alpha"] < 0
    assert overall["percent_agreement"] == 0.0


def test_units_judged_once_do_not_count_toward_alpha():
    with_singles = _project_from_matrix([[1, -1, 1, 1, -1], [1, -1, -1, None, None]])
    without = _project_from_matrix([[1, -1, 1], [1, -1, -1]])
    a = _criterion(project_quality(project=with_singles))
    b = _criterion(project_quality(project=without))
    assert a["krippendorff_alpha"] == pytest.approx(b["krippendorff_alpha"])
    assert (a["units"], a["units_with_overlap"]) == (5, 3)
    assert a["percent_agreement"] == pytest.approx(2 / 3)


def test_leave_one_out_consensus_agreement():
    # unit 1: all +1; unit 2: +1 +1 -1; unit 3: +1 -1 -1.
    # coder0: u1 agrees with (+1,+1); u2 others split (skip); u3 others (-1,-1) disagree -> 1/2.
    # coder1: u1 agrees; u2 others (+1,-1) split; u3 others (+1,-1) split -> 1/1.
    # coder2: u1 agrees; u2 others (+1,+1) disagree; u3 others split -> 1/2.
    project = _project_from_matrix([[1, 1, 1], [1, 1, -1], [1, -1, -1]])
    report = project_quality(project=project)
    expected = {"coder0": (0.5, 2), "coder1": (1.0, 1), "coder2": (0.5, 2)}
    for name, (share, units) in expected.items():
        entry = _annotator(report, name)
        assert (entry["consensus_agreement"], entry["consensus_units"]) == (pytest.approx(share), units), name


def _outcomes(ranking: list[list[int]]) -> dict[tuple[int, int], int]:
    """Independent of the code under test: +1 when the lower id ranks better, -1 worse, 0 tied."""
    level = {}
    for position, group in enumerate(ranking):
        for rid in group:
            level[rid] = position
    return {(a, b): int(np.sign(level[b] - level[a])) for a, b in combinations(sorted(level), 2)}


def _reliability(values: dict[tuple, dict[int, int]], coders: list[int]) -> np.ndarray:
    units = sorted(values)
    matrix = np.full((len(coders), len(units)), np.nan)
    for j, unit in enumerate(units):
        for i, coder in enumerate(coders):
            if coder in values[unit]:
                matrix[i, j] = values[unit][coder]
    return matrix


def _random_project(seed: int):
    rng = random.Random(seed)
    coders, tasks_n = 4, 10
    project = ProjectFactory(
        overlap=coders, task_kinds=["comparison"], responses_per_comparison=3, criteria=["helpfulness"]
    )
    import_records(project, prompt_records(tasks_n, k=3))
    tasks = fix_order(project)
    for i in range(coders):
        user = member(project, username=f"rnd{i}")
        for task in tasks:
            task_assign_next(project=project, annotator=user, kind="comparison")
            if rng.random() < 0.2:
                task_skip(task_id=task.pk, annotator=user)
                continue
            ids = sorted(task.response_ids)
            # a shared "truth" (lowest id best) that each coder follows most of the time
            order = ids if rng.random() < 0.6 else rng.sample(ids, 3)
            ranking = [[order[0], order[1]], order[2]] if rng.random() < 0.2 else order
            ratings = {str(rid): min(7, max(1, 7 - 2 * ids.index(rid) + rng.choice([-1, 0, 0, 1]))) for rid in ids}
            judgment_submit(
                task_id=task.pk, annotator=user, ranking=ranking, criteria={"helpfulness": {"ratings": ratings}}
            )
    return project


@pytest.mark.parametrize("seed", [1, 2])
def test_alpha_matches_krippendorff_on_the_reliability_matrix(seed):
    project = _random_project(seed)
    pairs: dict[tuple, dict[int, int]] = defaultdict(dict)
    ratings: dict[tuple, dict[int, int]] = defaultdict(dict)
    for task_id, annotator_id, ranking, criteria in Judgment.objects.filter(task__project=project).values_list(
        "task_id", "annotator_id", "ranking", "criteria"
    ):
        for (lo, hi), outcome in _outcomes(ranking).items():
            pairs[(task_id, lo, hi)][annotator_id] = outcome
        for rid, score in criteria["helpfulness"]["ratings"].items():
            ratings[(task_id, int(rid))][annotator_id] = score
    coders = sorted({a for v in pairs.values() for a in v})

    report = project_quality(project=project)
    overall = _criterion(report)
    expected = krippendorff.alpha(
        reliability_data=_reliability(pairs, coders), level_of_measurement="ordinal", value_domain=[-1, 0, 1]
    )
    assert overall["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    assert overall["units"] == len(pairs)

    rating = _criterion(report, "helpfulness (rating)")
    expected_rating = krippendorff.alpha(
        reliability_data=_reliability(ratings, coders), level_of_measurement="ordinal", value_domain=list(range(1, 8))
    )
    assert rating["krippendorff_alpha"] == pytest.approx(expected_rating, abs=1e-9)

    agree = total = 0
    for values in pairs.values():
        for x, y in combinations(values.values(), 2):
            total += 1
            agree += x == y
    assert overall["percent_agreement"] == pytest.approx(agree / total)


def test_criterion_preferences_get_their_own_alpha():
    project = ProjectFactory(overlap=2, task_kinds=["comparison"], criteria=["honesty"])
    import_records(project, prompt_records(2, k=2))
    fix_order(project)
    for i in range(2):
        user = member(project)
        for _ in range(2):
            lease = task_assign_next(project=project, annotator=user, kind="comparison")
            lo, hi = sorted(lease.task.response_ids)
            honesty = [lo, hi] if i == 0 else [hi, lo]
            judgment_submit(
                task_id=lease.task_id, annotator=user, ranking=[lo, hi], criteria={"honesty": {"ranking": honesty}}
            )
    report = project_quality(project=project)
    assert [c["criterion"] for c in report["criteria"]] == ["overall", "honesty"]
    assert _criterion(report)["percent_agreement"] == 1.0
    assert _criterion(report, "honesty")["percent_agreement"] == 0.0


def test_gold_accuracy_per_annotator():
    project = ProjectFactory(gold_ratio=1.0, overlap=1, responses_per_comparison=3, task_kinds=["comparison"])
    import_records(
        project,
        [
            {"id": "g1", "prompt": "first", "responses": ["ok", "best", "worst"], "gold": {"ranking": [1, 0, 2]}},
            {"id": "g2", "prompt": "second", "responses": ["fine", "top", "bad"], "gold": {"ranking": [1, 0, 2]}},
        ],
    )
    fix_order(project)
    ids = dict(Response.objects.filter(prompt__project=project).values_list("text", "pk"))
    expert, novice = member(project, username="expert"), member(project, username="novice")

    def submit(user, ranking):
        lease = task_assign_next(project=project, annotator=user, kind="comparison")
        assert lease.is_gold
        judgment_submit(task_id=lease.task_id, annotator=user, ranking=[[ids[t] for t in g] for g in ranking])

    submit(expert, [["best"], ["ok"], ["worst"]])
    submit(expert, [["top"], ["fine"], ["bad"]])
    submit(novice, [["best", "ok"], ["worst"]])  # top-1 hit (best is in the first group); pairs 2 of 3
    submit(novice, [["bad"], ["fine"], ["top"]])  # reversed: top-1 miss; pairs 0 of 3

    report = project_quality(project=project)
    expert_entry, novice_entry = _annotator(report, "expert"), _annotator(report, "novice")
    assert (expert_entry["gold_items"], expert_entry["gold_top1_accuracy"], expert_entry["gold_pair_accuracy"]) == (
        2,
        1.0,
        1.0,
    )
    assert novice_entry["gold_items"] == 2
    assert novice_entry["gold_top1_accuracy"] == pytest.approx(0.5)
    assert novice_entry["gold_pair_accuracy"] == pytest.approx(2 / 6)
    # gold judgments are not inter-annotator data
    assert report["criteria"] == []
    assert expert_entry["judgments"] == 0


def test_an_empty_project():
    project = ProjectFactory()
    assert project_quality(project=project) == {"project": project.pk, "criteria": [], "annotators": []}
