"""`make package`: the deployable template and code package of one stage, offline, in one pass.

    python scripts/package.py --stage dev [--stage prod] [--out build]

Runs `chalice package` with infra/resources.yaml merged in, narrows the template's Stage parameter
to the stage packaged, takes out of the zip what the Lambda runtime already provides (the AWS SDK
for Python and its dependencies), and prints the size of what gets uploaded. No AWS credentials are
needed: Chalice only needs a region name to write the template, and nothing here calls AWS.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE = ROOT / "infra" / "resources.yaml"
STAGES = ("dev", "prod")

# The Lambda Python runtime ships boto3 with its dependencies; PynamoDB and the adapters use that
# copy. Names as in the distributions' metadata, normalised (PEP 503).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"})


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distributions(archive: zipfile.ZipFile) -> dict[str, str]:
    """Distribution name (normalised) -> its .dist-info directory, for every distribution in the zip."""
    found = {}
    for name in archive.namelist():
        parts = name.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
            metadata = archive.read(name).decode("utf-8", "replace")
            match = re.search(r"^Name:\s*(\S+)", metadata, re.MULTILINE)
            if match:
                found[normalize(match.group(1))] = parts[0]
    return found


def _files_of(archive: zipfile.ZipFile, dist_info: str) -> set[str]:
    """The files a distribution installed, from its RECORD (plus the .dist-info directory itself)."""
    files = {n for n in archive.namelist() if n.startswith(dist_info + "/")}
    record = archive.read(f"{dist_info}/RECORD").decode("utf-8", "replace")
    for line in record.splitlines():
        path = line.split(",", 1)[0]
        if path and not path.startswith(".."):
            files.add(path)
    return files


def slim(zip_path: Path, leave_out: frozenset[str] = RUNTIME_PROVIDED) -> list[str]:
    """Rewrite the zip without the distributions in `leave_out`; returns the names left out."""
    with zipfile.ZipFile(zip_path) as archive:
        dists = _distributions(archive)
        removed = sorted(name for name in dists if name in leave_out)
        drop: set[str] = set()
        for name in removed:
            drop |= _files_of(archive, dists[name])
        slimmed = zip_path.with_suffix(".slim.zip")
        with zipfile.ZipFile(slimmed, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                if info.filename not in drop:
                    out.writestr(info, archive.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    slimmed.replace(zip_path)
    return removed


def size(zip_path: Path) -> tuple[int, int]:
    """(bytes of the zip, bytes once unzipped)."""
    with zipfile.ZipFile(zip_path) as archive:
        return zip_path.stat().st_size, sum(i.file_size for i in archive.infolist())


def _narrow_stage(template_path: Path, stage: str) -> None:
    """The template deploys the stage whose code and settings it carries, and no other."""
    template = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    parameter = template["Parameters"]["Stage"]
    parameter["AllowedValues"] = [stage]
    parameter["Default"] = stage
    text = yaml.safe_dump(template, allow_unicode=True, sort_keys=True)
    leftovers = sorted(set(re.findall(r"REPLACE_WITH_[A-Z_]+", text)))
    if leftovers:
        raise SystemExit(f"placeholders left in the template: {', '.join(leftovers)}")
    template_path.write_text(text, encoding="utf-8")


def _project_copy(scratch: Path) -> Path:
    """What Chalice packages, copied aside: its zip cache then lives and dies with this run (no stale
    zips pile up in .chalice/deployments, two runs never share one) and no local bytecode gets in."""
    project = scratch / "project"
    project.mkdir()
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, project / name)
    for name in ("chalicelib", "vendor"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (project / ".chalice").mkdir()
    for path in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(path, project / ".chalice" / path.name)
    return project


def package(stages: list[str], out_root: Path) -> dict[str, Path]:
    """Write <out_root>/<stage>/sam.yaml and deployment.zip for each stage; returns each stage's directory."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stage {unknown[0]!r}: use one of {', '.join(STAGES)}")
    env = {**os.environ}
    # Chalice wants a region to name service principals; the template itself uses AWS::Region.
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        env["AWS_DEFAULT_REGION"] = "us-east-1"
    chalice = Path(sys.executable).parent / "chalice"
    written = {}
    with tempfile.TemporaryDirectory(prefix="latchkey-package-") as scratch:
        project = _project_copy(Path(scratch))
        for stage in stages:
            staged = Path(scratch) / stage
            result = subprocess.run([str(chalice), "package", "--stage", stage, "--template-format", "yaml",
                                     "--merge-template", str(MERGE_TEMPLATE), str(staged)],
                                    cwd=project, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                sys.stderr.write(result.stdout + result.stderr)
                raise SystemExit(f"chalice package failed for {stage}")
            _narrow_stage(staged / "sam.yaml", stage)
            slim(staged / "deployment.zip")
            out_dir = out_root / stage
            if out_dir.exists():
                shutil.rmtree(out_dir)
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staged, out_dir)
            written[stage] = out_dir
    return written


def describe(zip_path: Path) -> str:
    zipped, unzipped = size(zip_path)
    return f"{zip_path}  {zipped / 1e6:.1f} MB ({unzipped / 1e6:.1f} MB unzipped; boto3 comes from the Lambda runtime)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", action="append", choices=STAGES, help="dev (default) or prod; repeatable")
    parser.add_argument("--out", default=str(ROOT / "build"), help="writes <out>/<stage>/ (default: build)")
    args = parser.parse_args(argv)
    for stage, out_dir in package(args.stage or ["dev"], Path(args.out)).items():
        print(f"{out_dir / 'sam.yaml'}  template for the {stage} stage")
        print(describe(out_dir / "deployment.zip"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
