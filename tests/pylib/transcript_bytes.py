"""The byte notation of a transcript's JSON form (results/transcript.h,
docs/transcripts.md), both ways, for tests that write sessions or compare
them with what a peer sent. The one Python copy of it: import it, do not
re-implement it. Standard library only."""

_SIMPLE = {ord("\\"): b"\\", ord("r"): b"\r", ord("n"): b"\n", ord("t"): b"\t"}


def escape_bytes(data):
    """The notation of `data` (bytes) as the C++ encoder writes it:
    printable ASCII stands for itself but a backslash, which is two, CR LF HT
    are \\r \\n \\t, every other octet is \\xHH."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def unescape_bytes(text):
    """Decodes the notation of "data": \\\\ \\r \\n \\t \\xHH; any other
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


def side_chunks(transcript, kind):
    """The data chunks of one side ("c2s" or "s2c") of a transcript's JSON
    object, each as bytes, in order."""
    return [unescape_bytes(e.get("data", "")) for e in transcript["entries"] if e["kind"] == kind]


def side_bytes(transcript, kind):
    """The stored bytes of one side ("c2s" or "s2c"), concatenated."""
    return b"".join(side_chunks(transcript, kind))
