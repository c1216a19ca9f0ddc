"""Generate the boot test's stand-in model: a random few-layer Llama and a tokenizer trained here.

Runs in .venv-boot (transformers, tokenizers, torch); nothing is downloaded. The tokenizer carries
every special token the committed stacks' parsers and chat templates look up (Llama 3.1 headers and
<|python_tag|> for `llama3_json`, <tool_call> for `hermes`, <think> for the `qwen3` reasoning parser),
so a parser that cannot find its tokens fails here as it would on the real model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Tokens the committed stacks' tool/reasoning parsers and chat templates need in the vocabulary.
# vLLM's hermes tool parser and qwen3 reasoning parser raise at start-up when theirs are missing
# (vllm/tool_parsers/hermes_tool_parser.py, vllm/reasoning/qwen3_reasoning_parser.py).
SPECIAL_TOKENS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|eot_id|>", "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>",
]
ADDED_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"]

# A ChatML template with tools (the shape Qwen3's own template renders), used when the pod passes
# no --chat-template.
CHAT_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\n# Tools\n<tools>\n"
    "{%- for tool in tools %}{{ tool | tojson }}\n{%- endfor %}</tools>\n"
    "For each function call, return a json object within <tool_call></tool_call> tags.<|im_end|>\n"
    "{%- endif %}"
    "{%- for message in messages %}<|im_start|>{{ message.role }}\n"
    "{%- if message.content is string %}{{ message.content }}{%- endif %}<|im_end|>\n{%- endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "What is the weather like in Paris today? Call the get_weather tool with the city name.",
    "vLLM serves large language models on Inferentia2 and NVIDIA GPUs behind an OpenAI API.",
    '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}',
    "system user assistant tool function arguments content role name type object string",
    "0 1 2 3 4 5 6 7 8 9 10 100 1000 hello world, please answer in one short sentence.",
]


def build(out: Path, *, max_position_embeddings: int) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
        pad_token="<|finetune_right_pad_id|>", additional_special_tokens=ADDED_TOKENS,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = max_position_embeddings
    fast.save_pretrained(out)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        # head_dim 64: vLLM's CPU attention supports only some head sizes (16 is refused).
        num_attention_heads=2, num_key_value_heads=1, head_dim=64,
        max_position_embeddings=max_position_embeddings, torch_dtype="bfloat16",
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    (out / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": fast.bos_token_id, "eos_token_id": fast.eos_token_id, "max_new_tokens": 16}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-position-embeddings", type=int, default=32768)
    args = parser.parse_args(argv)
    build(args.out, max_position_embeddings=args.max_position_embeddings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
