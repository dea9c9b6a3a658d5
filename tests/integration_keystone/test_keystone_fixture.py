"""The Keystone fixture itself: what other tests count on."""

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3


def test_token_requests_counts_each_token(keystone):
    before = keystone.token_requests()
    sess = keystone.admin_session()
    sess.get_token()
    sess.get_token()  # cached by the plugin: no second request
    assert keystone.token_requests() == before + 1
    keystone.admin_session().get_token()
    assert keystone.token_requests() == before + 2
    assert keystone.requests()[-1] == {"method": "POST", "path": "/v3/auth/tokens", "status": 201}
    # validating a token (what keystonemiddleware does: GET /v3/auth/tokens) is not issuing one
    kc = keystone.admin_client()
    kc.tokens.validate(sess.get_token())
    assert keystone.requests()[-1]["method"] == "GET"
    assert keystone.token_requests() == before + 3  # admin_client() authenticated once


def test_create_service_user_is_idempotent_and_usable(keystone):
    first = keystone.create_service_user("fixture-probe", "probe-pw-1")
    again = keystone.create_service_user("fixture-probe", "probe-pw-2")
    assert first.id == again.id
    auth = ks_v3.Password(
        auth_url=keystone.auth_url,
        username="fixture-probe",
        password="probe-pw-2",
        user_domain_id="default",
        project_name="service",
        project_domain_id="default",
    )
    assert ks_session.Session(auth=auth).get_token()
    kc = keystone.admin_client()
    assert [
        e.url for e in kc.endpoints.list(interface="public") if e.service_id == kc.services.list(type="identity")[0].id
    ] == [keystone.auth_url]
