# A step as the seed's users write them: Python's logging with a
# StreamHandler (basicConfig's, on stderr, "LEVEL:logger:message"), no
# OpenTelemetry at all, and an exception nobody catches.
import logging

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("train")
print("epoch 1 of 3")
log.info("loading 1200 rows")
log.warning("validation loss increased")
log.error("could not write checkpoint")


def train():
    raise RuntimeError("training diverged: loss is NaN")


train()
