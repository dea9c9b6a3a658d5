"""valet-api for gunicorn in tests: `gunicorn 'valet_api_testapp:app()'`, configured by the environment.

VALET_TEST_CONNECTION: the database; VALET_TEST_CLOUD: JSON [[host, rack, {class: free}], ...];
VALET_TEST_DECISION_DELAY: seconds every decision waits between reading the state and writing it
(widens the race window the same for every variant); VALET_TEST_NO_CAS=1: the compare-and-set is off,
to show the race it closes.
"""

import json
import os
import time


def app():
    import logging

    logging.basicConfig(
        level=logging.DEBUG if os.environ.get("VALET_TEST_DEBUG") else logging.INFO,
        format="%(process)d %(name)s %(levelname)s %(message)s",
    )
    from valet_api_fakes import FakeCloud
    from valet_api_fakes import make_conf

    from valet_api import engine
    from valet_api import planning
    from valet_api import wsgi

    conf = make_conf(os.environ["VALET_TEST_CONNECTION"])
    conf.set_override("decision_retries", 30, "database")
    cloud = FakeCloud([engine.Host(name=n, rack=r, free=f) for n, r, f in json.loads(os.environ["VALET_TEST_CLOUD"])])
    delay = float(os.environ.get("VALET_TEST_DECISION_DELAY", "0"))
    if delay:
        place = engine.place

        def slow_place(*args, **kwargs):
            time.sleep(delay)
            return place(*args, **kwargs)

        engine.place = slow_place
    if os.environ.get("VALET_TEST_NO_CAS") == "1":
        planning.COMPARE_AND_SET = False
    return wsgi.init_application(conf, cloud=cloud)
