"""Standard benchmarks in their original schemas: loading and checking data, extracting answers, pass@k, lm-eval.

- ``schemas``: each dataset's row schema; a wrong file fails on its first offending row, naming the field.
- ``loading``: local JSONL/JSON/parquet files, dataset folders, Hugging Face names, or the built-in fixtures.
- ``answers``: GSM8K and MATH final answers, extracted and normalized.
- ``passk``: the unbiased pass@k estimator; ``code_tasks``: generating and sandboxing code for it.
- ``generation``: answer budgets that fit the model's context; ``intervals``: bootstrap intervals.
- ``lm_eval_tasks`` / ``lm_eval_hooks``: the same rows run through lm-evaluation-harness for a cross-check.
"""
