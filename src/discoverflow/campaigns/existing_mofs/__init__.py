"""Evaluations of existing MOFs (a folder of CIFs): config, driver, report."""
