"""Loads the Azure ML recipe with Azure ML's own loaders, offline.

load_job and load_environment validate against the SDK's schemas: an
error fails, and so does a warning (an unknown field is only a warning
there). Prints one line per file loaded.
"""
import io
import logging
import sys
from contextlib import redirect_stdout

from azure.ai.ml import load_environment, load_job

recipe = sys.argv[1]
warnings = io.StringIO()
handler = logging.StreamHandler(warnings)
logging.getLogger("azure.ai.ml").addHandler(handler)
printed = io.StringIO()
with redirect_stdout(printed):
    job = load_job(f"{recipe}/pipeline.yml")
    env = load_environment(f"{recipe}/environment/environment.yml")
complaints = [line for line in (printed.getvalue() + warnings.getvalue()).splitlines()
              if "Unknown field" in line or "Warnings:" in line]
if complaints:
    print("\n".join(complaints))
    sys.exit(1)
print(f"pipeline.yml: {type(job).__name__} {job.experiment_name} jobs={sorted(job.jobs)}")
for name, step in sorted(job.jobs.items()):
    identity = type(step.identity).__name__ if step.identity else "none"
    print(f"  {name}: {step.command} (identity {identity})")
print(f"environment.yml: {type(env).__name__} {env.name} build={env.build.path}")
