"""Composable jobflow Makers for AI-assisted materials discovery."""

from discoverflow.third_party_warnings import silence_third_party_warnings

__version__ = "0.1.0"

silence_third_party_warnings()
