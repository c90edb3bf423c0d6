"""The reporting domains the SIPAS method names, in one place for the statistics and the web
app alike (``survey.models.base`` imports them from here).

Field groups (nhóm lĩnh vực) carry their own satisfaction targets; land, construction and
investment are reported each and combined (the province's 2026 and 2030 targets)."""

from __future__ import annotations

#: Field groups (nhóm lĩnh vực): land, construction, investment, other.
FIELD_GROUPS: tuple[str, ...] = ("dat_dai", "xay_dung", "dau_tu", "khac")

#: Land, construction and investment: reported each and combined, with their own target.
LAND_CONSTRUCTION_INVESTMENT: tuple[str, ...] = ("dat_dai", "xay_dung", "dau_tu")

#: The label of the combined land + construction + investment domain in estimate tables.
LAND_CONSTRUCTION_INVESTMENT_LABEL = "dat_dai+xay_dung+dau_tu"
