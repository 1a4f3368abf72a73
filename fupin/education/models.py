"""Schools, the student roster, semester subsidy runs, and dropout control (SPEC §5)."""
from __future__ import annotations

from django.db import models

from fupin.core.models import Region, User


class Stage(models.TextChoices):
    PRESCHOOL = "preschool", "学前"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "普通高中"
    SEC_VOC = "sec_voc", "中职"
    COLLEGE = "college", "高校"


# The highest grade each stage has anywhere in China (junior 4 and primary 5 under 五四制; a 5-year
# medical degree): a roster row beyond it is a typing error ("小学 9年级").
MAX_GRADE = {Stage.PRESCHOOL: 3, Stage.PRIMARY: 6, Stage.JUNIOR: 4, Stage.SENIOR: 3, Stage.SEC_VOC: 3,
             Stage.COLLEGE: 5}


class School(models.Model):
    code = models.CharField("学校代码", max_length=20, unique=True)
    name = models.CharField("学校名称", max_length=80)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所在区划")
    principal = models.CharField("校长", max_length=40, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", "在读"
    SUSPENDED = "suspended", "休学"
    DROPPED = "dropped", "辍学"
    TRANSFERRED = "transferred", "转出"
    GRADUATED = "graduated", "毕业"


class Enrolment(models.Model):
    """One student in one semester ("2024-autumn"). A change after a run is a new row state
    that the next run picks up as a supplement — never a silent edit of what was paid."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="enrolments")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="enrolments")
    semester = models.CharField("学期", max_length=12)
    stage = models.CharField("学段", max_length=10, choices=Stage.choices)
    grade = models.PositiveSmallIntegerField("年级")
    boarding = models.BooleanField("寄宿", default=False)
    status = models.CharField("学籍状态", max_length=12, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ENROLLED)
    fee = models.BigIntegerField("本学期应缴保教费/学费（分）", default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "semester"], name="enrolment_one_per_semester")]
        indexes = [models.Index(fields=["semester", "school"])]


class RunStatus(models.TextChoices):
    COMPUTED = "computed", "已计算待审核"
    APPROVED = "approved", "已审核"
    POSTED = "posted", "已发放入账"


class SubsidyRun(models.Model):
    semester = models.CharField("学期", max_length=12)
    region = models.ForeignKey(Region, on_delete=models.PROTECT)
    supplementary_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.COMPUTED)
    budget = models.ForeignKey("funds.Account", on_delete=models.PROTECT)
    computed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(null=True)
    packs = models.CharField("适用政策包", max_length=300)
    total = models.BigIntegerField(default=0)
    lines_count = models.PositiveIntegerField(default=0)


class RunLine(models.Model):
    run = models.ForeignKey(SubsidyRun, on_delete=models.CASCADE, related_name="lines", db_index=False)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT)
    # person and school restate the enrolment's (for lists and reports); the enrolment's own
    # foreign keys guarantee them, so no second database constraint is checked per line
    person = models.ForeignKey("registry.Person", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False)
    school = models.ForeignKey(School, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False)
    item = models.CharField("待遇项目", max_length=60)
    amount = models.BigIntegerField("金额（分）")
    already_paid = models.BigIntegerField("此前已发（分）", default=0)

    class Meta:
        indexes = [models.Index(fields=["run", "school"])]  # also serves every lookup by run


class DropoutVisit(models.Model):
    """A home visit to a child of compulsory age who is not in school, and its outcome."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="dropout_visits")
    date = models.DateField("走访日期")
    visitor = models.CharField("走访人", max_length=60)
    finding = models.CharField("情况", max_length=300)
    returned = models.BooleanField("已返校", default=False)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT)


class FiveHeads(models.Model):
    """五长责任制 per township: county head, township head, education bureau head."""

    township = models.OneToOneField(Region, on_delete=models.PROTECT)
    county_head = models.CharField("县长", max_length=40)
    township_head = models.CharField("乡镇长", max_length=40)
    bureau_head = models.CharField("教育局长", max_length=40)


# ---- the college-student database of poor families (seeds 000, 001) --------------------------------

class CollegeLevel(models.TextChoices):
    SEC_VOC = "sec_voc", "中职"
    HIGHER_VOC = "higher_voc", "高职（专科）"
    BACHELOR = "bachelor", "本科"
    POSTGRAD = "postgrad", "研究生"


class CollegeOutcome(models.TextChoices):
    STUDYING = "studying", "在读"
    EMPLOYED = "employed", "毕业已就业"
    SEEKING = "seeking", "毕业待就业"
    FURTHER = "further", "升学"
    LEFT = "left", "退学"


class CollegeStudent(models.Model):
    """A student of a poor family beyond the county's schools: college, year, wishes, outcome."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="college_records")
    college = models.CharField("院校", max_length=80)
    major = models.CharField("专业", max_length=60, blank=True)
    level = models.CharField("层次", max_length=12, choices=CollegeLevel.choices)
    entry_year = models.PositiveSmallIntegerField("入学年份")
    wish = models.CharField("就业意向", max_length=100, blank=True)
    outcome = models.CharField("毕业去向", max_length=10, choices=CollegeOutcome.choices, default=CollegeOutcome.STUDYING)
    employer = models.CharField("就业单位", max_length=100, blank=True)

    class Meta:
        ordering = ["-entry_year", "person_id"]
        constraints = [models.UniqueConstraint(fields=["person", "college", "entry_year"], name="college_student_once")]


class CollegeAidKind(models.TextChoices):
    ENTRANT = "entrant", "大学新生入学资助"          # paid through the ledger, pack amount
    VOC_SUBSIDY = "voc_subsidy", "中高职建档立卡学生补助"
    CREDIT_LOAN = "credit_loan", "生源地信用助学贷款"  # a bank loan: recorded, capped by the pack
    OTHER = "other", "其他资助"


class CollegeAid(models.Model):
    student = models.ForeignKey(CollegeStudent, on_delete=models.PROTECT, related_name="aid")
    kind = models.CharField("资助项目", max_length=12, choices=CollegeAidKind.choices)
    year = models.PositiveSmallIntegerField("学年（起始年份）")
    amount = models.BigIntegerField("金额（分）")
    transaction = models.ForeignKey("funds.Transaction", null=True, blank=True, on_delete=models.PROTECT)
    note = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        ordering = ["year", "kind"]
        constraints = [models.UniqueConstraint(fields=["student", "kind", "year"], name="college_aid_once_a_year"),
                       models.CheckConstraint(condition=models.Q(amount__gt=0), name="college_aid_positive")]


# ---- the student aid procedure: application, reviews, notice, decision (seeds 003, 004) -------------

class AidState(models.TextChoices):
    REVIEWING = "reviewing", "审核中"      # steps of the pack's procedure still to do
    NOTICE = "notice", "公示中"            # every review passed; the school's public notice runs
    APPROVED = "approved", "已批准"        # decided after the notice: on the payment list
    REJECTED = "rejected", "未通过"        # a review refused it (with its reason)


class AidApplication(models.Model):
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="aid_applications")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="aid_applications")
    year = models.PositiveSmallIntegerField("学年（起始年份）")
    item = models.CharField("资助项目", max_length=60)
    amount = models.BigIntegerField("金额或实物价值（分）")
    in_kind = models.CharField("实物（衣物、书本、餐食等）", max_length=60, blank=True)
    state = models.CharField("状态", max_length=10, choices=AidState.choices, default=AidState.REVIEWING)
    step = models.PositiveSmallIntegerField("下一审核步骤", default=0)
    notice_from = models.DateField("公示开始", null=True, blank=True)
    notice_until = models.DateField("公示截止", null=True, blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["school_id", "year", "person_id"]
        constraints = [models.UniqueConstraint(fields=["person", "year", "item"], name="aid_application_once"),
                       models.CheckConstraint(condition=models.Q(amount__gt=0), name="aid_amount_positive")]


class AidReview(models.Model):
    application = models.ForeignKey(AidApplication, on_delete=models.CASCADE, related_name="reviews")
    step = models.CharField("步骤", max_length=20)
    label = models.CharField("步骤名称", max_length=40)
    approved = models.BooleanField("通过")
    note = models.CharField("意见", max_length=200, blank=True)
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application_id", "at", "pk"]


class LearningPair(models.Model):
    """A teacher responsible for one learning-difficulty student (学困生) of a poor family
    (教师帮扶学生, seed 000): the teacher's talks and home visits are its records, the term-end
    results rank the school's learning-support students by progress."""
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="learning_pairs")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="learning_pairs")
    teacher = models.CharField("帮扶教师", max_length=40)
    subject = models.CharField("帮扶学科", max_length=20, blank=True)
    start = models.DateField("结对日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["school_id", "person_id"]
        constraints = [models.UniqueConstraint(fields=["person"], condition=models.Q(ended_on__isnull=True),
                                               name="one_open_learning_pair_per_student")]


class LearningRecordKind(models.TextChoices):
    TALK = "talk", "谈心谈话"
    HOME_VISIT = "home_visit", "家访"
    TUTORING = "tutoring", "个别辅导"


class LearningRecord(models.Model):
    pair = models.ForeignKey(LearningPair, on_delete=models.CASCADE, related_name="records")
    date = models.DateField("日期")
    kind = models.CharField("形式", max_length=12, choices=LearningRecordKind.choices)
    content = models.CharField("帮扶内容", max_length=300)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pair_id", "date", "id"]


class TermResult(models.Model):
    """A learning-support student's term-end result (期末成绩, total score)."""
    pair = models.ForeignKey(LearningPair, on_delete=models.CASCADE, related_name="results")
    semester = models.CharField("学期", max_length=12)
    score = models.DecimalField("期末总分", max_digits=6, decimal_places=1)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pair_id", "semester"]
        constraints = [models.UniqueConstraint(fields=["pair", "semester"], name="one_result_per_pair_semester"),
                       models.CheckConstraint(condition=models.Q(score__gte=0), name="term_score_not_negative")]


class SchoolMeasureKind(models.TextChoices):
    DONATION_DRIVE = "donation_drive", "师生自愿捐款"     # seed 000: 组织全校教师和同学自愿捐款活动
    FEE_WAIVER = "fee_waiver", "减免学杂费"               # seed 004: 协调学校减免学费等费用
    IN_KIND = "in_kind", "赠送衣物书本等实物"
    MEALS = "meals", "爱心午餐"
    OTHER = "other", "其他"


class SchoolMeasure(models.Model):
    """A school's own aid measure for its poor students (学校层面的资助措施) in a school year:
    what was done, for how many students, and its value (cash raised, fees waived, goods valued)."""
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="measures")
    year = models.PositiveSmallIntegerField("学年（起始年份）")
    kind = models.CharField("措施", max_length=16, choices=SchoolMeasureKind.choices)
    description = models.CharField("内容", max_length=300)
    students = models.PositiveIntegerField("受助学生（人）")
    value = models.BigIntegerField("金额或价值（分）")
    date = models.DateField("日期")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-year", "school_id", "date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0), name="school_measure_value_not_negative")]
