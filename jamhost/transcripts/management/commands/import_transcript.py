"""Import a past jam from a CSV (the export's format) or saved X API v2 search JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jamhost.transcripts.import_parse import ImportRefused
from jamhost.transcripts.importer import ImportOptions, format_detect, rows_read, transcript_import


class Command(BaseCommand):
    help = (
        "Import a past jam's transcript into a new archived jam. All or nothing: any bad "
        "row is reported with its line number and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv in the export's columns, or X search .json")
        parser.add_argument("--host", required=True, help="username of the jam's host here")
        parser.add_argument("--format", choices=["auto", "csv", "x"], default="auto")
        parser.add_argument("--title", default="")
        parser.add_argument("--hashtag", default="", help="default: the tag most posts carry")
        parser.add_argument("--encoding", default="", help="CSV only; default UTF-8 or its BOM")
        parser.add_argument("--host-handle", default="", help="X JSON: the host's X handle")
        parser.add_argument("--panelists", default="", help="X JSON: comma-separated handles")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            source = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        with source:
            self._import(path, source, options)

    def _import(self, path: Path, source: BinaryIO, options: dict[str, Any]) -> None:
        host = get_user_model().objects.filter(username=options["host"]).first()
        if host is None:
            raise CommandError(f"There is no user “{options['host']}”. Create the account first.")
        import_options = ImportOptions(
            file_format=options["format"],
            title=options["title"],
            hashtag=options["hashtag"],
            encoding=options["encoding"],
            host_handle=options["host_handle"],
            panelists=tuple(p for p in options["panelists"].split(",") if p.strip()),
        )
        file_format = format_detect(
            filename=path.name, head=source.read(64), chosen=options["format"]
        )
        source.seek(0)

        def progress(done: int, read: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"checked {done} rows ({read:,} bytes)")

        try:
            rows = rows_read(
                source=source, file_format=file_format, options=import_options, progress=progress
            )
            jam = transcript_import(owner=host, rows=rows, options=import_options)
        except ImportRefused as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path.name}: {problem}")
            raise CommandError(
                f"Nothing was imported: {len(exc.problems)} problem(s) in {path.name}."
            ) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(rows)} posts as “{jam.title}” (/jams/{jam.slug}/transcript/)."
            )
        )
