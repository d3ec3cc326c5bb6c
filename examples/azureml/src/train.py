"""Trains, logging with the standard library only.

Run under `opentelemetry-instrument` (see pipeline.yml), the logging
module's records go over OTLP to the collector runcontext-launch started:
no OpenTelemetry code here.
"""
import argparse
import logging
import math

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    for epoch in range(args.epochs):
        loss = 1.0 / (epoch + 1)
        log.info("epoch %d loss %.3f", epoch, loss)
        if math.isnan(loss):
            log.error("training diverged: loss is NaN")
    log.error("could not write checkpoint")


if __name__ == "__main__":
    main()
