"""Codeframe benchmarks: every stage of the pipeline timed against a plain baseline in the same run.

Run ``python -m benchmarks`` (or ``make bench``); see benchmarks/README.md. Not part of the
installed package: the benchmarks import :mod:`coding` and add benchmark-only tools
(pyinstrument, the ``bench`` extra).
"""
