"""Routing of notices and conveyance manifests: outbox, rules, dispatcher, transports."""
