"""Test fixture: the SentencePiece-style pipelines other model families ship, applied to one vocabulary.

Takes ../shared/tokenizers/llama2.tokenizer.json (BPE with byte_fallback), replaces its normalizer, pre_tokenizer and
decoder with each variant below (the spellings found in the tokenizer.json files of Llama / Mistral exports made with
legacy=False, of older Metaspace exports, and of Gemma), and records HuggingFace tokenizers' ids and decoded text for
every text of llama2.expected.jsonl plus texts around special tokens. Run from this directory:

    python make_variants.py ../../../../../../../shared/tokenizers

Writes variants.json (the replaced components) and expected.jsonl ({"text", "ids": {variant: ids},
"decoded": {variant: text}}).
"""
import hashlib
import json
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

SPACE = "\u2581"
REPLACE_SPACE = {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}
UNREPLACE_SPACE = {"type": "Replace", "pattern": {"String": SPACE}, "content": " "}
STRIP = {"type": "Strip", "content": " ", "start": 1, "stop": 0}

VARIANTS = {
    # Llama / Mistral tokenizer.json written with legacy=False: Metaspace prepends "▁" to the text's start only
    "metaspace-first": {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": False},
        "decoder": {"type": "Sequence", "decoders": [UNREPLACE_SPACE, {"type": "ByteFallback"}, {"type": "Fuse"}, STRIP]},
    },
    # older files: the legacy add_prefix_space key (prepend to every text between special tokens), split into words
    "metaspace-always-split": {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPACE, "add_prefix_space": True},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": SPACE, "add_prefix_space": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
    },
    # Gemma: spaces become "▁", nothing is prepended, decoding strips nothing
    "gemma": {
        "normalizer": REPLACE_SPACE,
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [UNREPLACE_SPACE, {"type": "ByteFallback"}, {"type": "Fuse"}]},
    },
    # a Replace normalizer before a splitting Metaspace that prepends to the first text only
    "replace-metaspace-first-split": {
        "normalizer": REPLACE_SPACE,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": True},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
    },
}

AROUND_SPECIALS = [
    "<s>Hello", "<s> Hello", "Hello</s>", "Hello</s> world", "Hello </s>world", "</s>", "</s> ", " </s>  a",
    "a<unk>b", "<s><s>x", "x\n</s>\ny", "  <s>  two spaces", "\n<s>\n", "Hi</s>\u2581there", "<s>\u00e9t\u00e9</s>",
]


def main(shared_tokenizers):
    base_path = Path(shared_tokenizers) / "llama2.tokenizer.json"
    base_bytes = base_path.read_bytes()
    base = json.loads(base_bytes)
    texts = [json.loads(line)["text"] for line in (Path(shared_tokenizers) / "llama2.expected.jsonl").open()]
    texts += AROUND_SPECIALS
    loaded = {}
    for name, parts in VARIANTS.items():
        doc = dict(base)
        doc.update(parts)
        loaded[name] = Tokenizer.from_str(json.dumps(doc))
    with open("variants.json", "w") as f:
        json.dump({"base": "llama2.tokenizer.json", "baseSha256": hashlib.sha256(base_bytes).hexdigest(),
                   "tokenizers": tokenizers.__version__, "variants": VARIANTS}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open("expected.jsonl", "w") as f:
        for text in texts:
            ids = {name: t.encode(text, add_special_tokens=False).ids for name, t in loaded.items()}
            decoded = {name: loaded[name].decode(ids[name], skip_special_tokens=False) for name in loaded}
            f.write(json.dumps({"text": text, "ids": ids, "decoded": decoded}, ensure_ascii=False) + "\n")
    print(len(texts), "texts,", len(VARIANTS), "variants, tokenizers", tokenizers.__version__)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../../../../../../../shared/tokenizers")
