"""Many coders at once, as threads and as processes, on SQLite and PostgreSQL.

After the storm the current codings must equal the replay of the append-only history:
every event's ``before`` matches the state the events before it produced (no lost
update), and the unique constraint keeps one row per (segment, code, coder).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from coding import service
from coding.database.engine import make_engine
from coding.database.tables import Code, Coder, Coding, CodingEvent
from coding.service.codings import snapshot

PROJECT = "default"
WORKERS = 8
OPERATIONS = 150
SHARED = "shared"  # one coder every worker writes for too: the same person in several browser tabs
CODES = (
    "rd_systemic_approach", "rd_resistance_to_change", "rd_human_capital", "rd_delegation",
    "rd_evidence_based", "cs_evolutionary", "cs_progressive",  # the last two: a mutually exclusive frame
)
_BARRIER = None  # in pool processes: makes the eight jobs run at once, one per process

TRANSCRIPT = (
    "Interviewer: How did the reform go?\n"
    "Respondent: We need a systematic approach.\n"
    "Interviewer: Why?\n"
    "Respondent: The old model failed and nobody coordinated anything.\n"
    "Interviewer: And trust?\n"
    "Respondent: Trust in government is low.\n"
    "Interviewer: What would help?\n"
    "Respondent: Citizens want openness and data.\n"
    "Interviewer: Anything else?\n"
    "Respondent: Training for civil servants matters most.\n"
)


def _codes(engine) -> list[str]:
    keys = [c.id for c in service.project_codebook(engine, PROJECT).codes()]
    chosen = [k for k in CODES if k in keys]
    return chosen if len(chosen) >= 4 else keys[:7]


def _setup(url: str) -> tuple[list[int], list[str]]:
    """A project with two shared transcripts (speaker turns as units) and nine coders."""
    engine = make_engine(url)
    try:
        service.create_project(engine, PROJECT)
        files = [(f"R{i:02d}.txt", (TRANSCRIPT + f"Respondent: Closing remark number {i}.\n").encode()) for i in (1, 2)]
        service.import_transcripts(engine, PROJECT, files, unit="turn")
        for i in range(WORKERS):
            service.ensure_coder(engine, PROJECT, f"coder{i}")
        service.ensure_coder(engine, PROJECT, SHARED)
        units = [s.id for d in service.list_documents(engine, PROJECT)
                 for s in service.document_view(engine, PROJECT, d.id, viewer=SHARED).segments if s.is_unit]
        return units, _codes(engine)
    finally:
        engine.dispose()


def _work(job: tuple[str, int, list[int], list[str], int]) -> int:
    """One coder's session: random adds, removes, memos and undos; returns operations done.

    With ``hot`` (a sixth job field), the eight coders crowd onto three units and three codes,
    mostly as the shared coder, and undo every third step: the same coding is then removed,
    re-added and undone by several processes at once (the race that once logged an undo of
    a coding another process had just put back).
    """
    url, index, units, codes, operations, *hot = (*job,)
    hot = bool(hot and hot[0])
    rng = random.Random(1000 + index)
    if hot:
        units, codes = units[:3], codes[:3]
    engine = make_engine(url, migrate_schema=False)
    if _BARRIER is not None:
        _BARRIER.wait(timeout=300)
    done = 0
    try:
        for step in range(operations):
            coder = SHARED if rng.random() < (0.6 if hot else 0.3) else f"coder{index}"
            segment, code = rng.choice(units), rng.choice(codes)
            roll = rng.random()
            add, remove, memo = (0.4, 0.6, 0.7) if hot else (0.5, 0.85, 0.95)
            if roll < add:
                service.add_coding(engine, PROJECT, segment_id=segment, code=code, coder=coder)
            elif roll < remove:
                service.remove_coding(engine, PROJECT, segment_id=segment, code=code, coder=coder)
            elif roll < memo:
                service.add_coding(engine, PROJECT, segment_id=segment, code=code, coder=coder,
                                   memo=f"memo {index}.{step}")
            else:
                service.undo(engine, PROJECT, coder=coder, steps=rng.randint(1, 3))
            done += 1
    finally:
        engine.dispose()
    return done


def _init_process(barrier) -> None:
    global _BARRIER
    _BARRIER = barrier


def _process_job(job) -> tuple[int, int]:
    import os

    return os.getpid(), _work(job)


@pytest.fixture(scope="module")
def process_pool():
    """Eight spawned processes, shared by the backends (spawning is the slow part)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS, initializer=_init_process, initargs=(context.Barrier(WORKERS),)) as pool:
        yield pool


def _assert_state_is_replay_of_history(url: str) -> list[CodingEvent]:
    engine = make_engine(url, migrate_schema=False)
    try:
        with Session(engine) as session:
            events = session.exec(select(CodingEvent).order_by(CodingEvent.id)).all()
            codings = session.exec(select(Coding)).all()
        state: dict[tuple[int, int, int], dict] = {}
        for event in events:
            key = (event.segment_id, event.code_id, event.coder_id)
            assert event.before == state.get(key), f"event {event.id} ({event.action}) saw a state that was lost"
            if event.after is None:
                state.pop(key, None)
            else:
                state[key] = event.after
        current = {(c.segment_id, c.code_id, c.coder_id): snapshot(c) for c in codings}
        assert len(current) == len(codings)  # one row per (segment, code, coder)
        assert current == state
        return events
    finally:
        engine.dispose()


def test_threads_of_concurrent_coders_leave_state_equal_to_replayed_history(db_url):
    units, codes = _setup(db_url)
    jobs = [(db_url, i, units, codes, OPERATIONS) for i in range(WORKERS)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        assert list(pool.map(_work, jobs)) == [OPERATIONS] * WORKERS
    events = _assert_state_is_replay_of_history(db_url)
    assert {e.action for e in events} >= {"add", "remove", "memo", "undo"}
    assert len({e.coder_id for e in events}) == WORKERS + 1


def test_processes_of_concurrent_coders_leave_state_equal_to_replayed_history(db_url, process_pool):
    units, codes = _setup(db_url)
    jobs = [(db_url, i, units, codes, OPERATIONS) for i in range(WORKERS)]
    results = process_pool.map(_process_job, jobs, chunksize=1)
    assert [done for _, done in results] == [OPERATIONS] * WORKERS
    assert len({pid for pid, _ in results}) == WORKERS  # eight processes at once
    events = _assert_state_is_replay_of_history(db_url)
    assert {e.action for e in events} >= {"add", "remove", "memo", "undo"}
    assert len({e.coder_id for e in events}) == WORKERS + 1


def test_processes_crowding_onto_the_same_codings_leave_state_equal_to_replayed_history(db_url, process_pool):
    units, codes = _setup(db_url)
    jobs = [(db_url, i, units, codes, OPERATIONS, True) for i in range(WORKERS)]
    results = process_pool.map(_process_job, jobs, chunksize=1)
    assert [done for _, done in results] == [OPERATIONS] * WORKERS
    events = _assert_state_is_replay_of_history(db_url)
    undos = [e for e in events if e.action == "undo"]
    assert len(undos) > WORKERS * OPERATIONS * 0.3 * 0.5  # most undos found something to revert
    assert len({(e.segment_id, e.code_id) for e in events}) <= 9


def test_simultaneous_adds_of_the_same_coding_make_one_row_and_one_event(db_url):
    units, codes = _setup(db_url)
    engine = make_engine(db_url, migrate_schema=False)
    barrier = threading.Barrier(WORKERS)

    def add(_):
        barrier.wait()
        return service.add_coding(engine, PROJECT, segment_id=units[0], code=codes[0], coder=SHARED)

    try:
        for _round in range(3):
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                ids = list(pool.map(add, range(WORKERS)))
            assert len(set(ids)) == 1
            assert service.remove_coding(engine, PROJECT, segment_id=units[0], code=codes[0], coder=SHARED)
        history = service.history(engine, PROJECT, coder=SHARED)
        assert list(history["action"]) == ["add", "remove"] * 3
    finally:
        engine.dispose()
    _assert_state_is_replay_of_history(db_url)


def test_direct_duplicate_coding_insert_is_refused_by_the_database(db_url):
    units, codes = _setup(db_url)
    engine = make_engine(db_url, migrate_schema=False)
    try:
        service.add_coding(engine, PROJECT, segment_id=units[0], code=codes[0], coder=SHARED)
        with Session(engine) as session:
            code_id = session.exec(select(Code.id).where(Code.key == codes[0])).one()
            coder_id = session.exec(select(Coder.id).where(Coder.name == SHARED)).one()
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(sa.insert(Coding.__table__).values(
                    segment_id=units[0], code_id=code_id, coder_id=coder_id, source="hand",
                    created=sa.func.now(), updated=sa.func.now()))
        with Session(engine) as session:
            assert len(session.exec(select(Coding)).all()) == 1
    finally:
        engine.dispose()
