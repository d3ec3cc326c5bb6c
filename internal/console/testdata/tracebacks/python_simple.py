def load(path):
    return open(path).read()

load("/no/such/file.csv")
