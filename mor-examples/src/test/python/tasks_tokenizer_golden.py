#!/usr/bin/env python3
"""Writes the HF `tokenizers` goldens for the benchmark tokenizer (TaskTokenizerHfGoldenTest).

Usage: tasks_tokenizer_golden.py BENCH_DIR OUT_DIR
  BENCH_DIR: written by `./mor make-tasks --out BENCH_DIR --seed 0 --train-per-task 200 --test-per-task 50
             --pretrain-per-op 200` (the settings TaskTokenizerHfGoldenTest uses)
  OUT_DIR:   mor-examples/src/test/resources/tasks
Copies BENCH_DIR/tokenizer/tokenizer.json and tokenizer_config.json to OUT_DIR, and writes
OUT_DIR/hf_ids.json: for texts taken from the benchmark's files (and a few with characters outside the
vocabulary), the ids the HF tokenizers library gives with and without special tokens, and its decoding.
"""
import json
import shutil
import sys

import tokenizers

bench, out = sys.argv[1], sys.argv[2]
tok = tokenizers.Tokenizer.from_file(f"{bench}/tokenizer/tokenizer.json")
texts = []
for name, n in (("train.jsonl", 12), ("test.jsonl", 12), ("pretrain.jsonl", 12)):
    with open(f"{bench}/{name}", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][:n]
    for r in rows:
        user, answer = r["messages"][0]["content"], r["messages"][1]["content"]
        texts.append(user)
        texts.append(f"<|user|>\n{user}\n<|assistant|>\n{answer}</s>")
texts += ["  two leading spaces", "trailing space ", "naïve café ✓ 日本 🙂", "tab\there\r\n", "<|system|>\nBe brief.\n"]
rows = []
for t in texts:
    with_special = tok.encode(t, add_special_tokens=True).ids
    no_special = tok.encode(t, add_special_tokens=False)
    rows.append({"text": t, "ids": with_special, "ids_no_special": no_special.ids,
                 "tokens_no_special": no_special.tokens,
                 "decoded_no_special": tok.decode(no_special.ids, skip_special_tokens=False)})
shutil.copy(f"{bench}/tokenizer/tokenizer.json", f"{out}/tokenizer.json")
shutil.copy(f"{bench}/tokenizer/tokenizer_config.json", f"{out}/tokenizer_config.json")
with open(f"{out}/hf_ids.json", "w", encoding="utf-8") as f:
    f.write('{"tokenizers_version": %s, "texts": [\n' % json.dumps(tokenizers.__version__))
    f.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    f.write("\n]}\n")
print(f"wrote {len(rows)} texts with tokenizers {tokenizers.__version__} to {out}")
