from django.urls import include, path, re_path

from fupin.api.v1 import api
from fupin.core import views as core
from fupin.core import account_views as account
from fupin.education import views as education
from fupin.exchange import views as exchange
from fupin.funds import views as funds
from fupin.health import views as health
from fupin.support import views as support
from fupin.workflows import views as workflows
from fupin.pairing import views as pairing
from fupin.registry import views as registry

urlpatterns = [
    path("api/v1/", api.urls),   # first: a window's every claim is resolved here before ~100 page patterns
    path("", core.home),
    path("login/", core.login_view),
    path("logout/", core.logout_view),
    path("password/", core.password_view),
    path("account/otp/", account.otp_verify),
    path("account/otp/setup/", account.otp_setup),
    path("account/otp/recovery/", account.otp_recovery),
    path("account/tokens/", account.tokens),
    path("account/tokens/<int:pk>/revoke/", account.token_revoke),
    path("account/users/", account.users),
    path("account/users/<int:pk>/unlock/", account.user_unlock),
    path("account/users/<int:pk>/otp-reset/", account.user_otp_reset),
    path("account/users/new/", account.user_new),
    path("account/users/<int:pk>/", account.user_edit),
    path("account/users/<int:pk>/active/", account.user_active),
    path("account/users/<int:pk>/reset/", account.user_reset),
    path("audit/", core.audit_log),
    path("i18n/", include("django.conf.urls.i18n")),
    path("regions/<str:code>/", registry.region_page),
    path("households/", registry.household_search),
    path("households/new/", registry.household_new),
    path("households/<int:pk>/", registry.household_page),
    path("households/<int:pk>/edit/", registry.household_edit),
    path("households/<int:pk>/persons/new/", registry.person_new),
    path("households/<int:pk>/split/", registry.household_split),
    path("households/<int:pk>/merge/", registry.household_merge),
    path("households/<int:pk>/income/", registry.income_new),
    path("households/<int:pk>/guarantee/", registry.guarantee_new),
    path("households/<int:pk>/reveal/<str:what>/", registry.reveal),
    path("persons/<int:pk>/edit/", registry.person_edit),
    path("persons/<int:pk>/event/", registry.person_event),
    path("persons/<int:pk>/reveal/<str:what>/", registry.reveal),
    path("exchange/", exchange.exchange_page),
    path("exchange/template.xlsx", exchange.template_download),
    path("exchange/export.xlsx", exchange.export_download),
    path("exchange/errors/<str:token>/", exchange.error_workbook),
    path("education/", education.runs_page),
    path("education/runs/<int:pk>/", education.run_page),
    path("education/runs/<int:pk>/payments.xlsx", education.run_payments),
    path("education/runs/<int:pk>/<str:action>/", education.run_action),
    path("education/lines/<int:pk>/explain/", education.line_explain),
    path("education/dropout/", education.dropout_page),
    path("education/dropout/<int:person_pk>/visit/", education.dropout_visit),
    path("education/five-heads/", education.five_heads_save),
    path("education/roster/", education.roster_import),
    path("funds/", funds.funds_page),
    path("funds/<str:action>/", funds.funds_action),
    path("health/", health.programmes),
    path("health/treatment/", health.treatment),   # 三个一批 (issue 17)
    path("health/indicators/", health.indicators),   # settlement indicators (issue 17)
    path("health/window/", health.window),
    path("health/window/preview/", health.preview),
    path("health/window/settle/", health.settle),
    path("health/claims/<int:pk>/", health.claim_page),
    path("health/claims/<int:pk>/slip.pdf", health.slip),
    path("health/claims/<int:pk>/reverse/", health.reverse),
    path("health/", include("fupin.health.urls")),   # coverage, TB, tele-consultation, team rates (issue 17)
    path("support/", support.plan_page),
    path("support/bulletin/<str:month>/", support.bulletin),
    path("support/members/<int:pk>/", support.member_page),
    path("support/members/<int:pk>/certificate.pdf", support.certificate),
    path("workflows/start/<int:household_pk>/", workflows.start),
    path("workflows/<int:pk>/act/", workflows.act),
    path("workflows/todo/", workflows.todo),
    path("workflows/summary/<str:code>/", workflows.summary),
    path("workflows/stage/<str:code>/<str:kind>/<str:step>/", workflows.stage),
    path("workflows/notices/<int:pk>/", workflows.notice_page),
    path("workflows/notices/<int:pk>/pdf/", workflows.notice_pdf),
    path("workflows/bulk-approve/", workflows.bulk_approve),
    path("workflows/announcement/", workflows.announcement),
    path("public/notices/<str:token>/", workflows.public_notice),
    path("pairing/", pairing.home),
    path("pairing/visit/<int:household_pk>/", pairing.visit),
    path("pairing/measure/<int:household_pk>/", pairing.measure),
    path("pairing/compliance/", pairing.compliance),
    path("pairing/pairs/", pairing.pairing),
    path("pairing/team/", pairing.team),
    path("pairing/cards/<str:code>.pdf", pairing.four_cards),
    path("pairing/photos/<int:pk>/", pairing.photo),
    path("oversight/", include("fupin.oversight.urls")),
    path("monitoring/", include("fupin.monitoring.urls")),
    path("welfare/", include("fupin.welfare.urls")),
    path("jobs/", include("fupin.jobs.urls")),
    path("labour/", include("fupin.labour.urls")),
    path("pairing/", include("fupin.pairing.urls")),
    path("education/", include("fupin.education.urls")),
    path("villages/", include("fupin.villages.urls")), path("plans/", include("fupin.plans.urls")),  # issue #22
    path("schools/", include("fupin.schools.urls")), path("pubhealth/", include("fupin.pubhealth.urls")),  # issue #22
    path("notify/", include("fupin.notify.urls")),  # issue #22: reminders
    path("projects/", include("fupin.projects.urls")),
    path("charity/", include("fupin.charity.urls")),
    path("whatif/", include("fupin.whatif.urls")),   # policy what-if (issue 20)
]

# The app serves its own static files (CSS, JS, and the Swagger UI that django-ninja ships), so one
# command runs it and no page loads anything from a CDN; a large deployment may put nginx in front
# and serve STATIC_ROOT (`collectstatic`) instead.
urlpatterns += [re_path(r"^static/(?P<path>.*)$", core.static_file)]

# Error pages in Chinese (JSON under /api/); a malformed value never shows Django's English page.
handler400 = core.bad_request
handler403 = core.permission_denied
handler404 = core.page_not_found
handler500 = core.server_error
