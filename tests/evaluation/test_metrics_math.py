"""Benchmark metric math against hand-computed cases: pass@k, acc_norm, MC2, answer normalization, BLEU/ROUGE."""

import json
import math

import pytest

from evaluation.benchmarks.answers import (
    gsm8k_extract,
    gsm8k_reference,
    last_boxed,
    math_equal,
    math_extract,
    normalize_math,
    normalize_number,
)
from evaluation.benchmarks.intervals import bootstrap_mean, by_category
from evaluation.benchmarks.passk import mean_pass_at_k, pass_at_k
from evaluation.suites.multiple_choice import ChoiceItem, accuracy_metrics, mc2_score, predictions

# --- pass@k ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (5, 2, 1, 0.4),  # k = 1 is the plain pass rate c / n
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (5, 4, 2, 1.0),  # n - c = 1 < k = 2: every draw of two holds a pass
        (5, 5, 5, 1.0),
        (10, 0, 10, 0.0),
        (200, 1, 100, 0.5),  # C(199,100)/C(200,100) = 100/200; binomials this size overflow floats
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_equals_the_binomial_formula_on_a_grid():
    for n in range(1, 16):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1.0 if n - c < k else 1 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12), (n, c, k)


def test_pass_at_k_rejects_impossible_counts_and_averages_over_problems():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 0)
    assert mean_pass_at_k([(2, 0), (2, 1), (2, 2)], 1) == pytest.approx((0 + 0.5 + 1) / 3)
    assert mean_pass_at_k([(2, 0), (2, 1), (2, 2)], 2) == pytest.approx((0 + 1 + 1) / 3)


# --- multiple choice ----------------------------------------------------------------------------------------------


def test_acc_norm_divides_by_the_choice_length_and_can_disagree_with_acc():
    # acc picks the likelier short answer; per character the long one wins: -10/1 < -12/6.
    assert predictions([-10.0, -12.0], ["a", "bbbbbb"])[:2] == (0, 1)
    # characters and bytes differ for non-ASCII text: "ééé" is 3 characters but 6 bytes.
    pred, pred_norm, pred_bytes = predictions([-6.0, -7.0], ["ééé", "abcd"])
    assert (pred, pred_norm, pred_bytes) == (0, 1, 0)  # -6/3=-2 < -7/4=-1.75, but -6/6=-1 > -7/4


def test_accuracy_metrics_on_hand_scored_items():
    items = [
        ChoiceItem("q1", ["a", "bbbbbb"], gold=1, category="x"),  # acc wrong, acc_norm right
        ChoiceItem("q2", ["yes", "no"], gold=0, category="x"),  # both right
        ChoiceItem("q3", ["cc", "d"], gold=1, category="y"),  # acc right (-3 > -5), acc_norm wrong (-5/2 > -3/1)
    ]
    lls = [[-10.0, -12.0], [-1.0, -2.0], [-5.0, -3.0]]
    metrics, outcomes = accuracy_metrics(items, lls, metadata={"data": {"kind": "test"}})
    by_name = {m.name: m for m in metrics}
    assert by_name["acc"].value == pytest.approx(2 / 3)
    # acc_norm: q1 right, q2: -1/3 > -2/2 right, q3: -5/2=-2.5 vs -3/1=-3 -> picks 0, wrong
    assert by_name["acc_norm"].value == pytest.approx(2 / 3)
    assert [o["acc_norm"] for o in outcomes] == [1.0, 1.0, 0.0]
    assert by_name["acc"].metadata["by_category"] == {"x": {"mean": 0.5, "n": 2}, "y": {"mean": 1.0, "n": 1}}
    assert by_name["acc"].ci_low <= by_name["acc"].value <= by_name["acc"].ci_high
    assert by_name["acc"].metadata["data"] == {"kind": "test"}


def test_mc2_is_the_renormalized_mass_of_the_true_answers():
    lls = [math.log(0.2), math.log(0.3), math.log(0.1)]
    assert mc2_score(lls, [1, 0, 1]) == pytest.approx((0.2 + 0.1) / 0.6)
    assert mc2_score(lls, [0, 1, 0]) == pytest.approx(0.5)
    # long answers have log-likelihoods whose exp underflows to 0.0; the ratio must still come out right
    assert mc2_score([-1000.0, -1001.0], [1, 0]) == pytest.approx(1 / (1 + math.exp(-1)))


# --- GSM8K / MATH answers --------------------------------------------------------------------------------------------


def test_gsm8k_reference_and_extraction():
    assert gsm8k_reference("She sold 1200 + 1350 = <<1200+1350=2550>>2,550 rolls.\n#### 2,550") == "2550"
    assert gsm8k_extract("Step one. Then #### 19") == ("19", True)
    assert gsm8k_extract("So she pays $1,000.00 in total.") == ("1000", False)  # flexible: the last number
    assert gsm8k_extract("It is 3.50 dollars") == ("3.5", False)
    assert gsm8k_extract("first 4, then -7.") == ("-7", False)
    assert gsm8k_extract("no digits at all") == (None, False)
    assert normalize_number("$ 12.0") == "12" and normalize_number("-0") == "0" and normalize_number("50%") == "50"
    assert normalize_number("seven") == "seven"


def test_math_boxed_extraction():
    assert last_boxed(r"so $x = \boxed{\frac{1}{2}}$.") == r"\frac{1}{2}"
    assert last_boxed(r"first \boxed{1} then \boxed{ {a}+{b} }") == " {a}+{b} "
    assert last_boxed(r"\boxed 5$ and more") == "5"
    assert last_boxed(r"\fbox{3}") == "3"
    assert last_boxed(r"\boxed{unbalanced") is None
    assert last_boxed("no box") is None
    assert math_extract("Final Answer: The final answer is $12$. I hope it is correct.") == "12"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (r"\dfrac12", r"\frac{1}{2}"),
        ("0.5", r"\frac{1}{2}"),
        ("1/2", r"\frac{1}{2}"),
        ("x = 7", "7"),
        (r"5 \text{ cm}", "5"),
        (r"90^\circ", "90"),
        (r"\left( 1, 2 \right)", "(1,2)"),
        (r"\$10", "10"),
        (r"10\%", "10"),
        ("3.0", "3"),
        (r"\sqrt2", r"\sqrt{2}"),
        ("1,000", "1000"),
        (r"\text{(B)}", "(B)"),
        (".5", r"\frac{1}{2}"),
    ],
)
def test_math_normalization_equates_spellings_of_one_answer(a, b):
    assert math_equal(a, b), (normalize_math(a), normalize_math(b))


@pytest.mark.parametrize(("a", "b"), [(r"\frac{1}{3}", r"\frac{1}{2}"), ("(1,2)", "12"), ("7", "-7"), ("x", "y")])
def test_math_normalization_keeps_different_answers_apart(a, b):
    assert not math_equal(a, b)
    assert not math_equal(None, b)


# --- BLEU / ROUGE ---------------------------------------------------------------------------------------------------


def test_bleu_and_rouge_sanity():
    import sacrebleu
    from rouge_score import rouge_scorer

    from evaluation.suites.reference import bleu_with_interval

    same = ["the cat sat on the mat today", "a quick brown fox jumps over the dog"]
    assert sacrebleu.corpus_bleu(same, [same]).score == pytest.approx(100.0)
    score, low, high = bleu_with_interval(same, [[s] for s in same], seed=0)
    assert score == pytest.approx(100.0) and low == pytest.approx(100.0) and high == pytest.approx(100.0)
    disjoint, _, _ = bleu_with_interval(["zebra quantum"], [["the cat sat"]], seed=0)
    assert disjoint == 0.0
    # a second reference that matches lifts BLEU to 100: references pool per prompt
    multi, _, _ = bleu_with_interval(same[:1], [["something else entirely", same[0]]], seed=0)
    assert multi == pytest.approx(100.0)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    stemmed = scorer.score("the dogs running", "the dog runs")
    assert stemmed["rouge1"].fmeasure == pytest.approx(1.0)  # Porter stemming: dogs/dog, running/runs -> run
    partial = scorer.score("a b c d", "a b x y")
    assert partial["rouge1"].fmeasure == pytest.approx(0.5)  # 2 of 4 unigrams on both sides
    assert partial["rouge2"].fmeasure == pytest.approx(1 / 3)  # "a b" of 3 bigrams


def test_reference_groups_demonstrations_per_prompt_and_falls_back_to_validation(tmp_path):
    from evaluation.suites.reference import heldout_references

    rows = [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "split": "train"},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a1"}], "split": "validation"},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a2"}], "split": "validation"},
        {"prompt": "p", "completion": "c", "split": "validation"},
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    groups, split = heldout_references(path, "test")
    assert split == "validation"
    assert groups == [
        {"prompt": [{"role": "user", "content": "q"}], "references": ["a1", "a2"]},
        {"prompt": "p", "references": ["c"]},
    ]
    path.write_text(json.dumps(rows[0]))
    with pytest.raises(ValueError, match="no rows in the test / validation splits"):
        heldout_references(path, "test")


def test_bootstrap_interval_and_categories():
    assert bootstrap_mean([1.0]) == (1.0, 1.0, 1.0)
    mean, low, high = bootstrap_mean([0, 1] * 50, seed=3)
    assert mean == 0.5 and 0.35 < low < 0.5 < high < 0.65
    assert by_category([1, 0, 1], ["a", "b", ""]) == {
        "(none)": {"mean": 1.0, "n": 1},
        "a": {"mean": 1.0, "n": 1},
        "b": {"mean": 0.0, "n": 1},
    }
