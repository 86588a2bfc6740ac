"""How the Python end-to-end tests count what went wrong: check() prints each
result and keeps the failures; the test exits 1 when `failures` is not empty.
Standard library only."""

failures = []


def check(cond, what):
    """Prints "ok: WHAT" or "FAIL: WHAT"; a failure is kept in `failures`."""
    if cond:
        print("ok:", what)
    else:
        failures.append(what)
        print("FAIL:", what)
    return cond


def exit_status(name):
    """The test's exit status, after its closing line: 1 with the number of
    failures, else 0 with "NAME: OK"."""
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("%s: OK" % name)
    return 0
