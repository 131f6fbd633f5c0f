"""The platform every capability stands on: the unit of work and its event bus, the clock,
per-process caches. Settings (``app.config``) and the database (``app.db``) belong to this
layer too. Nothing here knows a capability."""
