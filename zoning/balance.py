"""占一补一 (WZ §5): check an adjustment of the level-1 block lines, record it, keep the ledger.

For an adjustment in county C (DOMAIN.md):

- occupied = area of (removal ∩ current level 1 of C): only what really leaves level 1 counts;
- replaced = area of ((addition − current level 1) ∩ C): land already in level 1, or outside C, counts for nothing;
- C's standing balance = Σ over its recorded adjustments (replaced − occupied) + transfers in − transfers out;
- balance after = standing + replaced − occupied; county-balanced when ≥ 0;
- city-balanced when the sum of every county's balance after the adjustment is ≥ 0 (the shortfall can be
  covered by transfers, and the city's level-1 total does not fall). The city's balance is its level-1 total
  less the total the lines were loaded with (transfers move balance between counties, not land), so "the
  city's level-1 total fell" and "not city-balanced" are one fact, decided by ``city_level1_fell`` for the
  check and for every entry of the ledger alike.

Recording is exactly-once. An approval document (批复文号) is recorded once: its normalised form
(``normalise_doc``) is unique in the database, and a second request with the same document is refused
naming the entry that holds it. Every request carries an idempotency key (``request_id``, by default
derived from its content by ``request_key``): a retry of a request that was recorded returns the first
result and records nothing. When the connection is lost after COMMIT was sent, the outcome is unknown and
the error says so (``OutcomeUnknown``), never "rolled back": the retry, or the ledger, tells which.

The geometry work runs in PostGIS, in one statement per question, so a check at city scale takes a
fraction of a second; recording runs in one SERIALIZABLE transaction, so two planners recording at once
can never both spend the same surplus (one of them is retried against the new balance, and refused if
it no longer fits).

This module gathers the public names of three: ``zoning.balance_rules`` (the sums, documents, transfers and
the check's answer, no database), ``zoning.balance_store`` (the check and the ledger, read in PostGIS) and
``zoning.ledger_record`` (recording, in one transaction).

Examples
--------
>>> round(balance_after(standing_mu=10.0, occupied_mu=90.0, replaced_mu=82.5), 2)
2.5
"""

from __future__ import annotations

from zoning.balance_rules import (
    EPSILON_MU,
    BalanceCheck,
    OutcomeUnknown,
    Transfer,
    Unbalanced,
    balance_after,
    city_level1_fell,
    normalise_doc,
    parse_transfers,
    request_key,
)
from zoning.balance_store import check_adjustment, ledger, level1_history, standing_balances
from zoning.ledger_record import record_adjustment

__all__ = [
    "EPSILON_MU",
    "BalanceCheck",
    "OutcomeUnknown",
    "Transfer",
    "Unbalanced",
    "balance_after",
    "city_level1_fell",
    "normalise_doc",
    "request_key",
    "check_adjustment",
    "record_adjustment",
    "standing_balances",
    "ledger",
    "level1_history",
    "parse_transfers",
]
