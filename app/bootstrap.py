"""The composition root: reference data loaded once, the one table of event handlers, the
declaration pipeline's tools, and the database wiring. The app factory, the CLI and the job
runner each build a ``Runtime`` here at start-up; nothing below this layer reaches for
globals, files or the environment to find them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.aeo import service as aeo_service
from app.reference.aeo_benefits import party_ids
from app.aeo.service import AeoStanding
from app.cargo import mapping as cargo_mapping
from app.cargo import rules as cargo_rules
from app.cargo import service as cargo_service
from app.cargo import manifest_mapping
from app.cargo import manifest_rules
from app.cargo import manifests as manifest_service
from app.domain.manifests import Manifest, ReceivedManifest, consignment_as_declaration
from app.domain.cargo import CargoInformation, ReceivedCargo, as_declaration
from app.domain.charges import Assessment
from app.domain.findings import Finding
from app.platform.clock import utcnow
from app.reference.aeo_benefits import summarise
from app.risk.scoring import NO_HISTORY
from app.cases import handlers as cases
from app.config import Settings
from app.db.session import make_engine, write_gate
from app.platform.together import Together
from app.declarations import handlers as declarations
from app.declarations.pipeline import LodgingTools, ScoreMany
from app.domain import events
from app.domain.actors import Caller
from app.domain.assessment import Assessed
from app.domain.declaration import Declaration, PartyRole, ReceivedDeclaration
from app.domain.risk import LaneThresholds, RiskResult
from app.domain.time import hong_kong_date
from app.intake.service import Intake
from app.portal.codelists import CodeLists as PickerLists
from app.portal.codelists import load as picker_lists
from app.platform.cache import TtlCache
from app.platform.uow import Database, Handler, UnitOfWork, WriteGate, install, make_session_factory
from app.risk import handlers as risk
from app.risk import service as risk_service
from app.risk.scoring import RiskEngine, ScoreRequest
from app.routing import handlers as routing
from app.reference import routing as routing_rules
from app.reference.routing import RoutingRules
from app.revenue import handlers as revenue
from app.revenue.gateway import PaymentGateway, RecordedPayment
from app.rules.assessment import RuleSet, assess
from app.transit import handlers as transit
from app.transit import network as transit_network
from app.transit.network import Network
from app.trips import handlers as trips
from app.users.clients import client_named
from app.cargo import handlers as cargo
from app.writeoff import handlers as writeoff
from app.writeoff import queries as writeoff_queries
from app.writeoff import rules as writeoff_rules
from app.writeoff.rules import WriteOffRules


@dataclass(frozen=True)
class Reference:
    """Everything read from ``rules/`` and ``schemas/`` (and the risk model), loaded and
    checked once at start-up: a broken file stops the service before it answers."""

    intake: Intake
    rule_set: RuleSet
    routing_rules: RoutingRules
    network: Network
    risk: RiskEngine | None
    pickers: PickerLists
    cargo_rules: tuple[cargo_rules.CargoRule, ...]
    writeoff_rules: WriteOffRules
    manifest_rules: manifest_rules.ManifestRules

    @classmethod
    def load(cls, settings: Settings) -> Reference:
        rule_set = RuleSet.load(settings.rules_dir)
        return cls(
            intake=Intake(settings.schema_dir, settings.max_error_count),
            rule_set=rule_set,
            routing_rules=RoutingRules.load(settings.rules_dir, rule_set.code_lists.control_points),
            network=transit_network.configure(settings.rules_dir),
            risk=RiskEngine.load(settings.rules_dir, settings.instance_dir, settings.release_green,
                                 settings.risk_model_dir),
            pickers=picker_lists(settings.rules_dir),
            cargo_rules=cargo_rules.load_rules(settings.rules_dir),
            writeoff_rules=writeoff_rules.load(settings.rules_dir),
            manifest_rules=manifest_rules.load_rules(settings.rules_dir),
        )


def handler_table(rules: RoutingRules, network: Network, write_off: WriteOffRules) -> dict[type, list[Handler]]:
    """Which capability reacts to which event, in the order they run (one table; see
    docs/architecture.md). Order matters where a handler reads what another wrote: the risk
    assessment is stored before the case that shows whether it was a random sample."""
    return {
        events.DeclarationLodged: [routing.notify_lodged, risk.on_declaration_lodged,
                                   partial(transit.on_declaration_lodged, network=network),
                                   cases.on_declaration_lodged, revenue.on_declaration_lodged,
                                   partial(writeoff.on_declaration_lodged, rules=write_off)],
        events.DeclarationAmended: [risk.on_declaration_amended,
                                    partial(transit.on_declaration_amended, network=network),
                                    partial(trips.on_declaration_amended, rules=rules), cases.on_declaration_amended,
                                    revenue.on_declaration_amended, routing.notify_amended,
                                    partial(writeoff.on_declaration_amended, rules=write_off)],
        events.DeclarationStatusChanged: [partial(routing.on_status_changed, rules=rules),
                                          routing.notify_status_changed,
                                          partial(trips.on_status_changed, rules=rules), transit.on_status_changed,
                                          revenue.on_status_changed,
                                          partial(writeoff.on_status_changed, rules=write_off)],
        events.DeclarationLaneChanged: [partial(trips.on_lane_changed, rules=rules), routing.notify_rerouted],
        events.DeclarationCancelled: [transit.on_declaration_cancelled, cases.on_declaration_cancelled,
                                      partial(writeoff.on_declaration_cancelled, rules=write_off)],
        events.ReleaseDecided: [declarations.on_release_decided],
        events.RefusalDecided: [declarations.on_refusal_decided],
        events.InspectionOrdered: [declarations.on_inspection_ordered, routing.notify_inspection_ordered],
        events.DocumentsRequested: [declarations.on_documents_requested, routing.notify_documents_requested],
        events.RerouteDecided: [declarations.on_reroute_decided],
        events.InspectionOutcomeRecorded: [risk.on_inspection_outcome, routing.notify_inspection_outcome],
        events.DocumentsAnswered: [cases.on_documents_answered, routing.notify_documents_answered],
        events.TransitAlertRaised: [cases.on_transit_alert],
        events.JourneyReleased: [declarations.on_journey_released, writeoff.on_journey_released],
        events.ManifestChanged: [partial(routing.on_manifest_changed, rules=rules)],
        events.CargoManifestDecided: [partial(routing.on_cargo_manifest_decided, rules=rules)],
        events.DutyDemandRaised: [partial(routing.on_duty_demand_raised, rules=rules), routing.notify_duty_demanded],
        events.DutySettled: [declarations.on_duty_settled, partial(routing.on_duty_settled, rules=rules),
                             routing.notify_duty_settled],
        events.DutyRefunded: [partial(routing.on_duty_refunded, rules=rules), routing.notify_duty_refunded],
        events.CargoLineLodged: [partial(writeoff.on_cargo_line_lodged, rules=write_off)],
        events.CargoLineCancelled: [writeoff.on_cargo_line_cancelled],
        events.CargoMoved: [cargo.on_cargo_moved, writeoff.on_cargo_moved],
        events.CargoControlDecided: [partial(trips.on_cargo_control_decided, rules=rules)],
        events.CargoSelected: [cases.on_cargo_selected],
        events.CargoSelectionClosed: [cases.on_cargo_selection_closed],
        events.CargoCaseDecided: [cargo.on_cargo_case_decided],
        events.CargoLineOverdue: [cases.on_cargo_line_overdue, partial(routing.on_cargo_line_overdue, rules=rules)],
    }


@dataclass
class Caches:
    """Per-worker caches of facts the hot path reads on every request but that change rarely."""

    api_keys: TtlCache[str, Caller]
    aeo_standings: TtlCache[tuple[str, date], AeoStanding | None]
    risk_history: TtlCache[str, int]
    risk_thresholds: TtlCache[str, LaneThresholds | None]


def _standings(session: Session, declaration: Declaration, day: date, rule_set: RuleSet,
               cache: TtlCache[tuple[str, date], AeoStanding | None]) -> dict[str, AeoStanding]:
    """The registry's standing of every id the declaration names, from the per-worker cache
    (``CSW_AEO_CACHE_SECONDS``) or, for the ids not in it, one short read."""
    standings: dict[str, AeoStanding] = {}
    missing = []
    for operator_id in party_ids(declaration):
        hit, standing = cache.get((operator_id, day))
        if not hit:
            missing.append(operator_id)
        elif standing is not None:
            standings[operator_id] = standing
    if missing:
        looked_up = aeo_service.standings_for(session, missing, day, rule_set.mra)
        for operator_id in missing:
            cache.put((operator_id, day), looked_up.get(operator_id))
        standings.update(looked_up)
    return standings


def _assessor(rule_set: RuleSet, cache: TtlCache[tuple[str, date], AeoStanding | None]
              ) -> Callable[[Session, Declaration, datetime], Assessed]:
    def assess_declaration(session: Session, declaration: Declaration, now: datetime) -> Assessed:
        """Business rules, charges and AEO benefits, with the AEO standings of the ids named and
        the cargo lines its previous documents name (their existence, their movement date)."""
        return assess(rule_set, declaration, now, _standings(session, declaration, hong_kong_date(now), rule_set,
                                                             cache),
                      writeoff_queries.known_lines(session, declaration.previous_documents))
    return assess_declaration


def _scorer(engine: RiskEngine | None, caches: Caches
            ) -> Callable[[Session, ReceivedDeclaration, Assessed, str | None], RiskResult | None]:
    def score(session: Session, received: ReceivedDeclaration, assessed: Assessed,
              reference: str | None) -> RiskResult | None:
        """Risk score, reasons and lane: the importer's history from the per-worker cache,
        transit alerts (amendments only) from one indexed read."""
        if engine is None:
            return None
        declaration = received.declaration
        importer = next((p.identifier for p in declaration.parties if p.role is PartyRole.IMPORTER), "")
        history = risk_service.importer_history(session, importer, caches.risk_history)
        alerts = risk_service.transit_alerts(session, [], reference) if reference else ()
        thresholds = risk_service.recent_thresholds(session, engine.policy, caches.risk_thresholds)
        return engine.assess(f"{declaration.declarant.identifier}/{declaration.lrn}", received.sha256, declaration,
                             assessed, alerts, history, reference or "", thresholds)
    return score


def _batch_scorer(engine: RiskEngine | None, caches: Caches) -> ScoreMany:
    def score_many(session: Session, documents: Sequence[tuple[ReceivedDeclaration, Assessed]]
                   ) -> list[RiskResult | None]:
        """``score`` for the new declarations of a batch, their items through the model together."""
        if engine is None:
            return [None] * len(documents)
        requests = []
        for received, assessed in documents:
            declaration = received.declaration
            importer = next((p.identifier for p in declaration.parties if p.role is PartyRole.IMPORTER), "")
            requests.append(ScoreRequest(
                f"{declaration.declarant.identifier}/{declaration.lrn}", received.sha256, declaration, assessed,
                history=risk_service.importer_history(session, importer, caches.risk_history),
                thresholds=risk_service.recent_thresholds(session, engine.policy, caches.risk_thresholds)))
        return list(engine.assess_many(requests))
    return score_many


_NO_CHARGES = Assessment(lines=(), duty_total=Decimal(0), declaration_charge=Decimal(0), clothing_levy=Decimal(0),
                         total=Decimal(0), value_hkd=Decimal(0))


def _profile_cargo(engine: RiskEngine, caches: Caches, rule_set: RuleSet, session: Session,
                   cargo: CargoInformation, declaration: Declaration, sha256: str,
                   findings: tuple[Finding, ...]) -> RiskResult:
    """A consignment's lane before arrival, by the same risk engine as declarations: the goods,
    parties, origin, history and the rules' findings, lowered for AEO lodgers."""
    standings = _standings(session, declaration, hong_kong_date(declaration.issued_at), rule_set,
                           caches.aeo_standings)
    assessed = Assessed(findings, _NO_CHARGES, "cargo",
                        summarise(declaration, standings, list(findings), rule_set.aeo_benefits))
    trader = declaration.parties[1].identifier
    history = risk_service.importer_history(session, trader, caches.risk_history) if trader else NO_HISTORY
    thresholds = risk_service.recent_thresholds(session, engine.policy, caches.risk_thresholds)
    return engine.assess(f"cargo/{cargo.submitter_id}/{cargo.lrn}", sha256, declaration, assessed,
                         (), history, "", thresholds)


def _cargo_profiler(engine: RiskEngine | None, caches: Caches, rule_set: RuleSet) -> cargo_service.Profile:
    def profile(session: Session, received: ReceivedCargo, findings: tuple[Finding, ...]) -> RiskResult | None:
        """Road cargo: its lane before the truck crosses."""
        if engine is None:
            return None
        declaration = as_declaration(received.cargo, utcnow())
        return _profile_cargo(engine, caches, rule_set, session, received.cargo, declaration, received.sha256,
                              findings)
    return profile


def _manifest_profiler(engine: RiskEngine | None, caches: Caches, rule_set: RuleSet) -> manifest_service.Profile:
    def profile(session: Session, manifest: Manifest, cargo: CargoInformation, sha256: str,
                findings: tuple[Finding, ...]) -> RiskResult | None:
        """A sea or air consignment: its lane before the conveyance arrives or departs."""
        if engine is None:
            return None
        declaration = consignment_as_declaration(manifest, cargo, utcnow())
        return _profile_cargo(engine, caches, rule_set, session, cargo, declaration, sha256, findings)
    return profile


def _manifest_tools(reference: Reference, caches: Caches, engine: RiskEngine | None
                    ) -> manifest_service.ManifestTools:
    def receive(body: bytes) -> ReceivedManifest:
        return manifest_mapping.received(body, reference.intake.check(body, "manifest"))

    def check(manifest: Manifest, now: datetime) -> list[Finding]:
        return manifest_rules.evaluate(reference.manifest_rules, manifest, reference.rule_set.code_lists, now)

    return manifest_service.ManifestTools(receive, check, _manifest_profiler(engine, caches, reference.rule_set),
                                          reference.manifest_rules.boundary_of)


def _cargo_tools(reference: Reference, caches: Caches, engine: RiskEngine | None) -> cargo_service.CargoTools:
    def receive(body: bytes) -> ReceivedCargo:
        return cargo_mapping.received(body, reference.intake.check(body, "cargo"))

    def check(cargo: CargoInformation, now: datetime) -> list[Finding]:
        return cargo_rules.evaluate(reference.cargo_rules, cargo, reference.rule_set.code_lists, now)

    return cargo_service.CargoTools(receive, check, _cargo_profiler(engine, caches, reference.rule_set))


@dataclass
class Runtime:
    """One process's wiring: settings, database, reference data, handlers, caches, pipeline."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    write_gate: WriteGate
    reference: Reference
    handlers: dict[type, list[Handler]]
    caches: Caches
    lodging: LodgingTools
    cargo: cargo_service.CargoTools
    manifests: manifest_service.ManifestTools
    payments: PaymentGateway = RecordedPayment()

    @property
    def database(self) -> Database:
        """The sessions with the write gate, for work outside a request (jobs, the dispatcher)."""
        return Database(self.sessions, self.write_gate)

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work on a session of its own (CLI commands, jobs)."""
        return self.database.unit_of_work()

    def client_caller(self, name: str) -> Caller | None:
        """The live API client called ``name``, as the caller it acts as."""
        with self.database.reading() as session:
            return client_named(session, name)

    @property
    def intake(self) -> Intake:
        return self.reference.intake

    @property
    def rule_set(self) -> RuleSet:
        return self.reference.rule_set

    @property
    def risk(self) -> RiskEngine | None:
        return self.reference.risk

    @risk.setter
    def risk(self, engine: RiskEngine | None) -> None:
        """Put another risk engine in force (a retrained model; tests with a fixed policy)."""
        self.reference = replace(self.reference, risk=engine)
        self.lodging = replace(self.lodging, score=_scorer(engine, self.caches),
                               score_many=_batch_scorer(engine, self.caches))
        self.cargo = replace(self.cargo, profile=_cargo_profiler(engine, self.caches, self.reference.rule_set))
        self.manifests = replace(self.manifests,
                                 profile=_manifest_profiler(engine, self.caches, self.reference.rule_set))

    @property
    def api_keys(self) -> TtlCache[str, Caller]:
        return self.caches.api_keys

    @property
    def risk_history(self) -> TtlCache[str, int]:
        return self.caches.risk_history

    @property
    def risk_thresholds(self) -> TtlCache[str, LaneThresholds | None]:
        return self.caches.risk_thresholds

    @property
    def aeo_standings(self) -> TtlCache[tuple[str, date], AeoStanding | None]:
        return self.caches.aeo_standings


def build(settings: Settings, *, install_handlers: bool = True) -> Runtime:
    """Load and check everything once; ``install_handlers`` also makes the handler table the
    process's (for sessions made elsewhere in the process, e.g. by capability CLIs)."""
    reference = Reference.load(settings)
    handlers = handler_table(reference.routing_rules, reference.network, reference.writeoff_rules)
    if install_handlers:
        install(handlers)
    engine = make_engine(settings.database_url)
    caches = Caches(api_keys=TtlCache(settings.api_key_cache_seconds),
                    aeo_standings=TtlCache(settings.aeo_cache_seconds),
                    risk_history=TtlCache(settings.risk_history_cache_seconds),
                    risk_thresholds=TtlCache(settings.risk_threshold_cache_seconds))
    return Runtime(
        settings=settings, engine=engine, sessions=make_session_factory(engine, handlers),
        write_gate=write_gate(settings.database_url), reference=reference, handlers=handlers, caches=caches,
        lodging=LodgingTools(receive=reference.intake.receive_declaration,
                             assess=_assessor(reference.rule_set, caches.aeo_standings),
                             score=_scorer(reference.risk, caches),
                             score_many=_batch_scorer(reference.risk, caches),
                             together=Together(), alone_above=settings.lodge_alone_above_bytes),
        cargo=_cargo_tools(reference, caches, reference.risk),
        manifests=_manifest_tools(reference, caches, reference.risk),
    )


def install_handlers(settings: Settings) -> dict[type, list[Handler]]:
    """Make the handler table the process's, loading only the reference data handlers need:
    for commands and the scheduler, whose sessions are made without a ``Runtime``."""
    handlers = handler_table(routing_rules.configure(settings.rules_dir),
                             transit_network.configure(settings.rules_dir), writeoff_rules.load(settings.rules_dir))
    install(handlers)
    return handlers


def describe(table: dict[type, list[Handler]]) -> list[tuple[str, list[str]]]:
    """The table as (event, [capability.handler, ...]) for docs and tests."""
    def name(handler: Any) -> str:
        function = handler.func if isinstance(handler, partial) else handler
        return f"{function.__module__.removeprefix('app.').removesuffix('.handlers')}.{function.__name__}"
    return [(kind.__name__, [name(h) for h in handlers]) for kind, handlers in table.items()]
