class DataError(Exception):
    pass

def read_rows():
    try:
        return int("twelve")
    except ValueError as err:
        raise DataError("row 12 is not a number") from err

read_rows()
