"""The Jinja filters every page uses: codes, actors and moments in the reader's language
(``app.web.labels``), and the system's own English sentences said plainly (``app.web.plain``)."""
from __future__ import annotations

from flask import Flask

from app.web import labels, plain


def install(app: Flask) -> None:
    for name, function in (
            ("term", labels.term), ("actor", labels.actor), ("when", labels.when),
            ("minutes", labels.duration_minutes), ("declaration_type", labels.declaration_type),
            ("reason_label", labels.reason_label), ("account_event", labels.account_event),
            ("subscriber_term", labels.subscriber_term), ("aeo_status", labels.aeo_status),
            ("manifest_term", labels.manifest_term), ("cargo_term", labels.cargo_term),
            ("event_note", plain.event_note), ("charge_text", plain.charge_text), ("risk_text", plain.risk_text),
            ("aeo_reason", plain.aeo_reason)):
        app.add_template_filter(function, name)
