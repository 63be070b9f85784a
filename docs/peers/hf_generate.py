"""The Python peer of `llmstream bench infer`: HuggingFace transformers' generate() on PyTorch, the same workload.

For each model directory given (a HuggingFace checkpoint: config.json + model.safetensors, such as the *-fp32 fixtures
of ../shared/models) and each dtype: batches of 1, 8 and 32 requests of 32 random prompt ids and up to 32 greedy new
tokens (KV cache, stopping at eos as generate does), one thread. The batch sizes take turns over seven rounds of at
least 0.5 s each (the order reversed every other round), as `bench infer` does; the figure is the median of the
rounds' generated tokens per second. A measuring aid only: nothing in llmstream runs or needs it.

    python docs/peers/hf_generate.py ../shared/models/llama-fp32 ../shared/models/qwen2-fp32 [--dtypes float32,float16]
"""
import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import AutoModelForCausalLM

ROUNDS = 7
ROUND_SECONDS = 0.5
PROMPT = 32
NEW = 32
REQUESTS = 64


def rate(model, prompts, batch, eos, seconds):
    generated = 0
    start = time.perf_counter()
    i = 0
    while True:
        rows = torch.stack([prompts[(i + r) % len(prompts)] for r in range(batch)])
        i += batch
        with torch.no_grad():
            out = model.generate(rows, attention_mask=torch.ones_like(rows), max_new_tokens=NEW, do_sample=False,
                                 eos_token_id=eos, pad_token_id=eos[0] if eos else 0)
        for row in out[:, rows.shape[1]:].tolist():
            n = 0
            for t in row:
                n += 1
                if t in eos:
                    break
            generated += n
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return generated / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--dtypes", default="float32,float16")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for directory in args.models:
        for dtype in args.dtypes.split(","):
            model = AutoModelForCausalLM.from_pretrained(directory, dtype=getattr(torch, dtype)).eval()
            eos = model.generation_config.eos_token_id
            eos = eos if isinstance(eos, list) else [eos] if eos is not None else []
            vocab = model.config.vocab_size
            g = torch.Generator().manual_seed(7)
            prompts = [torch.randint(0, vocab, (PROMPT,), generator=g) for _ in range(REQUESTS)]
            sizes = [1, 8, 32]
            for b in sizes:
                rate(model, prompts, b, eos, 0.0)  # warm-up
            rates = {b: [] for b in sizes}
            for r in range(ROUNDS):
                for b in (sizes if r % 2 == 0 else list(reversed(sizes))):
                    rates[b].append(rate(model, prompts, b, eos, ROUND_SECONDS))
            print(json.dumps({"model": directory, "dtype": dtype, "torch": torch.__version__,
                              "transformers": transformers.__version__, "threads": torch.get_num_threads(),
                              **{"batch%d" % b: round(statistics.median(rates[b])) for b in sizes}}), flush=True)


if __name__ == "__main__":
    main()
