"""Engine-agnostic verification: statistics diff and the bucketed row-hash diff."""
