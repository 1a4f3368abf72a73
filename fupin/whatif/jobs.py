"""A scenario's run as a background job (fupin/jobs): a province takes tens of seconds."""
from __future__ import annotations

from fupin.jobs.services import Outcome
from fupin.policy.money import yuan

from . import services


def scenario_run(job) -> Outcome:
    result = services.scenario_run(actor=job.owner, scenario_id=job.params.get("scenario"))
    s = result.summary
    return Outcome(message=f"已测算：{s['cases']} 项，年度费用 {yuan(s['total_current'], grouping=True)} 元 → "
                           f"{yuan(s['total_scenario'], grouping=True)} 元",
                   link=f"/whatif/{result.scenario_id}/")
