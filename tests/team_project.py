"""A small team project for the numbers-and-privacy tests (issue 27): three coders, a supervisor,
five respondents (one interviewed in Russian), blind mode on, and ``pilot`` excluded on request."""

from __future__ import annotations

from coding import service

P = "team"
FRAME = "reform_directions"
CODERS = ("cal", "dana", "pilot")
TEXTS = {
    "R1": "We need a systematic and comprehensive approach to reform. Salaries must rise.",
    "R2": "Salaries matter most. Training of staff is second.",
    "R3": "A systematic approach, nothing else.",
    "R4": "I have nothing to add about reform.",
}
RUSSIAN = ("R5", "Нужен системный и комплексный подход к реформе. Зарплаты тоже важны.")


def units(engine, document: str, project: str = P) -> list[int]:
    doc = next(d for d in service.list_documents(engine, project) if d.name == document)
    return [s.id for s in service.document_view(engine, project, doc.id, viewer="sup").segments if s.is_unit]


def build(engine, tmp_path, *, blind: bool = True, exclude_pilot: bool = False) -> None:
    """cal (4 respondents) and dana (5) code, R1 with two codes of the non-exclusive frame; pilot codes R1 only."""
    service.create_project(engine, P)
    for name in CODERS:
        service.ensure_coder(engine, P, name, role="coder")
    service.ensure_coder(engine, P, "sup", role="supervisor")
    files = []
    for name, text in TEXTS.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(f"Interviewer: What should change?\n\nRespondent: {text}\n", encoding="utf-8")
        files.append(path)
    service.import_transcripts(engine, P, files, language="en")
    ru = tmp_path / f"{RUSSIAN[0]}.txt"
    ru.write_text(f"Интервьюер: Что изменить?\n\nРеспондент: {RUSSIAN[1]}\n", encoding="utf-8")
    service.import_transcripts(engine, P, [ru], language="ru")
    plan = {
        "cal": {"R1": [(0, "rd_systemic_approach"), (1, "rd_human_capital")], "R2": [(0, "rd_human_capital")],
                "R3": [(0, "rd_systemic_approach")], "R5": [(0, "rd_systemic_approach")]},
        "dana": {"R1": [(0, "rd_systemic_approach"), (0, "rd_human_capital")], "R2": [(0, "rd_human_capital")],
                 "R3": [(0, "rd_delegation")], "R5": [(0, "rd_systemic_approach")]},
        "pilot": {"R1": [(0, "rd_delegation"), (1, "rd_delegation")]},
    }
    for coder, documents in plan.items():
        for document, codings in documents.items():
            ids = units(engine, document)
            for position, code in codings:
                service.add_coding(engine, P, segment_id=ids[position], code=code, coder=coder)
    for coder in ("cal", "dana"):  # dana finished every transcript, cal all but R4
        for doc in service.list_documents(engine, P):
            if (coder, doc.name) != ("cal", "R4"):
                service.mark_done(engine, P, doc.id, coder=coder, frames=[FRAME])
    if blind:
        service.update_settings(engine, P, blind_mode=True)
    if exclude_pilot:
        assert service.set_excluded(engine, P, kind="coder", name="pilot", actor="sup", reason="pilot coder")
