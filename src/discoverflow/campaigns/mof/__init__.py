"""MOF discovery campaigns (MOFA): config, driver, report."""
