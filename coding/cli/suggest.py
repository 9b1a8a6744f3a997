"""``codeframe suggest`` and ``codeframe evaluate-suggestions``: embedding-based code suggestions.

``suggest`` lists the codes the model proposes for a coder's uncoded units (above each
code's threshold, with the matched part of the definition and the nearest coded passage
as evidence). ``evaluate-suggestions`` measures how well suggestions reproduce a gold
coder, zero-shot and few-shot under cross-validation grouped by respondent.
"""

from __future__ import annotations

import argparse
import sys

from coding.cli.common import CONSENSUS, engine_from_args, print_frame, print_json, whole_number

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``codeframe --help`` stays fast
if TYPE_CHECKING:  # imported in the handlers, so that ``codeframe --help`` stays fast
    import pandas as pd

    from coding import service

FORMATS = ("table", "csv", "json")
TEXT_WIDTH = 70  # characters of segment text shown in table format


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest",
        help="suggest codes for uncoded segments (embedding model, calibrated thresholds)",
        description="Codes suggested for a coder's uncoded units: zero-shot from the codebook, few-shot from "
                    "the project's codings (the coder's and the consensus). A mutually exclusive frame gives "
                    "every unit its best code with a calibrated probability (forced choice); in other frames "
                    "the model abstains below each code's threshold. At most K per unit, most probable first.",
    )
    p.add_argument("--frame", metavar="F", help="only this frame (default: every frame of the codebook)")
    p.add_argument("--document", metavar="D", help="only this document (its name, e.g. R01, or its id)")
    p.add_argument("--coder", metavar="C", default=CONSENSUS,
                   help="whose coding the suggestions are for (default: %(default)s)")
    p.add_argument("--top-k", type=whole_number(1), default=3, metavar="K",
                   help="at most K codes per segment across the frames, most probable first (default: %(default)s)")
    p.add_argument("--allow-none", action="store_true",
                   help="in mutually exclusive frames, let 'nothing applies' be an answer (default: every unit "
                        "gets its best code, with its probability)")
    p.add_argument("--min-score", type=_score, metavar="S", help="only suggestions scoring at least S (0-1)")
    p.add_argument("--include-coded", action="store_true", help="also segments the coder has already coded")
    p.add_argument("--order", choices=("document", "uncertain"), default="document",
                   help="document: in document order (default); uncertain: units from the least to the most "
                        "certain (the margin of the best code over the next), to check the doubtful ones first")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: %(default)s)")
    p.set_defaults(func=cmd_suggest)

    e = subparsers.add_parser(
        "evaluate-suggestions",
        help="precision, recall, F1 and kappa of suggestions against a gold coder",
        description="Zero-shot and few-shot suggestion quality against a gold coder's coding of one frame. "
                    "Few-shot figures come from cross-validation grouped by respondent: an interview is "
                    "never in both the training and the test part of a fold.",
    )
    e.add_argument("--frame", metavar="F", required=True, help="the frame to evaluate")
    e.add_argument("--gold", metavar="CODER", default=CONSENSUS,
                   help="the coder taken as the truth (default: %(default)s)")
    e.add_argument("--splits", type=whole_number(1), default=5, metavar="N",
                   help="cross-validation folds (default: %(default)s)")
    e.add_argument("--seed", type=int, default=0, help="seed for assigning respondents to folds (default: 0)")
    e.add_argument("--allow-none", action="store_true",
                   help="in a mutually exclusive frame, let 'nothing applies' be an answer (as suggest --allow-none)")
    e.add_argument("--no-curve", action="store_true", help="skip the learning curve (0, 2, 4, 8, 16 examples per code)")
    e.add_argument("--format", choices=FORMATS, default="table", help="output format (default: %(default)s)")
    e.set_defaults(func=cmd_evaluate)


def _document_id(engine, project: str, document: str) -> int:
    from coding import service
    from coding.errors import NotFound

    documents = service.list_documents(engine, project)
    for d in documents:
        if d.name == document:
            return d.id
    if document.isdigit() and any(d.id == int(document) for d in documents):
        return int(document)
    raise NotFound(f"no document {document!r} in project {project!r}")


def cmd_suggest(args) -> int:
    import pandas as pd

    from coding import service

    engine = engine_from_args(args)
    document_id = _document_id(engine, args.project, args.document) if args.document else None
    if args.frame:
        frames = [args.frame]
    else:
        frames = [f.id for f in service.project_codebook(engine, args.project).frames]
    found = service.suggest_frames(engine, args.project, frames=frames, coder=args.coder, document_id=document_id,
                                   top_k=args.top_k, include_coded=args.include_coded,
                                   allow_none=frames if args.allow_none else (), order=args.order)
    if args.min_score is not None:
        found = [s for s in found if s.score >= args.min_score]
    if args.format == "json":
        import dataclasses

        print_json([dataclasses.asdict(s) for s in found])
        return 0
    rows = pd.DataFrame([s.row() for s in found], columns=list(ROW_COLUMNS))
    if args.format == "csv":
        print_frame(rows, "csv")
        return 0
    if rows.empty:
        print(f"no suggestions for {args.coder} (nothing above threshold, or every unit already coded)")
        return 0
    short = rows.assign(
        text=rows["text"].map(_shorten),
        nearest=[_first_neighbour(s) for s in found],
        matched=rows["matched"].map(_shorten),
    )[["document", "position", "segment_id", "code", "score", "margin", "threshold", "text", "matched", "nearest"]]
    print_frame(short, "table", floatfmt="{:.2f}")
    for frame in dict.fromkeys(s.frame for s in found):
        for note in service.suggestion_notes(engine, args.project, frame=frame, coder=args.coder):
            print(f"note ({frame}): {note}", file=sys.stderr)
    print(f"\n{len(found)} suggestion(s) for {args.coder}; model {found[0].model_id}", file=sys.stderr)
    return 0


ROW_COLUMNS = ("segment_id", "document", "position", "frame", "code", "score", "threshold", "text", "matched",
               "matched_similarity", "nearest_coded", "model_id", "margin")  # SuggestionView.row()


def _shorten(text: str, width: int = TEXT_WIDTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _first_neighbour(s: "service.SuggestionView") -> str:
    if not s.evidence.neighbours:
        return ""
    n = s.evidence.neighbours[0]
    return f"{n.document}#{n.position} ({n.similarity:.2f})"


def cmd_evaluate(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    result = service.evaluate_suggestions(engine, args.project, frame=args.frame, gold=args.gold,
                                          n_splits=args.splits, seed=args.seed, allow_none=args.allow_none,
                                          curve_points=None if args.no_curve else (0, 2, 4, 8, 16))
    metrics = result.table()
    if args.format == "json":
        print_json({
            "frame": result.frame, "gold": result.gold, "model_id": result.model_id,
            "mutually_exclusive": result.exclusive, "units": result.units, "respondents": result.respondents,
            "gold_codings": result.gold_codings, "splits": len(result.fold_respondents),
            "metrics": _records(metrics), "ranking": _records(result.ranking), "folds": _records(result.folds),
            "calibration": _records(result.calibration), "reliability": _records(result.reliability),
            "learning_curve": _records(result.curve) if result.curve is not None else None,
            "allow_none": result.allow_none, "seconds": result.seconds,
            "accuracy_by_confidence": _records(result.confidence), "notes": list(result.notes),
        })
        return 0
    if args.format == "csv":
        print_frame(metrics, "csv")
        return 0
    print(f"frame {result.frame}: {result.units} units of {result.respondents} respondents covered by "
          f"{result.gold} ({result.gold_codings} gold codings); model {result.model_id}; "
          f"few-shot by {len(result.fold_respondents)}-fold cross-validation grouped by respondent\n")
    for note in result.notes:
        print(f"note: {note}")
    print()
    print_frame(metrics, "table")
    print()
    print_frame(result.ranking, "table")
    print("\naccuracy of the top code by confidence decile (margin over the next code; 1 = least certain)")
    print_frame(result.confidence, "table")
    print("\ncalibration (expected calibration error; reliability per confidence bin)")
    print_frame(result.calibration, "table")
    print()
    print_frame(result.reliability, "table")
    if result.curve is not None:
        shown = "forced choice" if result.exclusive and not result.allow_none else "after abstention"
        print(f"\nlearning curve (grouped by respondent): shown = what the coder sees ({shown}), "
              f"top1/top_k = the ranking")
        print_frame(result.curve, "table")
    return 0


def _records(df: pd.DataFrame) -> list[dict]:
    """Records with NaN as None, so the JSON is valid."""
    import math

    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in df.to_dict("records")]
