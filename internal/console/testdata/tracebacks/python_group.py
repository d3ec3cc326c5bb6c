def validate():
    raise ExceptionGroup("2 checks failed", [ValueError("epochs must be positive"), TypeError("batch size must be an int")])

validate()
