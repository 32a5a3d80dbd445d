/*  fuzz_wire: libFuzzer target for cp_wire's decoders.

    The first byte of an input picks the decoder: 1 HELLO, 2 WELCOME,
    3 BATCH, 4 ACK, 5 NACK, 6 PING, 7 PONG, 8 RECOVER, 9 RECOVERED,
    10 DOWN, 11 DOWNACK, 12 FIGURES, 13 FIGREQ, 14 FIGROWS (any other byte
    modulo 14, 0 meaning FIGROWS); the rest is the body.  What
    decodes must keep the header's promises (wire_any_holds) and survive the
    trip back: encoding it and decoding that gives the same value, a second
    encoding the same bytes, none longer than the body (the encoder takes the
    shortest form of every value).  What fails must fail with a code that
    decoder may give.  The same bytes are also a command frame for
    cp_wire_command, which must name a command only for exactly its name.
    A broken promise aborts, so the fuzzer keeps the input.

    Build with clang -fsanitize=fuzzer,address,undefined; replay.c runs the
    saved corpus (tests/fuzz/corpus/wire) through the same function as an
    ordinary test.                                                           */

#include "fuzzing.h"
#include "wire_any.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_fail (int command, const char *what)
{
    fprintf (stderr, "fuzz_wire: %s: %s\n", cp_wire_command_name (command), what);
    abort ();
}

//  The body through its decoder, and back when it decodes.
static void
s_body (int command, const uint8_t *body, size_t size)
{
    wire_any_t value;
    int rc = wire_any_decode (command, body, size, &value);
    if (rc) {
        if (!wire_any_refusal (command, rc))
            s_fail (command, "refused with a stray code");
        return;
    }
    if (!wire_any_holds (command, &value))
        s_fail (command, "accepted a value the header says is refused");
    if (command == CP_CMD_HELLO) {
        char name [CP_WIRE_LOG_NAME];
        cp_wire_log_name (value.hello.log, name);
        if (strlen (name) != CP_WIRE_LOG_NAME - 1
        ||  strspn (name, "0123456789abcdef") != CP_WIRE_LOG_NAME - 1)
            s_fail (command, "a log name that is not 16 hex digits");
    }
    size_t once_size;
    uint8_t *once = wire_any_encode (command, &value, &once_size);
    if (!once)
        s_fail (command, "a decoded value does not encode");
    wire_any_t again;
    if (wire_any_decode (command, once, once_size, &again))
        s_fail (command, "a re-encoded body does not decode");
    if (!wire_any_same (command, &value, &again))
        s_fail (command, "the value changed in the round trip");
    size_t twice_size;
    uint8_t *twice = wire_any_encode (command, &again, &twice_size);
    if (!twice || twice_size != once_size || memcmp (once, twice, once_size) != 0)
        s_fail (command, "encoding is not stable");
    if (once_size > size)
        s_fail (command, "re-encoding is longer than the body");
    free (twice);
    free (once);
}

//  The bytes as a command frame: a command only for exactly its name.
static void
s_frame (const uint8_t *frame, size_t size)
{
    int command = cp_wire_command (frame, size);
    for (int other = 1; other <= CP_CMD_MAX; other++) {
        const char *name = cp_wire_command_name (other);
        bool same = strlen (name) == size && memcmp (name, frame, size) == 0;
        if (same != (command == other))
            s_fail (other, "cp_wire_command does not match the names");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int command = data [0] % CP_CMD_MAX;
    if (command == 0)
        command = CP_CMD_MAX;
    s_body (command, data + 1, size - 1);
    s_frame (data + 1, size - 1);
    return 0;
}
