"""Addresses of issue 17's second part (the first part's stay in fupin/urls.py)."""
from django.urls import path

from . import pages

urlpatterns = [
    path("insurance/", pages.coverage),                       # 资助参保 and the insured rate
    path("insurance/covered/", pages.covered),
    path("insurance/runs/", pages.premium_runs),              # the premium runs and their reversal                # who is insured (the run's roster)
    path("tb/", pages.tb),                                    # 肺结核患者随访
    path("consults/", pages.consultations),                   # 远程会诊
    path("consults/person/<int:pk>/", pages.patient_consultations),
    path("mobile/", pages.mobile),                            # 巡回医疗
    path("teams/", pages.team_rates),                         # 签约率 by team
]
