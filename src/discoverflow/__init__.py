"""Composable jobflow Makers for AI-assisted materials discovery."""

__version__ = "0.1.0"
