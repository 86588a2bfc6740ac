"""The bytes of a transcript's JSON form (results/transcript.h), for tests
that compare sessions with what a peer sent. Standard library only."""

_SIMPLE = {ord("\\"): b"\\", ord("r"): b"\r", ord("n"): b"\n", ord("t"): b"\t"}


def unescape_bytes(text):
    """Decodes the byte notation of "data": \\\\ \\r \\n \\t \\xHH; any other
    character stands for its UTF-8 octets (as the C++ decoder reads it)."""
    raw = text.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] != ord("\\"):
            out.append(raw[i])
            i += 1
        elif raw[i + 1:i + 2] == b"x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out += _SIMPLE[raw[i + 1]]
            i += 2
    return bytes(out)


def side_bytes(transcript, kind):
    """The stored bytes of one side ("c2s" or "s2c") of a transcript's JSON
    object, concatenated."""
    return b"".join(unescape_bytes(e.get("data", "")) for e in transcript["entries"]
                    if e["kind"] == kind)
