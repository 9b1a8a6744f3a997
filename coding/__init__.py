"""Codeframe: code qualitative interview transcripts against a codebook.

Importing :mod:`coding` is cheap on purpose: spaCy, sentence-transformers,
torch and Streamlit are imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
