"""The officers case queue capability."""
