"""Code shared by the Heat and Nova sides: options and the valet-api client."""

from valet_os.common.client import ValetAPIError  # noqa: F401
from valet_os.common.client import ValetClient  # noqa: F401
from valet_os.common.client import ValetError  # noqa: F401
from valet_os.common.client import ValetUnavailable  # noqa: F401
from valet_os.common.config import register_opts  # noqa: F401
