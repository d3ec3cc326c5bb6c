# The seed's sample_step.py, as Azure ML's how-to gives it: OpenCensus'
# AzureLogHandler next to a StreamHandler, the run's dimensions passed the
# OpenCensus way (extra={"custom_dimensions": ...}), a warning, and an
# exception. The connection string comes from
# APPLICATIONINSIGHTS_CONNECTION_STRING.
#
# STEP_HANDLER=opentelemetry runs the same calls, from the same lines, with
# the OpenTelemetry SDK's LoggingHandler instead (OTEL_EXPORTER_OTLP_ENDPOINT),
# so that the two can be compared envelope by envelope.
import logging
import os

run = {
    "parent_run_id": "931024c2-3720-11ea-b247-c49deda841c1",
    "step_id": "prep_7c1d9a",
    "step_name": "prep",
    "experiment_name": "train-pipeline",
    "run_url": "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1",
    "run_type": "training",
}

if os.environ.get("STEP_HANDLER") == "opentelemetry":
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    handler = LoggingHandler(logger_provider=provider)
    flush = provider.shutdown
else:
    from opencensus.ext.azure.log_exporter import AzureLogHandler

    handler = AzureLogHandler()  # APPLICATIONINSIGHTS_CONNECTION_STRING
    flush = handler.flush

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
logger.addHandler(handler)
logger.addHandler(logging.StreamHandler())

logger.info("loading training data", extra={"custom_dimensions": run})
logger.warning("validation loss increased", extra={"custom_dimensions": run})
try:
    raise ValueError("training diverged: loss is NaN")
except ValueError:
    logger.exception("training failed", extra={"custom_dimensions": run})
flush()
