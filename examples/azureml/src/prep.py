"""Prepares the data, logging through the OpenTelemetry SDK.

runcontext-launch sets OTEL_EXPORTER_OTLP_ENDPOINT to its collector; the
collector adds the run context (parent_run_id, step_id, experiment_name,
run_url) from the job's environment. This step only logs.
"""
import argparse
import logging
import pathlib

from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

provider = LoggerProvider()  # resource from OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
set_logger_provider(provider)
# The console as before (basicConfig's StreamHandler), and OpenTelemetry
# added after it: given to basicConfig, the LoggingHandler would get its
# formatter too, and send "INFO:prep:..." as each message.
logging.basicConfig(level=logging.INFO)
# opentelemetry-instrumentation-logging's handler (the SDK's is deprecated
# since 1.40), with each call's file and line (fileName, lineNumber).
logging.getLogger().addHandler(LoggingHandler(logger_provider=provider, log_code_attributes=True))
log = logging.getLogger("prep")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log.info("loading training data")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rows.csv").write_text("x,y\n1,2\n")
    log.warning("validation loss increased")
    log.info("prepared %d rows", 1)


if __name__ == "__main__":
    try:
        main()
    finally:
        provider.shutdown()  # flush before the step exits
