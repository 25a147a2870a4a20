"""Sampling responses from causal LMs in batches (used by the generate runner; imports torch)."""

import json
from pathlib import Path
from typing import Any

import torch

from .runners.base import RunResult


def load_prompts(config, ctx) -> list[dict[str, Any]]:
    if config.prompts:
        return [
            {"id": i, "messages": [{"role": "user", "content": p}], "is_conversation": False}
            for i, p in enumerate(config.prompts)
        ]
    if config.prompts_file:
        rows = []
        for n, line in enumerate(Path(config.prompts_file).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            obj = json.loads(line)
            messages = obj.get("messages") or [{"role": "user", "content": obj["prompt"]}]
            rows.append({"id": obj.get("id", n), "messages": messages, "is_conversation": "messages" in obj})
        return rows
    from annotation.models import Project
    from annotation.selectors.prompts import prompts_for_generation

    project = Project.objects.get(pk=config.project)
    return prompts_for_generation(project=project, split=config.split, limit=config.max_prompts)


def prompt_text(tokenizer, row: dict[str, Any], mode: str) -> str:
    use_template = mode == "always" or (mode == "auto" and getattr(tokenizer, "chat_template", None))
    if use_template:
        return tokenizer.apply_chat_template(row["messages"], tokenize=False, add_generation_prompt=True)
    if not row["is_conversation"] and len(row["messages"]) == 1:
        return row["messages"][0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in row["messages"]) + "\n\nAssistant:"


def version_of(reference: str, path: Path) -> tuple[str, str]:
    """(model_version, model_name): ``artifact:<id>`` for registered models, else the path."""
    version = f"artifact:{reference}" if str(reference).isdigit() else str(path)
    return version, path.parent.name if path.name in ("model", "adapter") else path.name


def sample(model, tokenizer, texts: list[str], config, seed: int) -> list[list[str]]:
    device = next(model.parameters()).device
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    greedy = config.temperature == 0
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(
            **batch,
            do_sample=not greedy,
            temperature=None if greedy else config.temperature,
            top_p=None if greedy else config.top_p,
            num_return_sequences=1 if greedy else config.samples_per_prompt,
            max_new_tokens=config.max_new_tokens,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        )
    k = 1 if greedy else config.samples_per_prompt
    new_tokens = out[:, batch.input_ids.shape[1] :]
    decoded = [tokenizer.decode(row, skip_special_tokens=True).strip() for row in new_tokens]
    return [decoded[i * k : (i + 1) * k] for i in range(len(texts))]


def generate_into(config, ctx) -> RunResult:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    prompts = load_prompts(config, ctx)
    out_path = ctx.folder / "generations.jsonl"
    done = set()
    if out_path.exists():  # resume: batches already written are not sampled again
        done = {(r["model_version"], r["prompt_id"]) for r in map(json.loads, out_path.read_text().splitlines())}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    total = len(prompts) * len(config.models)
    step = 0
    with out_path.open("a", encoding="utf-8") as out:
        for reference in config.models:
            path = Path(ctx.resolve_input(reference, "model|adapter"))
            version, name = version_of(reference, path)
            tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
            if (path / "adapter_config.json").exists():  # an adapter version: generate with it merged
                from peft import AutoPeftModelForCausalLM

                model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=dtype).merge_and_unload()
            else:
                model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
            model = model.to(device).eval()
            todo = [r for r in prompts if (version, r["id"]) not in done]
            if config.skip_existing and config.project is not None:
                from annotation.models import Response

                have = set(
                    Response.objects.filter(model_version=version, prompt_id__in=[r["id"] for r in todo]).values_list(
                        "prompt_id", flat=True
                    )
                )
                todo = [r for r in todo if r["id"] not in have]
            step += len(prompts) - len(todo)
            ctx.log(f"{name} ({version}): {len(todo)} prompts to sample, {config.samples_per_prompt} each")
            for start in range(0, len(todo), config.batch_size):
                ctx.check_cancelled()
                rows = todo[start : start + config.batch_size]
                texts = [prompt_text(tokenizer, r, config.chat_template) for r in rows]
                samples = sample(model, tokenizer, texts, config, seed=config.seed + start)
                for row, outs in zip(rows, samples, strict=True):
                    for i, text in enumerate(outs):
                        params = {
                            "temperature": config.temperature,
                            "top_p": config.top_p,
                            "max_new_tokens": config.max_new_tokens,
                            "seed": config.seed + start,
                            "sample_index": i,
                        }
                        record = {"prompt_id": row["id"], "model_version": version, "model_name": name, "text": text}
                        out.write(json.dumps({**record, "generation_params": params}) + "\n")
                out.flush()
                step += len(rows)
                ctx.progress(step, total, f"sampling {name}")
            del model
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    summary: dict[str, Any] = {"prompts": len(prompts), "models": len(config.models), "samples": len(rows)}
    if config.project is not None:
        from annotation.models import Project
        from annotation.services import NewResponse, responses_add

        added = responses_add(
            project=Project.objects.get(pk=config.project),
            responses=[
                NewResponse(r["prompt_id"], r["text"], r["model_name"], r["model_version"], r["generation_params"])
                for r in rows
            ],
        )
        summary.update(added)
        ctx.log(f"added {added['responses_created']} responses and {added['tasks_created']} tasks to the project")
    ctx.report("generation_samples", rows[:20])
    return RunResult(summary=summary)
