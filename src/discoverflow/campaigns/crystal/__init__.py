"""Crystal discovery campaigns (exa-AMD): config, driver, report."""
