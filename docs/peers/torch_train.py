"""The Python peer of `llmstream bench train`: the same four models trained in PyTorch eager, the same workload.

Byte vocabulary (256), tied embeddings, random windows; AdamW (betas 0.9/0.95, weight decay 0.1), gradient clipping
at 1.0, one intra-op thread; untimed warm-up steps (at least 3 s, and at least 30 for the tiny models, 5 for the 10M
ones), then the timed steps (60 and 10), as the bench does. GPT-2 style: learned positions, LayerNorm, exact (erf)
GELU, fused qkv; Llama style: RMSNorm, rotary positions, SwiGLU, separate q/k/v. Attention is torch's scaled_dot_product_attention (causal). Prints a table and one
JSON line. A measuring aid only: nothing in llmstream runs or needs it.

    python docs/peers/torch_train.py [--rounds 3]
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class GptBlock(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(a)
        return x + self.out(F.gelu(self.fc(self.ln_2(x))))


class Gpt(nn.Module):
    def __init__(self, vocab, ctx, layers, heads, d, ff):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(GptBlock(d, heads, ff) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.T


class RmsNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    turned = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + turned * sin


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.norm_1, self.norm_2 = RmsNorm(d), RmsNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        h = self.norm_1(x)
        q, k, v = (p(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(a)
        h = self.norm_2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, ctx, layers, heads, d, ff, theta=10_000.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(LlamaBlock(d, heads, ff) for _ in range(layers))
        self.norm = RmsNorm(d)
        head = d // heads
        inv = 1.0 / theta ** (torch.arange(0, head, 2).float() / head)
        angles = torch.outer(torch.arange(ctx).float(), inv)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, self.cos[:t], self.sin[:t])
        return self.norm(x) @ self.embed.weight.T


WARM_UP_SECONDS = 3.0  # untimed training lasts at least this long, and at least the warm-up steps

# name: (constructor, vocab, context, layers, heads, width, mlp width, batch, warm-up steps, timed steps), as
# `llmstream bench train`
MODELS = {
    "gpt2-tiny-2x64": (Gpt, 256, 64, 2, 4, 64, 256, 8, 30, 60),
    "llama-tiny-2x64": (Llama, 256, 64, 2, 4, 64, 172, 8, 30, 60),
    "gpt2-10M-6x384": (Gpt, 256, 128, 6, 6, 384, 1536, 4, 5, 10),
    "llama-10M-6x384": (Llama, 256, 128, 6, 6, 384, 1024, 4, 5, 10),
}


def tokens_per_second(kind, vocab, ctx, layers, heads, d, ff, batch, warm_up, steps):
    torch.manual_seed(1)
    model = kind(vocab, ctx, layers, heads, d, ff)
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1)
    windows = torch.randint(0, vocab, (batch * 4, ctx + 1))

    def step(i):
        w = windows[(i % 4) * batch:(i % 4 + 1) * batch]
        loss = F.cross_entropy(model(w[:, :-1]).reshape(-1, vocab), w[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    i = 0
    warm_up_end = time.perf_counter() + WARM_UP_SECONDS
    while i < warm_up or time.perf_counter() < warm_up_end:
        step(i)
        i += 1
    start = time.perf_counter()
    for j in range(steps):
        assert math.isfinite(step(i + j))
    return batch * ctx * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each model; the median is reported")
    args = parser.parse_args()
    torch.set_num_threads(1)
    figures = {}
    for name, (kind, *shape) in MODELS.items():
        rates = [tokens_per_second(kind, *shape) for _ in range(args.rounds)]
        figures[name] = {"tokensPerSecond": statistics.median(rates)}
        print(f"{name:16s} {statistics.median(rates):9.0f} tokens/s  (torch {torch.__version__}, one thread)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
