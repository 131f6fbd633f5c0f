"""Declarations: the lodging pipeline and the declaration use cases."""
