"""REST API v1: token auth, the same scope as the screens, Chinese errors, OpenAPI."""
import pytest

from fupin.core import services as core_services
from fupin.core.models import AuditEvent
from fupin.registry.models import Household, Person

from .conftest import V1, pid


@pytest.fixture
def api(client, world):
    def as_role(role):
        user = world.users[role]
        token = core_services.token_create(actor=user, user=user, name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        class C:
            def get(self, url):
                return client.get(url, **headers)

            def post(self, url, body):
                return client.post(url, body, content_type="application/json", **headers)

            def patch(self, url, body):
                return client.patch(url, body, content_type="application/json", **headers)
        return C()
    return as_role


def test_no_token_is_refused(client, world):
    assert client.get("/api/v1/households").status_code == 401
    assert client.get("/api/v1/households", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_households_are_scoped(api, world):
    county = api("county_officer").get("/api/v1/households").json()
    assert (county["total"], [i["number"] for i in county["items"]]) == (3, ["H1", "H2", "H4"])
    village = api("village_cadre").get("/api/v1/households").json()
    assert [i["number"] for i in village["items"]] == ["H1"]
    assert api("village_cadre").get(f"/api/v1/households/{world.h2.pk}").json() == {
        "detail": f"找不到户（编号 {world.h2.pk}），或该户不在您的管辖范围内"}
    assert api("auditor").get("/api/v1/households").status_code == 403


def test_household_detail_masks_ids(api, world):
    body = api("county_officer").get(f"/api/v1/households/{world.h1.pk}").json()
    head = world.h1.persons.get(relation="head")
    assert body["size"] == 3
    assert body["members"][0]["id_number_masked"] == f"{head.id_number[:6]}**********{head.id_number[-2:]}"
    assert "id_number" not in body["members"][0]


def test_create_household_person_and_event(api, world):
    c = api("village_cadre")
    r = c.post("/api/v1/households", {"number": "API1", "village": V1, "attribute": "general", "main_cause": "skills"})
    assert r.status_code == 201
    hid = r.json()["id"]
    r = c.post(f"/api/v1/households/{hid}/persons", {"name": "接口", "id_number": pid("1985-05-05", 11).lower(),
                                                      "relation": "head", "labour": "ordinary", "date": "2020-01-01"})
    assert (r.status_code, r.json()["birth_year"], r.json()["sex"]) == (201, 1985, "M")
    assert "birth_date" not in r.json() and r.json()["id_number_masked"].endswith("**" + pid("1985-05-05", 11)[-2:])
    person_id = r.json()["id"]
    r = c.post(f"/api/v1/persons/{person_id}/events", {"kind": "death", "date": "2026-02-01"})
    assert (r.status_code, r.json()["kind"], r.json()["from_household"]) == (201, "death", hid)
    events = c.get(f"/api/v1/households/{hid}/events").json()
    assert [e["kind"] for e in events] == ["register", "death"]
    assert AuditEvent.objects.filter(household_id=hid).count() == 3


def test_bad_input_gets_chinese_errors_and_changes_nothing(api, world):
    c = api("village_cadre")
    r = c.post(f"/api/v1/households/{world.h1.pk}/persons", {"name": "错", "id_number": "513435198001010112",
                                                              "relation": "child", "labour": "ordinary"})
    assert (r.status_code, r.json()) == (400, {"detail": "证件号码：校验码错误：最后一位应为 4，实际为 2",
                                               "errors": {"证件号码": "校验码错误：最后一位应为 4，实际为 2"}})
    r = c.post("/api/v1/households", {"number": "X"})
    assert r.status_code == 422 and r.json()["detail"].startswith("请求数据格式不正确：")
    r = c.post("/api/v1/households", {"number": "X", "village": "513435101200", "attribute": "general",
                                      "main_cause": "skills"})
    assert (r.status_code, r.json()["detail"]) == (403, "村 团结村（513435101200）不在您的管辖范围内")
    assert Household.objects.filter(number="X").count() == 0 and Person.objects.count() == 6


def test_read_only_roles_cannot_write(api, world):
    r = api("inspector").patch(f"/api/v1/households/{world.h1.pk}", {"phone": "13000000000"})
    assert (r.status_code, r.json()["detail"]) == (403, "您的角色没有“录入与修改户籍”权限，如需办理请联系县级管理员")
    assert Household.objects.get(pk=world.h1.pk).phone == ""


def test_regions_and_openapi(api, world, client):
    children = api("county_officer").get("/api/v1/regions?parent=513435000000").json()
    assert [r["code"] for r in children] == ["513435100000", "513435101000"]
    doc = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/households", "/api/v1/households/{household_id}", "/api/v1/regions",
            "/api/v1/persons/{person_id}/events", "/api/v1/households/{household_id}/persons"} <= set(doc["paths"])
    assert doc["info"]["version"] == "1"
