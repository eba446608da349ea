"""Crystal discovery Makers (exa-AMD): generation, screening, dedup, references, hull."""
