"""Reports for the analysts: satisfaction estimates per channel and round (`estimates`).
Every number comes from `analysis`; this package reads the data and describes the design."""
