"""`import coding` stays light: no Streamlit, and no heavy model or NLP stacks at import time."""

import subprocess
import sys

HEAVY = ("streamlit", "torch", "sentence_transformers", "spacy", "transformers")


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_coding_does_not_import_streamlit_or_models():
    loaded = _modules_after("import coding")
    assert not [m for m in HEAVY if m in loaded]


def test_library_modules_do_not_import_streamlit():
    statement = (
        "import coding.service, coding.cli, coding.database.tables, coding.database.engine, "
        "coding.alignment, coding.bundle"
    )
    loaded = _modules_after(statement)
    assert "streamlit" not in loaded
    assert not [m for m in ("torch", "sentence_transformers", "spacy") if m in loaded]


def test_the_check_detects_a_heavy_import():
    # guard against a vacuous test: importing streamlit directly must show up
    assert "streamlit" in _modules_after("import streamlit")


PURE_MODULES = (
    "codebook", "codebook_yaml", "transcripts", "textio", "codings_table", "captions", "segmentation", "attributes", "agreement", "ratings", "alpha_bootstrap", "presence", "reliability", "shares", "charts",
    "xlsx", "refiqda", "suggestion_inputs", "suggestions", "evaluation", "alignment", "bundle",
)


def test_pure_modules_import_no_database_ui_or_model_stack():
    statement = "import " + ", ".join(f"coding.{m}" for m in PURE_MODULES)
    loaded = _modules_after(statement)
    forbidden = ("sqlalchemy", "sqlmodel", "streamlit", "torch", "sentence_transformers", "coding.database",
                 "coding.service", "coding.embeddings", "spacy")
    assert [m for m in forbidden if m in loaded] == []


def test_the_command_line_starts_without_the_database_or_data_stacks():
    """``codeframe --help`` builds the whole parser; the handlers import what they need when they run."""
    loaded = _modules_after("import coding.cli; coding.cli.build_parser()")
    forbidden = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "alembic", "torch", "sentence_transformers", "spacy",
                 "streamlit", "yaml", "coding.service", "coding.database")
    assert [m for m in forbidden if m in loaded] == []
    assert "coding.cli.suggest" in loaded  # every command module was imported, so the check is not vacuous
