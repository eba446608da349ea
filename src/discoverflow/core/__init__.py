"""The science: plain functions on pymatgen objects, no workflow engine."""
