"""`make run`: a moto server on 127.0.0.1, the table, user pool and sender provisioned on it, then `chalice local`.

Nothing reaches AWS: every client points at the moto server. PORT, MOTO_PORT, PUBLIC_BASE_URL and
PLATFORM_REVIEWER_EMAILS come from the environment, so two stacks can run side by side.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # loopback only


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    moto_port = int(os.environ.get("MOTO_PORT", "5055"))
    public_base_url = os.environ.get("PUBLIC_BASE_URL") or f"http://{HOST}:{port}"
    endpoint = f"http://{HOST}:{moto_port}"

    fake_aws = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    os.environ.update(fake_aws)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)

    import logging

    from scripts.moto_server import SerialMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per fake AWS call is noise

    server = SerialMotoServer(moto_port)
    server.start()
    try:
        from chalicelib.adapters.provision import provision

        env = provision("us-east-1", "latchkey-local", os.environ.get("MAIL_FROM", "Latchkey <no-reply@latchkey.example>"),
                        endpoint_url=endpoint)
        env.update(fake_aws)
        env.update({"STAGE": "local", "PUBLIC_BASE_URL": public_base_url, "LOCAL_MAIL_WORKER": "1",
                    "PLATFORM_REVIEWER_EMAILS": os.environ.get("PLATFORM_REVIEWER_EMAILS", "")})
        child_env = {**os.environ, **env}
        print(f"Latchkey API      http://{HOST}:{port}", flush=True)
        print(f"Local mail page   http://{HOST}:{port}/_dev/mail", flush=True)
        print(f"Links in mail     {public_base_url}/...", flush=True)
        print(f"moto (fake AWS)   {endpoint}", flush=True)
        chalice = [str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local", "--host", HOST,
                   "--port", str(port), "--no-autoreload"]
        proc = subprocess.Popen(chalice, cwd=ROOT, env=child_env)

        def forward(signum, _frame):
            proc.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        return proc.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
