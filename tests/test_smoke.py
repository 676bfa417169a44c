import fastsse


def test_decode_one_event() -> None:
    decoder = fastsse.SSEDecoder()
    assert decoder.decode(b"data: hi\n\n") == [fastsse.ServerSentEvent(data="hi")]
