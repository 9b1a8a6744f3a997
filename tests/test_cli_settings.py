"""Languages choose the model; `codeframe settings` shows and changes it (issue 15)."""

from __future__ import annotations

import pytest

from coding import service
from coding.cli import main
from coding.database.engine import make_engine
from coding.errors import CodeframeError

RU = "Интервьюер: Как вы оцениваете реформы?\nРеспондент: Реформа должна быть системной и последовательной.\n"
EN = "Interviewer: How do you see the reforms?\nRespondent: Reform has to be systematic and consistent.\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_in_kazakh_uses_the_multilingual_model_and_settings_can_change_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'kk.sqlite'}"
    assert run(capsys, "--db", url, "init", "--language", "kk")[0] == 0
    code, out, _ = run(capsys, "--db", url, "settings")
    assert code == 0 and "model multilingual-e5-small-q4" in out
    assert "* multilingual-e5-small-q4" in out and "all-MiniLM-L6-v2" in out and "kk" in out
    code, out, _ = run(capsys, "--db", url, "settings", "--model", "all-MiniLM-L6-v2")
    assert code == 0 and "model all-MiniLM-L6-v2" in out
    code, _, err = run(capsys, "--db", url, "settings", "--model", "no-such-model")
    assert code == 2 and "unknown embedding model 'no-such-model'" in err
    assert service.get_project(make_engine(url)).embedding_model == "all-MiniLM-L6-v2"  # unchanged by the error


def test_the_language_and_the_documents_choose_the_default_model(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lang.sqlite'}")
    assert service.create_project(engine, "ru", language="ru").embedding_model == "multilingual-e5-small-q4"
    assert service.update_settings(engine, "ru", language="en").embedding_model == "all-MiniLM-L6-v2"  # follows
    service.update_settings(engine, "ru", embedding_model="use-multilingual-v3")
    assert service.update_settings(engine, "ru", language="kk").embedding_model == "use-multilingual-v3"  # chosen
    with pytest.raises(CodeframeError, match="unknown embedding model"):
        service.update_settings(engine, "ru", embedding_model="nope")

    service.create_project(engine, "mixed", language="en")
    report = service.import_transcripts(engine, "mixed", [("R1.txt", EN.encode()), ("R2.txt", RU.encode())],
                                        language="auto")
    assert report.notes == [] and service.get_project(engine, "mixed").embedding_model == "all-MiniLM-L6-v2"
    report = service.import_transcripts(engine, "mixed", [("R3.txt", RU.replace("системной", "полной").encode()),
                                                          ("R4.txt", RU.replace("системной", "быстрой").encode())],
                                        language="auto")
    assert service.get_project(engine, "mixed").embedding_model == "multilingual-e5-small-q4"  # 3 of 4 Russian
    assert any("multilingual-e5-small-q4" in note for note in report.notes)
