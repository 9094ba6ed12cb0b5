"""Use cases: load, apply the domain's rules, commit through the ports."""
