"""The canonical parcel fields of CLI.md and the kind of each, without the parsing (``geo.fields``).

Apart from ``geo.fields`` so that what only names the fields (``geo.queries``, read by every command) does not
import pandas, which the parsing needs (0.5 s of start-up).
"""

from __future__ import annotations

__all__ = ["PARCEL_FIELDS"]

#: canonical parcel field → kind (text, date, number, nonneg number, bool, code6)
PARCEL_FIELDS: dict[str, str] = {
    "parcel_no": "text",
    "holder": "text",
    "holder_id": "text",
    "land_use": "text",
    "county_code": "code6",
    "delivered_on": "date",
    "agreed_start_on": "date",
    "started_on": "date",
    "agreed_completion_on": "date",
    "completed_on": "date",
    "agreed_operation_on": "date",
    "operating_since": "date",
    "agreed_full_production_on": "date",
    "lease_years": "nonneg",
    "planned_investment": "nonneg",
    "committed_investment_per_mu": "nonneg",
    "committed_tax_per_mu": "nonneg",
    "committed_output_per_mu": "nonneg",
    "min_far": "nonneg",
    "investment": "nonneg",
    "tax": "number",
    "output": "nonneg",
    "floor_area": "nonneg",
    "footprint_area": "nonneg",
    "is_low_efficiency": "bool",
}
