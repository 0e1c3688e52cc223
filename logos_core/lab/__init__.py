"""What the notebooks run: experiment protocols, the arms they compare (compare, retrieval), results
with provenance (report) and every figure (plotting). Imports memory and below, never app."""
