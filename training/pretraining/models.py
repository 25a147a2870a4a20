"""Model presets built from config (no downloads): Llama or GPT-2 decoders, a BERT encoder for masked LM."""

from dataclasses import dataclass

import torch
from torch import nn

PRESETS = {
    #        layers hidden heads  mlp
    "tiny": (2, 64, 4, 256),
    "small": (6, 384, 6, 1536),
    "125m": (12, 768, 12, 3072),
    "1b": (16, 2048, 32, 8192),
}


@dataclass
class Shape:
    n_layers: int
    hidden_size: int
    n_heads: int
    intermediate_size: int


def resolve_shape(config) -> Shape:
    layers, hidden, heads, mlp = PRESETS.get(config.preset, PRESETS["small"])
    hidden = config.hidden_size or hidden
    return Shape(
        n_layers=config.n_layers or layers,
        hidden_size=hidden,
        n_heads=config.n_heads or heads,
        intermediate_size=config.intermediate_size or (mlp if not config.hidden_size else 4 * hidden),
    )


def build_model(config, tokenizer) -> nn.Module:
    """A freshly initialised model (seeded) whose vocabulary and special ids match the tokenizer."""
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
    )

    shape = resolve_shape(config)
    torch.manual_seed(config.seed)
    special = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vocab = len(tokenizer)
    if config.architecture == "llama":
        kv_heads = shape.n_heads if shape.n_heads < 16 else max(1, shape.n_heads // 4)
        hf_config = LlamaConfig(
            vocab_size=vocab,
            hidden_size=shape.hidden_size,
            intermediate_size=shape.intermediate_size,
            num_hidden_layers=shape.n_layers,
            num_attention_heads=shape.n_heads,
            num_key_value_heads=kv_heads,
            max_position_embeddings=max(config.seq_len, 2048),
            tie_word_embeddings=True,
            attn_implementation="sdpa",
            **special,
        )
        return LlamaForCausalLM(hf_config)
    if config.architecture == "gpt2":
        hf_config = GPT2Config(
            vocab_size=vocab,
            n_embd=shape.hidden_size,
            n_layer=shape.n_layers,
            n_head=shape.n_heads,
            n_inner=shape.intermediate_size,
            n_positions=max(config.seq_len, 1024),
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            attn_implementation="sdpa",
            **special,
        )
        return GPT2LMHeadModel(hf_config)
    hf_config = BertConfig(
        vocab_size=vocab,
        hidden_size=shape.hidden_size,
        num_hidden_layers=shape.n_layers,
        num_attention_heads=shape.n_heads,
        intermediate_size=shape.intermediate_size,
        max_position_embeddings=max(config.seq_len, 512),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=tokenizer.pad_token_id,
        attn_implementation="sdpa",
    )
    return BertForMaskedLM(hf_config)


def decoder_layers(model) -> list:
    """The model's transformer blocks (what FSDP shards one by one before the whole model)."""
    for attr in ("model.layers", "transformer.h", "bert.encoder.layer"):
        node = model
        try:
            for part in attr.split("."):
                node = getattr(node, part)
        except AttributeError:
            continue
        return list(node)
    return []


def training_flops_per_token(model: nn.Module, seq_len: int) -> float:
    """6·N + 12·L·H·T per token (PaLM appendix B), N = parameters that take part in matmuls."""
    cfg = model.config
    embedding_params = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Embedding))
    unique = {id(p): p for p in model.parameters()}
    n_params = sum(p.numel() for p in unique.values()) - embedding_params + cfg.vocab_size * _hidden(cfg)
    return 6.0 * n_params + 12.0 * _layers(cfg) * _hidden(cfg) * seq_len


def _hidden(cfg) -> int:
    return getattr(cfg, "hidden_size", None) or cfg.n_embd


def _layers(cfg) -> int:
    return getattr(cfg, "num_hidden_layers", None) or cfg.n_layer
