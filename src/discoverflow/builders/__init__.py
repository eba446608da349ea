"""Builders: the per-item documents as views of the stage records."""
