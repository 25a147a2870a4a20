"""What the alignment benchmarks share: a small synthetic language, a tokenizer and tiny Llama built from config, a
throwaway Django environment for in-process jobs, and step timing.

The language is a grammar of short animal descriptions ("The red fox runs quietly near the river.") with a varied
ending, so a model of a few hundred thousand parameters learns it in a minute on a CPU, and a preference about the
ending is something both a reward model and a DPO policy can pick up.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for _path in (str(HERE), str(REPO)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402

# --- the synthetic language -----------------------------------------------------------------------------------

COLORS = ["red", "blue", "green", "brown", "grey", "white", "black", "yellow", "golden", "silver", "pink", "dark"]
ANIMALS = [
    "fox", "cat", "dog", "owl", "bear", "horse", "mouse", "duck", "wolf", "goat", "frog", "hare", "deer", "crow",
    "lamb", "pig",
]  # fmt: skip
PLACES = ["river", "forest", "garden", "hill", "barn", "lake", "road", "field"]
VERBS = ["runs", "sleeps", "sings", "waits", "plays", "eats", "hides", "walks"]
ADVERBS = ["quietly", "slowly", "happily", "often", "early", "alone", "together", "again"]
ENDINGS = [".", "!", "?", ""]
PROMPT_FORMS = [
    "Tell me about the {color} {animal}.",
    "Describe the {color} {animal}.",
    "What does the {color} {animal} do?",
    "Write one line about the {color} {animal}.",
]


def unique_prompts(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """``n`` distinct (prompt text, colour, animal), drawn without replacement (768 exist)."""
    every = [(form.format(color=c, animal=a), c, a) for form in PROMPT_FORMS for c in COLORS for a in ANIMALS]
    if n > len(every):
        raise ValueError(f"the grammar has {len(every)} distinct prompts, not {n}")
    return random.Random(seed).sample(every, n)


def make_prompt(rng: random.Random) -> tuple[str, str, str]:
    """(prompt text, colour, animal)."""
    color, animal = rng.choice(COLORS), rng.choice(ANIMALS)
    return rng.choice(PROMPT_FORMS).format(color=color, animal=animal), color, animal


def make_response(rng: random.Random, color: str, animal: str, ending: str | None = None) -> str:
    """A one- or two-clause answer about the prompt's animal; ``ending`` None picks one of ENDINGS at random."""
    clause = f"The {color} {animal} {rng.choice(VERBS)} {rng.choice(ADVERBS)} near the {rng.choice(PLACES)}"
    if rng.random() < 0.5:
        clause += f" and {rng.choice(VERBS)} {rng.choice(ADVERBS)}"
    return clause + (rng.choice(ENDINGS) if ending is None else ending)


def well_formed(text: str) -> bool:
    """Whether a response is a sentence of the grammar (any colour and animal, any ending): a guard against a
    policy that satisfies a preference about the ending by degenerating into junk."""
    return _SENTENCE.fullmatch(text.strip()) is not None


def _words(options: list[str]) -> str:
    return "(?:" + "|".join(map(re.escape, options)) + ")"


_CLAUSE = f"{_words(VERBS)} {_words(ADVERBS)}"
_SENTENCE = re.compile(
    f"The {_words(COLORS)} {_words(ANIMALS)} {_CLAUSE} near the {_words(PLACES)}(?: and {_CLAUSE})?[.!?]?"
)


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        prompt, color, animal = make_prompt(rng)
        texts.append(prompt + "\n" + make_response(rng, color, animal))
    return texts


# --- tokenizer and model --------------------------------------------------------------------------------------


def build_tokenizer(path: Path, texts: list[str], vocab_size: int = 400):
    """A byte-level BPE trained on ``texts``, with the chat template and special tokens of tests/tiny_lm.py."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from tests.tiny_lm import CHAT_TEMPLATE, SPECIAL

    tok = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        pad_token="<|pad|>",
        unk_token="<|unk|>",
        chat_template=CHAT_TEMPLATE,
    )
    path.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(path)
    return fast


def build_llama(path: Path, tokenizer, *, layers: int, hidden: int, heads: int = 4, seed: int = 0) -> Path:
    """A Llama built from config (random weights), saved in Hugging Face format next to its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# --- Django in this process -----------------------------------------------------------------------------------


@contextlib.contextmanager
def django_in_process(*, threads: int | None = None) -> Iterator[harness.Backend]:
    """A throwaway SQLite database and ARTIFACTS_ROOT (bench/harness.py), migrated, with Django set up here.

    Jobs then run in this process through job_launch + job_execute, exactly as a worker's task runs them (the
    broker is the embedded filesystem one under the temp folder, so the enqueued message is never consumed).
    """
    with harness.throwaway_backend("sqlite") as backend:
        os.environ.update(backend.env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield backend


def job_run(kind: str, config: dict) -> tuple:
    """Launch a job and execute it here; returns (job, seconds). Raises with the traceback if it failed."""
    from training.services import job_execute, job_launch

    job = job_launch(kind=kind, config=config)
    t0 = time.perf_counter()
    status = job_execute(job_id=job.pk)
    seconds = time.perf_counter() - t0
    job.refresh_from_db()
    if status != "succeeded":
        raise RuntimeError(f"{kind} job {job.pk} {status}: {job.error_message}\n{job.traceback[-4000:]}")
    return job, seconds


def quiet_libraries() -> None:
    """Keep transformers' and datasets' own progress bars and warnings out of the benchmark's output."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5's renames, raised inside TRL
    import datasets
    import transformers

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
