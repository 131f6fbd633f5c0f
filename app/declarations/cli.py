"""``csw declarations lodge``: lodge documents from files through the very pipeline of
``POST /api/v1/declarations``, as the named API client (``csw seed`` lodges its demo
declarations the same way)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import click

from app.declarations import pipeline
from app.declarations.pipeline import LodgingTools
from app.domain.actors import Caller
from app.domain.problems import Rejection
from app.platform.uow import UnitOfWork


class Wiring(Protocol):
    """What lodging from the command line needs of the process's wiring (``app.bootstrap.Runtime``)."""

    @property
    def lodging(self) -> LodgingTools: ...

    def unit_of_work(self) -> UnitOfWork: ...

    def client_caller(self, name: str) -> Caller | None: ...


@dataclass(frozen=True, slots=True)
class Lodgement:
    """What became of one file."""

    name: str
    declaration_id: str | None = None
    lrn: str | None = None
    status: str | None = None
    lane: str | None = None
    replay: bool = False
    refusal: str | None = None

    def line(self) -> str:
        if self.refusal is not None:
            return f"{self.name} refused: {self.refusal}"
        return (f"{self.lrn} ({self.declaration_id}): {self.status}, {self.lane or 'no'} lane"
                + (" (already lodged)" if self.replay else ""))


def lodge_documents(wiring: Wiring, caller: Caller, documents: Iterable[tuple[str, bytes]]) -> list[Lodgement]:
    """Lodge each document in a unit of work of its own; a refusal is reported, not raised."""
    results = []
    for name, body in documents:
        with wiring.unit_of_work() as uow:
            try:
                lodged = pipeline.lodge(uow, wiring.lodging, body,
                                        pipeline.submission(caller, str(uuid.uuid4())))
                uow.commit()
            except Rejection as rejection:
                results.append(Lodgement(name, refusal=f"{rejection.code}: {rejection.message}"))
                continue
        receipt = lodged.outcome.receipt
        lane = None if lodged.risk is None or lodged.outcome.replay else lodged.risk.lane.value
        results.append(Lodgement(name, receipt.id, receipt.lrn, receipt.status, lane, lodged.outcome.replay))
    return results


@click.group("declarations")
def declarations() -> None:
    """Declarations: lodge from files."""


@declarations.command("lodge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--client", "client_name", required=True, help="The API client (see 'csw clients list') to lodge as.")
@click.pass_obj
def lodge(wiring: Wiring, files: tuple[Path, ...], client_name: str) -> None:
    """Lodge declaration files as CLIENT would through the API; exits 1 if any is refused."""
    caller = wiring.client_caller(client_name)
    if caller is None or caller.party_id is None:
        raise click.ClickException(f"no live API client named {client_name!r} bound to a party")
    results = lodge_documents(wiring, caller, ((path.name, path.read_bytes()) for path in files))
    for result in results:
        click.echo(result.line())
    if any(result.refusal for result in results):
        raise SystemExit(1)
