"""Prints one secret of the workspace's Key Vault, read with the compute's
managed identity: the Application Insights connection string, for a
resource that still takes instrumentation keys, so that it never sits in
the job's environment_variables (which studio shows):

    APPLICATIONINSIGHTS_CONNECTION_STRING="$(python get_secret.py)" \
      runcontext-launch --strict -- python train.py

runcontext-launch hands it to its collector only, never to the step.

KEY_VAULT_URL   the vault, https://<name>.vault.azure.net (the workspace's
                is on its overview page in the portal)
SECRET_NAME     the secret (default appinsights-connection-string)

The compute's identity needs the "Key Vault Secrets User" role on the vault
(or a get permission in its access policy). With a user-assigned identity,
Azure ML sets DEFAULT_IDENTITY_CLIENT_ID and the credential uses it.
Exits 1 with the reason on stderr when the secret cannot be read: the
launcher, --strict, then refuses to run the step without a connection
string.
"""
import os
import sys

from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient


def main():
    url = os.environ.get("KEY_VAULT_URL", "")
    if not url:
        print("get_secret.py: KEY_VAULT_URL is not set: set it to the workspace's Key Vault, "
              "https://<name>.vault.azure.net", file=sys.stderr)
        return 1
    name = os.environ.get("SECRET_NAME", "appinsights-connection-string")
    credential = ManagedIdentityCredential(client_id=os.environ.get("DEFAULT_IDENTITY_CLIENT_ID") or None)
    try:
        secret = SecretClient(vault_url=url, credential=credential).get_secret(name)
    except Exception as e:  # the SDK's errors name the cause: no identity, no role, no secret
        print(f"get_secret.py: could not read the secret {name} of {url}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(secret.value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
