"""Test oracle: what a float16 graph computed in float32 must generate (the worker's "float16 computed in float32").

For each float16 fixture of ../shared/models, the transformers checkpoint of the same model (its *-fp32 directory)
with every weight and buffer rounded to float16 and computed in float32: transformers generate()'s greedy new tokens
for the fixture's prompts, each alone, as expected.json's `greedy` are made. Run from this directory:

    python make_oracle.py ../../../../../../shared/models

Writes fp16_as_float32.json: {fixture: {"checkpoint", "greedy"}}.
"""
import json
import sys
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM

FIXTURES = {"gpt2-fp16kv": "gpt2-fp32", "llama-fp16kv": "llama-fp32", "phi3-fp16kv": "phi3-fp32",
            "qwen2-fp16kv": "qwen2-fp32", "llama-onnx-community:fp16": "llama-fp32"}


def main(models):
    out = {}
    for fixture, checkpoint in FIXTURES.items():
        expected = json.loads((Path(models) / fixture.split(":")[0] / "expected.json").read_text())
        model = AutoModelForCausalLM.from_pretrained(Path(models) / checkpoint, dtype=torch.float32).eval()
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                if tensor.is_floating_point():
                    tensor.data = tensor.data.half().float()
        greedy = []
        for prompt in expected["prompts"]:
            ids = torch.tensor([prompt])
            with torch.no_grad():
                generated = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                           max_new_tokens=expected["maxNewTokens"], eos_token_id=expected["eos"],
                                           pad_token_id=expected["pad"])
            new = generated[0, ids.shape[1]:].tolist()
            for i, t in enumerate(new):  # up to and including the first eos, as expected.json's greedy
                if t in expected["eos"]:
                    new = new[: i + 1]
                    break
            greedy.append(new)
        out[fixture] = {"checkpoint": checkpoint, "greedy": greedy,
                        "equalsOrtFloat16": greedy == expected["variants"][expected["graph"] if ":" not in fixture
                                                                          else "onnx/model_fp16.onnx"]["greedy"]}
    out["_made_with"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    Path("fp16_as_float32.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v.get("equalsOrtFloat16") for k, v in out.items() if k != "_made_with"}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../../../../../../shared/models")
