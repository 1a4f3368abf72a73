"""The school register (学校档案), teachers sent to and serving in rural schools, and the follow-up of
“两后生” (issue #22 §2; seeds 000, 001). A school itself stays `education.School` (code, name,
region): the register adds to it, one-to-one, so the roster, the runs and the plans keep their key."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class SchoolKind(models.TextChoices):
    KINDERGARTEN = "kindergarten", "幼儿园"
    TEACHING_POINT = "teaching_point", "村小/教学点"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初级中学"
    NINE_YEAR = "nine_year", "九年一贯制学校"
    SENIOR = "senior", "普通高中"
    COMPLETE = "complete", "完全中学"
    VOCATIONAL = "vocational", "中职学校/职教中心"


class Profile(models.Model):
    """The register of one school: what kind, in which village, boarding, on the weak-school list."""

    school = models.OneToOneField("education.School", primary_key=True, on_delete=models.PROTECT,
                                  related_name="profile", verbose_name="学校")
    kind = models.CharField("学校类型", max_length=16, choices=SchoolKind.choices)
    village = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name="所在村")
    boarding = models.BooleanField("寄宿制学校", default=False)
    weak = models.BooleanField("列入薄弱学校改造（改薄）", default=False)
    updated_at = models.DateTimeField(auto_now=True)


class GradeCount(models.Model):
    """Enrolment by grade in a school year (学年 2026 = 2026年秋季 and 2027年春季): classes, pupils,
    boarders — the school's own statistics (事业统计), all pupils, not only those of poor families."""

    school = models.ForeignKey("education.School", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("学年")
    stage = models.CharField("学段", max_length=10)   # education.Stage
    grade = models.PositiveSmallIntegerField("年级")
    classes = models.PositiveIntegerField("班数", default=0)
    pupils = models.PositiveIntegerField("在校生数", default=0)
    boarders = models.PositiveIntegerField("寄宿生数", default=0)

    class Meta:
        ordering = ["school", "-year", "stage", "grade"]
        constraints = [models.UniqueConstraint(fields=["school", "year", "stage", "grade"], name="grade_count_once"),
                       models.CheckConstraint(condition=models.Q(boarders__lte=models.F("pupils")),
                                              name="grade_count_boarders_within_pupils")]


class TeacherKind(models.TextChoices):
    RESIDENT = "resident", "本校教师"               # on the school's own staff (乡村教师)
    SPECIAL_POST = "special_post", "特岗教师"        # 农村义务教育阶段学校教师特设岗位计划
    VOLUNTEER = "volunteer", "城市支教教师"          # seed 001 item 16: 城市优秀教师到农村学校支教，不少于1年
    PRINCIPAL = "principal", "挂职校长"              # seed 001 item 16: 城市中小学校长挂职，不少于1学期
    EXCHANGE = "exchange", "交流轮岗教师"            # 城乡教师合理流动
    RETIRED = "retired", "退休支教教师"              # seed 001 item 11: 鼓励退休教师到贫困地区支教
    INTERN = "intern", "顶岗实习支教"                # seed 001 item 12: 高校学生顶岗实习，半年


class Teacher(models.Model):
    school = models.ForeignKey("education.School", on_delete=models.PROTECT, related_name="+", verbose_name="学校")
    name = models.CharField("姓名", max_length=40)
    kind = models.CharField("类别", max_length=14, choices=TeacherKind.choices)
    home_unit = models.CharField("派出单位", max_length=80, blank=True)
    subject = models.CharField("任教学科", max_length=40, blank=True)
    start = models.DateField("到岗日期")
    end = models.DateField("离岗日期", null=True, blank=True)          # empty: still there
    living_allowance = models.BooleanField("享受乡村教师生活补助", default=False)  # seed 001 item 13
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["school", "kind", "-start", "id"]


class Outcome(models.TextChoices):
    VOCATIONAL = "vocational", "已进入中职/技工学校"   # seed 001 item 23: 两后生接受免费职业教育
    TRAINING = "training", "参加职业技能培训"
    RESUMED = "resumed", "已复学或升学"
    EMPLOYED = "employed", "已就业"
    PERSUADING = "persuading", "动员中"               # visited, not yet decided
    DECLINED = "declined", "本人不愿继续学习"


class Followup(models.Model):
    """One follow-up of a “两后生” (a young person of a poor family who finished junior or senior high
    and did not continue): who visited, when, and what became of it."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    date = models.DateField("跟踪日期")
    outcome = models.CharField("去向", max_length=12, choices=Outcome.choices)
    place = models.CharField("学校或培训机构、单位", max_length=80, blank=True)
    note = models.CharField("情况说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["person", "-date", "-id"]


class Mentor(models.Model):
    """A teacher's duty to one poor student for a semester (seed 000: “教师帮扶学生”, a talk every month
    and three home visits a semester); the contacts record what was done."""

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="mentees")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    semester = models.CharField("学期", max_length=12)
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["semester", "teacher", "id"]
        constraints = [models.UniqueConstraint(fields=["person", "semester"], name="mentor_one_per_student_semester")]


class ContactKind(models.TextChoices):
    TALK = "talk", "谈心谈话"
    VISIT = "visit", "家访"


class Contact(models.Model):
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField("方式", max_length=6, choices=ContactKind.choices)
    date = models.DateField("日期")
    note = models.CharField("内容", max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["mentor", "date", "id"]


class GapProject(models.Model):
    """A school's condition gap (an item of its 改薄 plan) closed by a project of the project library
    (fupin/projects): the school page shows the project's state and latest progress beside the gap."""

    item = models.ForeignKey("plans.Item", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    linked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "project"], name="gap_project_once")]
