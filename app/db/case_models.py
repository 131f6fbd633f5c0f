"""Tables of the case capability (typed SQLAlchemy models on the shared ``Base``)."""
from __future__ import annotations

from app.db.models import Base  # noqa: F401
