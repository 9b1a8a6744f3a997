"""``codeframe settings``: show or change a project's settings (language, unit, blind mode, embedding model)."""

from __future__ import annotations

from coding.cli.common import engine_from_args

LANGUAGES = ("en", "ru", "kk")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "settings",
        help="show or change the project's language, unit of coding, blind mode and embedding model",
        description="Without options: print the settings and the models of the registry with their languages. "
                    "Russian and Kazakh projects use multilingual-e5-small-q4 unless --model says otherwise.",
    )
    p.add_argument("--model", metavar="ID", help="the embedding model for suggestions (an id of models.yaml)")
    p.add_argument("--language", choices=LANGUAGES, help="the project language")
    p.add_argument("--unit", choices=("sentence", "turn"), help="unit of coding for transcripts imported from now on")
    p.add_argument("--blind", choices=("on", "off"), help="blind mode")
    p.set_defaults(func=cmd_settings)


def cmd_settings(args) -> int:
    from coding import service

    engine = engine_from_args(args)
    changes = {"embedding_model": args.model, "language": args.language, "segmentation_unit": args.unit,
               "blind_mode": None if args.blind is None else args.blind == "on"}
    if any(v is not None for v in changes.values()):
        info = service.update_settings(engine, args.project, **changes, actor=getattr(args, "as_user", None))
    else:
        info = service.get_project(engine, args.project)
    print(f"project {info.name!r}: language {info.language}, unit {info.segmentation_unit}, "
          f"blind mode {'on' if info.blind_mode else 'off'}, model {info.embedding_model}")
    print("\nmodels in the registry:")
    for m in service.model_choices():
        mark = "*" if m["id"] == info.embedding_model else " "
        print(f" {mark} {m['id']:<28} {m['backend']:<22} languages: {', '.join(m['languages']) or 'not listed'}")
    return 0
