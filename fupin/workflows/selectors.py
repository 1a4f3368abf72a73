"""Reads for the workflow screens: the household's workflows, summaries by stage."""
from __future__ import annotations

from collections import Counter

from fupin.core import access
from fupin.registry.choices import Status

from .models import Channel, Instance, Kind, MonitoredType, State, labelled
from .services import exit_eligibility, may_act, today


def household_section(user, household) -> dict:
    instances = list(Instance.objects.filter(household=household).prefetch_related("actions__actor", "notices__objections")
                     .order_by("-id"))
    open_ = next((i for i in instances if i.state in (State.IN_PROGRESS, State.REJECTED)), None)
    startable, channels, types = [], [], []
    if open_ is None and user.role in ("village_cadre", "township_officer", "county_officer", "county_admin"):
        from .services import _p, packs
        chain = packs().for_region(household.village_id)
        for kind, label in Kind.choices:
            definition = _p(chain, f"workflow.{kind}", today())
            if household.status in definition.get("start_statuses", []):
                startable.append((kind, label))
                if kind == Kind.MONITORING:
                    channels, types = labelled(Channel, definition["channels"]), labelled(MonitoredType, definition["types"])
    return {"instances": instances, "open": open_, "can_act": bool(open_ and may_act(user, open_)),
            "startable": startable, "channels": channels, "types": types,
            "eligibility": exit_eligibility(household, today()) if household.status in ("registered", "returned") else None}


def summary(user, code: str) -> dict:
    """Counts per status and per workflow stage in a region; each number links to its households."""
    region = access.access_region(user, code)
    lo, hi = region.code_range()
    households = access.households_for(user).filter(village_id__gte=lo, village_id__lte=hi)
    by_status = Counter(households.values_list("status", flat=True))
    stages = Counter()
    for i in Instance.objects.filter(household__in=households, state__in=[State.IN_PROGRESS, State.REJECTED]):
        label = i.get_state_display() if i.state == State.REJECTED else i.definition["steps"][i.step]["label"]
        stages[(i.kind, i.get_kind_display(), i.step if i.state == State.IN_PROGRESS else -1, label)] += 1
    return {"region": region, "statuses": [(v, l, by_status.get(v, 0)) for v, l in Status.choices],
            "stages": sorted(stages.items())}
