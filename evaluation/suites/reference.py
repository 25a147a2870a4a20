"""BLEU and ROUGE-1/2/L of greedy generations against accepted demonstrations on the held-out split.

The demonstrations come from an SFT snapshot (``config.demonstrations``): its ``test`` rows (``config.split``), or
``validation`` when the snapshot has no test rows. Demonstrations of the same prompt are pooled as that prompt's
references; the model answers each prompt once (greedy). BLEU is sacrebleu's corpus BLEU (13a tokenization,
0-100; every reference counts); ROUGE is rouge-score's F-measure with Porter stemming (0-1), taking for each
prompt the best-matching reference, averaged over prompts. Conversations are rendered with the tokenizer's chat
template, the way the model saw them in SFT: a model without one cannot be evaluated on them (clear error).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..benchmarks.generation import generate_answers
from ..benchmarks.intervals import bootstrap_mean
from . import Example, Metric, SuiteResult, SuiteSpec

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def heldout_references(path: Path, split: str) -> tuple[list[dict], str]:
    """[{prompt (str or messages), references: [...]}, ...] in snapshot order, and the split used."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"the demonstrations snapshot {path} holds no rows")
    candidates = list(dict.fromkeys((split, "test", "validation")))
    for wanted in candidates:
        chosen = [r for r in rows if r.get("split") == wanted]
        if chosen:
            break
    else:
        raise ValueError(
            f"the demonstrations snapshot has no rows in the {' / '.join(candidates)} splits to evaluate on "
            "(reference metrics on training rows would measure memorization)"
        )
    grouped: dict[str, dict] = {}
    for i, row in enumerate(chosen):
        if "messages" in row:
            messages = row["messages"]
            if not messages or messages[-1].get("role") != "assistant":
                raise ValueError(f"demonstration row {i} does not end with an assistant message")
            prompt, reference = messages[:-1], messages[-1]["content"]
        elif "prompt" in row and "completion" in row:
            prompt, reference = row["prompt"], row["completion"]
        else:
            raise ValueError(f"demonstration row {i} has neither 'messages' nor 'prompt' + 'completion'")
        key = json.dumps(prompt, sort_keys=True)
        grouped.setdefault(key, {"prompt": prompt, "references": []})["references"].append(reference)
    return list(grouped.values()), wanted


def render(tokenizer, prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            "the model's tokenizer has no chat template, so the conversational demonstrations cannot be put to it "
            "the way it was fine-tuned; evaluate a model saved with a chat template (or a 'standard' SFT snapshot)"
        )
    return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)


def bleu_with_interval(hypotheses: list[str], references: list[list[str]], seed: int) -> tuple[float, float, float]:
    import sacrebleu

    def corpus(idx) -> float:
        hyps = [hypotheses[i] for i in idx]
        refs = [[references[i][j] if j < len(references[i]) else None for i in idx] for j in range(width)]
        return sacrebleu.corpus_bleu(hyps, refs).score

    width = max(len(r) for r in references)
    score = corpus(range(len(hypotheses)))
    if len(hypotheses) < 2:
        return score, score, score
    rng = np.random.default_rng(seed)
    rounds = 200 if len(hypotheses) <= 2000 else 50
    boots = [corpus(rng.integers(0, len(hypotheses), len(hypotheses))) for _ in range(rounds)]
    low, high = np.percentile(boots, [2.5, 97.5])
    return score, float(low), float(high)


def run(spec: SuiteSpec) -> SuiteResult:
    import sacrebleu
    from rouge_score import rouge_scorer

    path = spec.inputs.get("demonstrations")
    if path is None:
        raise ValueError("reference needs demonstrations (an SFT snapshot with held-out rows)")
    groups, split = heldout_references(path, spec.config.split)
    if spec.config.limit:
        groups = groups[: spec.config.limit]
    _, tokenizer = spec.model
    prompts = [render(tokenizer, g["prompt"]) for g in groups]
    outputs, info = generate_answers(spec, prompts, stop=[])
    hypotheses = [o[0].strip() for o in outputs]
    references = [g["references"] for g in groups]
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    rouge = [scorer.score_multi(refs, hyp) for hyp, refs in zip(hypotheses, references, strict=True)]
    meta = {
        "data": {"kind": "snapshot", "location": str(path), "split": split, "prompts": len(groups)},
        "references": sum(len(r) for r in references),
        "generation": info,
    }
    bleu, low, high = bleu_with_interval(hypotheses, references, spec.config.seed)
    metrics = [
        Metric(
            "bleu", bleu, n=len(groups), ci_low=low, ci_high=high, metadata=meta | {"scale": "0-100", "tokenize": "13a"}
        )
    ]
    for kind in ROUGE_TYPES:
        mean, lo, hi = bootstrap_mean([r[kind].fmeasure for r in rouge], seed=spec.config.seed)
        metrics.append(Metric(kind, mean, n=len(groups), ci_low=lo, ci_high=hi, metadata=meta | {"scale": "0-1 F1"}))
    examples = [
        Example(
            input=text,
            output=hyp,
            reference=refs[0],
            score=scores["rougeL"].fmeasure,
            metadata={
                "references": refs,
                "sentence_bleu": sacrebleu.sentence_bleu(hyp, refs).score,
                **{kind: scores[kind].fmeasure for kind in ROUGE_TYPES},
            },
        )
        for text, hyp, refs, scores in zip(prompts, hypotheses, references, rouge, strict=True)
    ]
    return SuiteResult(metrics=metrics, examples=examples)
