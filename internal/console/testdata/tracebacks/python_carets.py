def ratio(a, b):
    return a["hits"] / b["total"]

ratio({"hits": 3}, {"total": 0})
