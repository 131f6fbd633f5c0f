"""The database: engines and sessions, the ORM models, bulk inserts, migrations.

Each capability keeps its tables in a module of its own; importing them here, with the
package, puts every table in ``Base.metadata`` (what Alembic and the tests compare against
the migrations) whichever model module is imported first."""
from app.db import (  # noqa: F401
    audit_models,
    cargo_models,
    case_models,
    manifest_models,
    models,
    portal_models,
    revenue_models,
    risk_models,
    routing_models,
    transit_models,
    writeoff_models,
)
