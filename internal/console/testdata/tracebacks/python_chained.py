config = {}
try:
    config["learning_rate"]
except KeyError:
    raise RuntimeError("no learning rate configured")
