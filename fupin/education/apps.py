from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "fupin.education"
    label = "education"
    verbose_name = "教育扶贫"

    def ready(self):
        from fupin.registry.views import HOUSEHOLD_SECTIONS

        from .selectors import household_entitlements

        HOUSEHOLD_SECTIONS.append(("education/partials/household.html",
                                   lambda user, h: {"entitlements": household_entitlements(user, h)}))
        from .college import household_section as college_section   # the college-student database

        HOUSEHOLD_SECTIONS.append(("education/partials/college.html", college_section))
        from .learning import household_section as learning_section   # learning support (学困生帮扶)

        HOUSEHOLD_SECTIONS.append(("education/partials/learning.html", learning_section))
