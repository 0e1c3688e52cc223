"""Sleep: the per-fact ledger of stages, and one cycle (cycle.py) of audit -> refresh -> consolidate
(LoRA with the birth model's anchors) -> gate -> dissolve. Imports base, measure and wake."""
