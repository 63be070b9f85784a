"""Loads model directories the llmstream trainer wrote with HuggingFace transformers and compares its logits with
the directory's own model.onnx (onnxruntime, empty past): the check that our config.json + model.safetensors are
what transformers expects. A directory with a classification head (id2label, score.weight) is also loaded with
AutoModelForSequenceClassification, whose logits must equal the head's columns of the graph's logits at the last
position.

    python docs/peers/hf_load_export.py DIR [DIR ...]

Needs torch, transformers, onnxruntime (the local Python mirror venv); prints one line per directory.
"""
import sys

import numpy as np
import onnxruntime as ort
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

for d in sys.argv[1:]:
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    # below every special id, so no id reads as the padding a sequence classifier skips
    length = min(12, getattr(model.config, "n_positions", None) or model.config.max_position_embeddings)
    ids = np.random.default_rng(0).integers(0, min(vocab, 250), (2, length))
    with torch.no_grad():
        hf = model(torch.tensor(ids)).logits.numpy()
    session = ort.InferenceSession(f"{d}/model.onnx", providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "position_ids": np.tile(np.arange(length), (2, 1))}
    for i in session.get_inputs():
        if i.name.startswith("past_key_values"):
            feeds[i.name] = np.zeros((2, i.shape[1], 0, i.shape[3]), np.float32)
    onnx = session.run(["logits"], feeds)[0]
    print(f"{d}: {type(model).__name__} max |transformers - onnx| = {np.abs(hf - onnx[..., :vocab]).max():.2e}"
          f" (logits up to {np.abs(hf).max():.1f})")
    if onnx.shape[-1] > vocab:
        classifier = AutoModelForSequenceClassification.from_pretrained(d, dtype=torch.float32).eval()
        with torch.no_grad():
            classes = classifier(torch.tensor(ids)).logits.numpy()
        head = onnx[:, -1, vocab:]
        print(f"{d}: {type(classifier).__name__} {list(classifier.config.id2label.values())}"
              f" max |transformers - onnx head| = {np.abs(classes - head).max():.2e}")
