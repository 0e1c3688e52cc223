"""Audit (sleep, phase 1): measure every held fact now and flag the degraded ones.

    report = audit(lm, ledger.entries.values())   # {key: {"raw": bool, "chat": bool}}
    degraded(report, "raw")                  # keys whose MEMIT pathway (raw completion) failed

Recall is greedy generation with the fact's own raw prompt and chat question, with every edit at its
current scale: what a person would get if they asked now.
"""
from __future__ import annotations

from ..measure.evaluate import ask_chat, complete_raw, contains


def audit(lm, entries) -> dict:
    """Raw and chat recall of each ledger entry now, by its key."""
    entries = list(entries)
    if not entries:
        return {}
    raw = complete_raw(lm, [e.fact.raw_prompt for e in entries])
    chat = ask_chat(lm, [e.fact.chat_question for e in entries])
    return {e.key: {"raw": contains(r, e.fact.object), "chat": contains(c, e.fact.object)}
            for e, r, c in zip(entries, raw, chat)}


def degraded(report: dict, pathway: str = "raw") -> list:
    """Keys that fail on `pathway` ("raw", "chat" or "any")."""
    if pathway == "any":
        return [k for k, r in report.items() if not (r["raw"] and r["chat"])]
    return [k for k, r in report.items() if not r[pathway]]


def rate(report: dict, pathway: str) -> float:
    return sum(r[pathway] for r in report.values()) / len(report) if report else float("nan")
