"""``csw audit seal|verify|head``: the tamper-evident audit log from the command line."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import timedelta

import click

from app.audit import service
from app.audit.jobs import audit_seal
from app.platform.clock import utcnow
from app.platform.jobs import run_job
from app.platform.commands import database as command_database
from app.platform.commands import reading as command_reading



@click.group()
def audit() -> None:
    """Tamper-evident audit log (hash chain over every event)."""


@audit.command("seal")
def seal_command() -> None:
    """Link every event row not yet on the chain (the audit-seal job does this every few seconds)."""
    run = run_job(command_database(), "audit-seal", audit_seal)
    if run is None:
        click.echo("another sealer is running; nothing done")
        return
    click.echo(json.dumps(run.detail))
    if run.outcome != "ok":
        sys.exit(1)


@audit.command("head")
def head_command() -> None:
    """Print the chain's head as SEQUENCE:HASH, to record outside the database as an anchor."""
    with command_reading() as session:
        sequence, link = service.head(session)
    click.echo(f"{sequence}:{link}")


@audit.command("verify")
@click.option("--anchor", help="A head printed earlier by 'csw audit head' (SEQUENCE:HASH).")
@click.option("--grace-minutes", default=5, show_default=True,
              help="Rows younger than this may still be waiting for the sealer.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(anchor: str | None, grace_minutes: int, as_json: bool) -> None:
    """Check every event row against the chain and the chain against itself; exit 1 on any problem."""
    expected = None
    if anchor:
        sequence, _, link = anchor.partition(":")
        if not sequence.isdigit() or len(link) != 64:
            raise click.BadParameter("expected SEQUENCE:HASH as printed by 'csw audit head'", param_hint="--anchor")
        expected = (int(sequence), link)
    with command_reading() as session:
        report = service.verify(session, utcnow(), timedelta(minutes=grace_minutes), expected)
    if as_json:
        click.echo(json.dumps({"intact": report.intact, "links": report.links, "rows": report.rows,
                               "problems": [asdict(problem) for problem in report.problems]}))
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind}: {problem.message}")
        click.echo(f"{'intact' if report.intact else 'TAMPERED'}: {report.links} links, {report.rows} rows checked")
    if not report.intact:
        sys.exit(1)
