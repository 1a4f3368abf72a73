"""Coded values of the registration forms (SPEC §3.2–3.5). Labels are what users type in Excel."""
from django.db import models


class Standard(models.TextChoices):
    NATIONAL = "national", "国家标准"
    PROVINCIAL = "provincial", "省定标准"
    MUNICIPAL = "municipal", "市定标准"


class Attribute(models.TextChoices):
    GENERAL = "general", "一般贫困户"
    DIBAO = "dibao", "低保户"
    TEKUN = "tekun", "五保户/特困户"
    DIBAO_POOR = "dibao_poor", "低保贫困户"


class Cause(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    SCHOOLING = "schooling", "因学"
    DISASTER = "disaster", "因灾"
    LAND = "land", "缺土地"
    WATER = "water", "缺水"
    SKILLS = "skills", "缺技术"
    LABOUR = "labour", "缺劳力"
    CAPITAL = "capital", "缺资金"
    TRANSPORT = "transport", "交通条件落后"
    MOTIVATION = "motivation", "自身发展动力不足"
    OTHER = "other", "其他"


class Status(models.TextChoices):
    APPLIED = "applied", "待识别"           # application lodged, identification under way
    REGISTERED = "registered", "贫困户"     # registered poor (建档立卡)
    EXITED = "exited", "已脱贫"             # exited, still tracked
    RETURNED = "returned", "返贫"           # returned to poverty
    MONITORED = "monitored", "监测对象"     # under return-to-poverty monitoring
    ELIMINATED = "eliminated", "风险已消除"  # monitored household whose risk was eliminated
    DISSOLVED = "dissolved", "已注销"       # all members deceased or moved away


class HousingGrade(models.TextChoices):
    A = "A", "A级"
    B = "B", "B级"
    C = "C", "C级（危房）"
    D = "D", "D级（危房）"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    GRANDCHILD = "grandchild", "孙子女"
    PARENT = "parent", "父母"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class Education(models.TextChoices):
    NONE = "none", "文盲或半文盲"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中"
    VOCATIONAL = "vocational", "中专"
    COLLEGE = "college", "大专及以上"
    PRESCHOOL = "preschool", "学龄前儿童"


class Schooling(models.TextChoices):
    PRESCHOOL = "preschool", "学前"
    PRIMARY = "primary", "小学"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中"
    SEC_VOC = "sec_voc", "中职"
    HIGHER_VOC = "higher_voc", "高职/大专"
    BACHELOR = "bachelor", "本科及以上"
    NOT_ENROLLED = "not_enrolled", "未入学"
    DROPPED_OUT = "dropped_out", "辍学"
    NOT_IN_SCHOOL = "not_in_school", "毕业/不在校"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    CHRONIC = "chronic", "长期慢性病"
    SERIOUS = "serious", "患有大病"
    DISABLED = "disabled", "残疾"


class Labour(models.TextChoices):
    ORDINARY = "ordinary", "普通劳动力"
    SKILLED = "skilled", "技能劳动力"
    LOST = "lost", "丧失劳动力"
    NONE = "none", "无劳动力"


class Assistance(models.TextChoices):
    NONE = "none", "无"
    DIBAO = "dibao", "低保"
    TEKUN = "tekun", "特困供养"


# a household's members in this order on every page and card: the head first, then as the choices list them
RELATION_ORDER = {value: i for i, value in enumerate(Relation.values)}


class GuaranteeItem(models.TextChoices):
    FOOD = "food", "不愁吃"
    CLOTHING = "clothing", "不愁穿"
    EDUCATION = "education", "义务教育有保障"
    MEDICAL = "medical", "基本医疗有保障"
    HOUSING = "housing", "住房安全有保障"
    WATER = "water", "饮水安全有保障"


class EventKind(models.TextChoices):
    BIRTH = "birth", "出生"
    DEATH = "death", "死亡"
    MARRIAGE_IN = "marriage_in", "婚入"
    MARRIAGE_OUT = "marriage_out", "婚出"
    SPLIT = "split", "分户"
    MERGE = "merge", "并户"
    MOVE_IN = "move_in", "迁入"
    MOVE_OUT = "move_out", "迁出"
    MOVE = "move", "户间迁移"
    REGISTER = "register", "登记入户"
