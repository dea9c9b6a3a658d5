# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that log in to Keystone as the Valet user and talk to valet-api."""


class ModuleDocFragment:
    DOCUMENTATION = r'''
options:
  username:
    description: The Valet user.
    type: str
    default: valet
  user_domain_name:
    description: Domain of O(username).
    type: str
    default: Default
  project_name:
    description: The project the token is scoped to.
    type: str
    default: service
  project_domain_name:
    description: Domain of O(project_name).
    type: str
    default: Default
  timeout:
    description: Seconds each request may take.
    type: int
    default: 30
  validate_certs:
    description: Verify the TLS certificates of valet-api and Keystone.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (PEM) to verify valet-api's and Keystone's certificates with, for example a private CA.
        Unset, the system's trust store.
    type: path
'''
