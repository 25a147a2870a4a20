"""What a pretraining run leaves behind: the model in Hugging Face format, and a few samples from it."""

from pathlib import Path

import torch


def save_final_model(model, tokenizer, out: Path, max_new_tokens: int, *, state_dict: dict | None = None) -> None:
    """``save_pretrained`` with a sampling generation config, so ``generate`` jobs and pipelines sample sensibly."""
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=0.8,
        top_p=0.95,
        max_new_tokens=max_new_tokens,
    )
    model.save_pretrained(out, safe_serialization=True, state_dict=state_dict)
    tokenizer.save_pretrained(out)


@torch.no_grad()
def sample_completions(model, tokenizer, config, device: torch.device) -> list[dict]:
    """One completion per ``config.sample_prompts`` entry, each from the run's seed (shown on the job page)."""
    model.eval()
    out = []
    for prompt in config.sample_prompts:
        ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)
        torch.manual_seed(config.seed)
        generated = model.generate(ids, max_new_tokens=config.sample_max_new_tokens)
        out.append({"prompt": prompt, "completion": tokenizer.decode(generated[0, ids.shape[1] :])})
    return out
