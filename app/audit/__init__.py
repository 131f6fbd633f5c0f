"""Tamper-evident audit log: a hash chain over every event table (see ``service``)."""
