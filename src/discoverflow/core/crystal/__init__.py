"""Plain crystal science: substitution, validity, dedup, hull, VASP settings (no jobflow)."""
