"""Loads model directories the llmstream trainer wrote with HuggingFace transformers and compares its logits with
the directory's own model.onnx (onnxruntime, empty past): the check that our config.json + model.safetensors are
what transformers expects.

    python docs/peers/hf_load_export.py DIR [DIR ...]

Needs torch, transformers, onnxruntime (the local Python mirror venv); prints one line per directory.
"""
import sys

import numpy as np
import onnxruntime as ort
import torch
from transformers import AutoModelForCausalLM

for d in sys.argv[1:]:
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    ids = np.random.default_rng(0).integers(0, vocab, (2, 12))
    with torch.no_grad():
        hf = model(torch.tensor(ids)).logits.numpy()
    session = ort.InferenceSession(f"{d}/model.onnx", providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "position_ids": np.tile(np.arange(12), (2, 1))}
    for i in session.get_inputs():
        if i.name.startswith("past_key_values"):
            feeds[i.name] = np.zeros((2, i.shape[1], 0, i.shape[3]), np.float32)
    onnx = session.run(["logits"], feeds)[0]
    print(f"{d}: {type(model).__name__} max |transformers - onnx| = {np.abs(hf - onnx).max():.2e}"
          f" (logits up to {np.abs(hf).max():.1f})")
