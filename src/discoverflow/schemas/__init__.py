"""Pydantic output documents, one module per stage."""
