from valet_api.handlers import util


def versions(req):
    url = req.host_url + "/v1/"
    return 200, {"versions": [{"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": url}]}]}


def v1(req):
    util.context(req).can("valet:status:show")
    return 200, {"version": "v1"}
