"""MOF discovery science: linkers, assembly, overlaps, MD stability, adsorption."""
