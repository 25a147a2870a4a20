"""Prompts for rollouts, from any snapshot: a preference snapshot's ``prompt`` column, or an SFT snapshot's
conversation without its last assistant turn (or its ``prompt`` column in the standard shape).

A prompt keeps its original shape (a string, or a list of messages) because the reward model must see the response
formatted the way it was trained: the chat template for conversations, ``prompt + completion + eos`` otherwise (what
TRL's RewardTrainer feeds it).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..trl_common import read_rows


@dataclass
class PromptSet:
    train: list[Any]
    validation: list[Any]


def prompt_of(row: dict[str, Any]) -> Any:
    if "prompt" in row:
        return row["prompt"]
    if "messages" in row:
        messages = list(row["messages"])
        while messages and messages[-1].get("role") == "assistant":
            messages.pop()
        if not messages:
            raise ValueError("a conversation in the snapshot has no turn before the assistant's")
        return messages
    raise ValueError(f"a snapshot row has neither 'prompt' nor 'messages' (columns: {sorted(row)})")


def load_prompts(path: Path) -> PromptSet:
    rows = read_rows(path)
    if not rows:
        raise ValueError(f"the dataset snapshot {path} holds no rows")
    train = [prompt_of(r) for r in rows if r.get("split", "train") == "train"]
    validation = [prompt_of(r) for r in rows if r.get("split") == "validation"]
    return PromptSet(train=train or [prompt_of(r) for r in rows], validation=validation)


def policy_text(tokenizer, prompt: Any) -> str:
    """What the policy continues: the chat template with the assistant's turn opened, or the prompt itself."""
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return prompt


def encode_prompts(tokenizer, prompts: list[Any], max_tokens: int) -> list[list[int]]:
    """Token ids per prompt, keeping the last ``max_tokens`` (the end of a prompt is what the answer follows)."""
    out = []
    for prompt in prompts:
        ids = tokenizer(policy_text(tokenizer, prompt), add_special_tokens=not isinstance(prompt, list))["input_ids"]
        ids = ids[-max_tokens:] if max_tokens > 0 else ids
        if not ids:  # an empty prompt: the answer still needs a position to start from
            ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
        out.append(ids)
    return out


def reward_text(tokenizer, prompt: Any, completion: str) -> str:
    """The text a reward model scores: formatted as in TRL's RewardTrainer."""
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": completion}], tokenize=False)
    return prompt + completion + (tokenizer.eos_token or "")
