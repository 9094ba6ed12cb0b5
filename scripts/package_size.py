"""The size of the code package that gets deployed (for `make package` and `make bench`).

    python scripts/package_size.py [build/dev/deployment.zip]

With no argument it packages the dev stage into a scratch directory first (a few seconds, offline).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.package import package, size  # noqa: E402

LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024        # a zip uploaded directly to Lambda
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # the function's code once unzipped, layers included


def measure(zip_path: Path | None = None) -> dict:
    """{"zip_bytes", "unzipped_bytes"} of the given zip, or of a fresh dev package."""
    if zip_path is not None:
        zipped, unzipped = size(zip_path)
    else:
        with tempfile.TemporaryDirectory(prefix="latchkey-size-") as scratch:
            out = package(["dev"], Path(scratch))["dev"]
            zipped, unzipped = size(out / "deployment.zip")
    return {"zip_bytes": zipped, "unzipped_bytes": unzipped}


def main(argv: list[str]) -> int:
    figures = measure(Path(argv[0]) if argv else None)
    print(f"deployment package  {figures['zip_bytes'] / 1e6:.1f} MB zipped, "
          f"{figures['unzipped_bytes'] / 1e6:.1f} MB unzipped "
          f"(Lambda allows {LAMBDA_ZIP_LIMIT // 2**20} MiB and {LAMBDA_UNZIPPED_LIMIT // 2**20} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
