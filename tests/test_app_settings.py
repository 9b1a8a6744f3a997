"""The Settings page driven with AppTest on a copy of the sample database: the layout of its sections."""

from __future__ import annotations

from apptest import APP, ok
from streamlit.testing.v1 import AppTest


def walk(node):
    """Every element of a page in the order it is drawn (depth first through blocks)."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from walk(children[key])


def settings_page() -> AppTest:
    at = ok(AppTest.from_file(str(APP), default_timeout=90).run())
    return ok(at.switch_page("app_pages/settings.py").run())


def label_of(element) -> str:
    return str(getattr(element, "label", None) or getattr(element, "value", None) or "")


def test_the_model_choice_is_drawn_under_the_embedding_model_heading(app_engine):
    order = [label_of(e) for e in walk(settings_page().main)]
    heading = order.index("Embedding model")
    model = order.index("Model for suggestions")
    assert heading < model, order[:model + 1]
    precision = next(i for i, text in enumerate(order) if text.startswith("Precision on this machine"))
    assert heading < precision
