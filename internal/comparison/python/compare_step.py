"""The seed's step on each path that reaches Application Insights, for
scripts/compare-python.sh (make compare-python).

    compare_step.py PATH [CALLS]

PATH is how the step's logging reaches Application Insights:
  opencensus     OpenCensus' AzureLogHandler (APPLICATIONINSIGHTS_CONNECTION_STRING)
  otel-sdk       the OpenTelemetry SDK's LoggingHandler, OTLP to a collector
  instrument     plain logging, sent by opentelemetry-instrument
  console        plain logging to a StreamHandler, sent by runcontext-launch

Every path also prints to a StreamHandler on stderr, as the seed's step
does. With COMPARE_KILL=1 it kills itself with SIGKILL 1 s after its
last log call. With CALLS, it then makes CALLS more logger.info calls and prints the
process's CPU time per call (µs) and its peak RSS (KiB) as JSON on stdout.
"""
import json
import logging
import os
import resource
import sys
import time

path = sys.argv[1]
calls = int(sys.argv[2]) if len(sys.argv) > 2 else 0

run = {
    "parent_run_id": "931024c2-3720-11ea-b247-c49deda841c1",
    "step_id": "prep_7c1d9a",
    "step_name": "prep",
    "experiment_name": "train-pipeline",
    "run_url": "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1",
    "run_type": "training",
}

logger = logging.getLogger("sample_step")
logger.setLevel(logging.INFO)
flush = lambda: None
if path == "opencensus":
    from opencensus.ext.azure.log_exporter import AzureLogHandler

    handler = AzureLogHandler()
    logger.addHandler(handler)
    flush = handler.flush
elif path == "otel-sdk":
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    logger.addHandler(LoggingHandler(logger_provider=provider))
    flush = provider.shutdown
logger.addHandler(logging.StreamHandler())

logger.info("loading training data", extra={"custom_dimensions": run})
logger.warning("validation loss increased", extra={"custom_dimensions": run})
try:
    raise ValueError("training diverged: loss is NaN")
except ValueError:
    logger.exception("training failed", extra={"custom_dimensions": run})

if os.environ.get("COMPARE_KILL") == "1":
    # Killed 1 s after the last log call, before any flush.
    import signal

    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)

if calls:
    # The console would dominate; the cost measured is the handler's.
    for h in logger.handlers:
        if type(h) is logging.StreamHandler:
            logger.removeHandler(h)
    if path in ("instrument", "console"):
        logger.addHandler(logging.StreamHandler(open(os.devnull, "w")))
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for i in range(calls):
        logger.info("epoch %d batch done", i, extra={"custom_dimensions": run})
    flush()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({
        "cpu_us_per_call": round(cpu / calls * 1e6, 1),
        "wall_s": round(time.perf_counter() - start, 2),
        "peak_rss_kib": after.ru_maxrss,
    }))
else:
    flush()
