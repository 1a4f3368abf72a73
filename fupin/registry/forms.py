"""Forms only parse and display; validation that matters lives in services."""
from django import forms

from fupin.core import idcard
from fupin.core.forms import YuanField

from .choices import EventKind, GuaranteeItem, Relation
from .models import Household, Person

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what <input type=date> shows


class HouseholdForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = ["number", "village", "standard", "attribute", "main_cause", "other_cause_1",
                  "other_cause_2", "status", "status_since", "phone", "address", "housing_area",
                  "housing_structure", "housing_year", "housing_grade", "relocated", "electricity",
                  "fuel", "market_distance_km", "bank_name", "bank_account"]
        widgets = {"status_since": DATE}

    def __init__(self, *args, villages=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if villages is not None:
            self.fields["village"].queryset = villages.select_related("parent")
        # a village is named with its township: there may be two 团结村 in a county
        self.fields["village"].label_from_instance = lambda r: f"{r.parent.name} {r.name}" if r.parent_id else r.name
        if editing:
            for name in ("number", "status", "status_since"):
                self.fields[name].disabled = True
            self.fields["status"].help_text = "状态只能通过识别、退出、监测等流程改变"
        else:  # a new household starts as 待识别; the identification workflow decides the rest
            del self.fields["status"], self.fields["status_since"]


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["name", "sex", "id_number", "birth_date", "relation", "ethnicity", "education",
                  "schooling", "health", "disability_category", "disability_grade", "labour",
                  "migrant_months", "migrant_place", "medical_insurance", "pension_insurance", "assistance"]
        widgets = {"birth_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        self.fields["birth_date"].help_text = "可不填，由身份证号自动得出"

    def clean_id_number(self):
        result = idcard.check(self.cleaned_data["id_number"])
        if not result.valid:
            raise forms.ValidationError(result.error)
        return result.id

    def validate_unique(self):
        pass  # the service checks uniqueness and says which household holds the number


ENTRY_KINDS = [(k, EventKind(k).label) for k in (EventKind.REGISTER, EventKind.BIRTH,
                                                  EventKind.MARRIAGE_IN, EventKind.MOVE_IN)]


class EntryForm(forms.Form):
    kind = forms.ChoiceField(label="入户方式", choices=ENTRY_KINDS)
    date = forms.DateField(label="发生日期", widget=DATE)
    note = forms.CharField(label="说明", required=False, max_length=200)


class PersonEventForm(forms.Form):
    kind = forms.ChoiceField(label="变动类型", choices=[
        (EventKind.DEATH, "死亡"), (EventKind.MARRIAGE_OUT, "婚出（迁出本系统）"),
        (EventKind.MOVE_OUT, "迁出（迁出本系统）"), (EventKind.MOVE, "迁入另一登记户"),
        (EventKind.MARRIAGE_IN, "婚入另一登记户")])
    date = forms.DateField(label="发生日期", widget=DATE)
    to_number = forms.CharField(label="迁入户编号（迁入另一户时填写）", required=False)
    relation = forms.ChoiceField(label="在新户中与户主关系", choices=Relation.choices, initial=Relation.OTHER)
    note = forms.CharField(label="说明", required=False, max_length=200)


class SplitForm(forms.Form):
    number = forms.CharField(label="新户编号", max_length=24)
    date = forms.DateField(label="分户日期", widget=DATE)
    note = forms.CharField(label="说明", required=False, max_length=200)


class MergeForm(forms.Form):
    target_number = forms.CharField(label="并入的户编号", max_length=24)
    date = forms.DateField(label="并户日期", widget=DATE)
    note = forms.CharField(label="说明", required=False, max_length=200)


class IncomeForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2010, max_value=2100)
    wages = YuanField(label="工资性收入（元）")          # cleaned to integer fen by the one money parser
    business = YuanField(label="家庭经营性收入（元）")
    transfers = YuanField(label="转移性收入（元，按政策计入部分）")
    property_income = YuanField(label="财产性收入（元）")
    costs = YuanField(label="生产经营性支出（元）")
    recorded_on = forms.DateField(label="采集日期", widget=DATE)
    source = forms.CharField(label="数据来源", required=False, max_length=120)


class GuaranteeForm(forms.Form):
    item = forms.ChoiceField(label="项目", choices=GuaranteeItem.choices)
    met = forms.TypedChoiceField(label="是否达标", choices=[("1", "达标"), ("0", "未达标")],
                                 coerce=lambda v: v == "1")
    checked_on = forms.DateField(label="核查日期", widget=DATE)
    checked_by = forms.CharField(label="核查人", max_length=40)
    evidence = forms.CharField(label="佐证（文件、照片编号或说明）", max_length=300)

