"""The family-doctor contract rate per signing team (issue 17 §3: 签约率 by team against 100%).

A team has no territory of its own in the registry, so its villages are read from the contracts:
each village belongs to the team that holds most of the live contracts there (ties: the team
named first). A team's rate is the registered-poor persons of its villages who hold a live
contract (with any team) over all of them; the click-through lists the unsigned ones.
Villages where no one is signed belong to no team and are listed as such.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from fupin.core import access
from fupin.core.models import Region, User
from fupin.policy.packs import RATIO_SCALE

from .programmes import live_contracts
from .services import packs

NO_TEAM = "（无签约团队的村）"


@dataclass(frozen=True)
class Unsigned:
    pk: int
    name: str
    village_id: str
    village_name: str


def team_rates(user: User, region_code: str, on: dt.date) -> dict:
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    statuses = chain.lookup("health.registered_poor_statuses", on).value
    target = chain.lookup("health.fd.contract_target", on).value
    poor = list(access.persons_for(user).filter(alive=True, household__status__in=statuses,
                                                household__village_id__gte=lo, household__village_id__lte=hi)
                .order_by("household__village_id", "name", "pk").values_list("pk", "name", "household__village_id"))
    signed = dict(live_contracts(on).filter(person_id__in=[p[0] for p in poor]).values_list("person_id", "team"))
    per_village: dict[str, Counter] = {}
    for pk, _, village in poor:
        if pk in signed:
            per_village.setdefault(village, Counter())[signed[pk]] += 1
    owner = {v: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for v, c in per_village.items()}
    names = dict(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).values_list("code", "name"))
    teams: dict[str, dict] = {}
    for pk, name, village in poor:
        team = owner.get(village, NO_TEAM)
        row = teams.setdefault(team, {"team": team, "villages": set(), "persons": 0, "signed": 0, "unsigned": []})
        row["villages"].add(village)
        row["persons"] += 1
        if pk in signed:
            row["signed"] += 1
        else:
            row["unsigned"].append(Unsigned(pk, name, village, names.get(village, village)))
    rows = []
    for team in sorted(teams, key=lambda t: (t == NO_TEAM, t)):
        r = teams[team]
        r["village_names"] = "、".join(names.get(v, v) for v in sorted(r["villages"]))
        r["rate_permille"] = r["signed"] * 1000 // r["persons"]
        r["meets"] = r["signed"] * RATIO_SCALE >= target * r["persons"]
        rows.append(r)
    return {"region": region, "on": on, "teams": rows, "target_permille": target * 1000 // RATIO_SCALE}
