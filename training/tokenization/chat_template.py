"""The chat template saved with every tokenizer (``chat_template.jinja``).

Assistant turns sit inside ``{% generation %}`` markers, so ``apply_chat_template(...,
return_assistant_tokens_mask=True)`` and TRL's assistant-only loss know which tokens the model must learn. Every
boundary of an assistant turn is a special token (the role token before it, EOS after it): special tokens are split
off before pre-tokenization, so no token can straddle the edge of the mask whatever the algorithm (a newline after
the role token would merge with the reply's first word under the Metaspace pre-tokenizer of Unigram).

Pure Python: the runner's config validates templates in the web process.
"""

import json
import re

GENERATION_OPEN = re.compile(r"\{%-?\s*generation\s*-?%\}")
GENERATION_CLOSE = re.compile(r"\{%-?\s*endgeneration\s*-?%\}")

PROBE_CONVERSATION = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What is two plus two?"},
    {"role": "assistant", "content": "It is 4."},
    {"role": "user", "content": "And three plus three?"},
    {"role": "assistant", "content": "6, of course."},
]


def has_generation_markers(template: str) -> bool:
    return bool(GENERATION_OPEN.search(template) and GENERATION_CLOSE.search(template))


def default_chat_template(role_tokens: dict[str, str], *, add_bos: bool = False) -> str:
    """``<|user|>Hi<|eos|><|assistant|>Hello<|eos|>``: role token, content, EOS; unknown roles are an error."""
    roles = json.dumps(role_tokens, ensure_ascii=False)
    return (
        f"{{%- set role_tokens = {roles} -%}}\n"
        + ("{{- bos_token -}}\n" if add_bos else "")
        + "{%- for message in messages -%}\n"
        "{%- if message['role'] not in role_tokens -%}\n"
        "{{- raise_exception('unknown chat role ' ~ message['role'] ~ '; this tokenizer knows '"
        " ~ (role_tokens | list | join(', '))) -}}\n"
        "{%- endif -%}\n"
        "{{- role_tokens[message['role']] -}}\n"
        "{%- if message['role'] == 'assistant' -%}\n"
        "{% generation %}{{- message['content'] + eos_token -}}{% endgeneration %}\n"
        "{%- else -%}\n"
        "{{- message['content'] + eos_token -}}\n"
        "{%- endif -%}\n"
        "{%- endfor -%}\n"
        "{%- if add_generation_prompt -%}{{- role_tokens['assistant'] -}}{%- endif -%}\n"
    )


def probe_assistant_mask(tokenizer) -> dict:
    """Render the probe conversation through a saved tokenizer and check that the assistant mask covers exactly the
    assistant replies plus their EOS; raises ValueError naming the problem, so a broken custom template fails the
    job instead of silently training on every token."""
    try:
        out = tokenizer.apply_chat_template(
            PROBE_CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
    except Exception as exc:
        raise ValueError(f"chat_template does not render the probe conversation: {exc}") from exc
    ids, mask = out["input_ids"], out["assistant_masks"]
    masked = [i for i, m in zip(ids, mask, strict=True) if m]
    if not masked:
        raise ValueError("chat_template marks no assistant tokens; wrap assistant content in {% generation %}")
    expected = "".join(m["content"] + tokenizer.eos_token for m in PROBE_CONVERSATION if m["role"] == "assistant")
    decoded = tokenizer.decode(masked)
    return {"tokens": len(ids), "assistant_tokens": len(masked), "assistant_text": decoded, "expected": expected}
