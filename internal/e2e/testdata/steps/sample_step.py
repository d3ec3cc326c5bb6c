# The seed's sample_step.py, as Azure ML's how-to gives it: OpenCensus'
# AzureLogHandler next to a StreamHandler, the run's dimensions passed the
# OpenCensus way (extra={"custom_dimensions": ...}), a warning, and an
# exception. The connection string comes from
# APPLICATIONINSIGHTS_CONNECTION_STRING.
#
# The same calls, from the same lines, run on this product's paths too, so
# that they can be compared envelope by envelope (opencensus_test.go,
# scripts/compare-python.sh):
#   STEP_HANDLER=opentelemetry  the OpenTelemetry SDK's LoggingHandler,
#                               OTLP to OTEL_EXPORTER_OTLP_ENDPOINT
#   STEP_HANDLER=logging        plain logging (opentelemetry-instrument or
#                               runcontext-launch sends it)
#   STEP_HANDLER=distro         the Azure Monitor distro's
#                               configure_azure_monitor (the connection string)
#   STEP_HOLD=S                 S seconds between the last log call and the
#                               flush (the step's other work)
#   STEP_KILL=1                 SIGKILL 1 s after the last log call
#   STEP_CALLS=N                then N logger.info calls, and the process's
#                               CPU per call and peak RSS as JSON on stdout
import json
import logging
import os
import resource
import signal
import time

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
mode = os.environ.get("STEP_HANDLER", "opencensus")
if mode == "opencensus":
    from opencensus.ext.azure.log_exporter import AzureLogHandler

    handler = AzureLogHandler()  # APPLICATIONINSIGHTS_CONNECTION_STRING
    logger.addHandler(handler)
    flush = handler.flush
elif mode == "opentelemetry":
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    logger.addHandler(LoggingHandler(logger_provider=provider))
    flush = provider.shutdown
elif mode == "distro":
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry._logs import get_logger_provider

    configure_azure_monitor(logger_name="sample_step")  # APPLICATIONINSIGHTS_CONNECTION_STRING
    flush = lambda: get_logger_provider().shutdown()
console = logging.StreamHandler()
logger.addHandler(console)

logger.info("loading training data", extra={"custom_dimensions": run})
logger.warning("validation loss increased", extra={"custom_dimensions": run})
try:
    raise ValueError("training diverged: loss is NaN")
except ValueError:
    logger.exception("training failed", extra={"custom_dimensions": run})

time.sleep(float(os.environ.get("STEP_HOLD", "0")))
if os.environ.get("STEP_KILL") == "1":
    time.sleep(1)
    os.kill(os.getpid(), signal.SIGKILL)

calls = int(os.environ.get("STEP_CALLS", "0"))
if calls:
    # The console would dominate: the cost measured is the handler's (for
    # plain logging, a StreamHandler's to /dev/null).
    logger.removeHandler(console)
    if mode == "logging":
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
