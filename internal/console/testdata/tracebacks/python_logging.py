import logging, sys
logging.basicConfig(stream=sys.stderr)
log = logging.getLogger("train")
log.warning("low disk")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("epoch 3 failed")
log.error("giving up")
