/*  node_import: the streaming line reader and the chunked import loop.     */

#include "node_import.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"

#include <czmq.h>
#include <sys/stat.h>

#define S_CHUNK_LINES 65536         //  lines per transaction (two chunks are in memory)
#define S_BUFFER_SIZE (1 << 20)     //  read buffer; a longer line is rejected
#define S_WHY_SIZE 200
#define S_REFERRAL_NOTE "case opened"   //  directive_done's note for a referral taken up

//  =====================================================================
//  Line reader: hands out lines of a file without holding more than its
//  buffer; a line longer than CP_LINE_MAX is reported as too long and its
//  bytes skipped up to the next newline.

typedef struct {
    FILE *file;
    char *buffer;
    size_t start, end;          //  unread bytes are buffer [start, end)
    bool eof;
    uint64_t number;            //  number of the last line handed out
    uint64_t bytes;             //  bytes consumed so far
} s_reader_t;

//  Returns 1 with the next line in *line/*len (no newline), 0 at the end,
//  -1 on a read error.  *too_long is set for an over-long line.
static int
s_reader_next (s_reader_t *self, const char **line, size_t *len, bool *too_long)
{
    *too_long = false;
    bool skipping = false;
    for (;;) {
        char *at = self->buffer + self->start;
        char *newline = memchr (at, '\n', self->end - self->start);
        if (newline || (self->eof && self->end > self->start)) {
            size_t length = newline? (size_t) (newline - at): self->end - self->start;
            self->start += length + (newline != NULL);
            self->bytes += length + (newline != NULL);
            if (skipping)
                *too_long = true;
            self->number++;
            *line = at;
            *len = length;
            if (length > CP_LINE_MAX)
                *too_long = true;
            return 1;
        }
        if (self->eof)
            return 0;
        if (self->end - self->start == S_BUFFER_SIZE) {
            //  A full buffer without a newline: drop it, remember the line is bad.
            self->bytes += S_BUFFER_SIZE;
            self->start = self->end = 0;
            skipping = true;
        }
        memmove (self->buffer, self->buffer + self->start, self->end - self->start);
        self->end -= self->start;
        self->start = 0;
        size_t got = fread (self->buffer + self->end, 1, S_BUFFER_SIZE - self->end, self->file);
        self->end += got;
        if (got == 0) {
            if (ferror (self->file))
                return -1;
            self->eof = true;
        }
    }
}

//  =====================================================================
//  The parser: an actor that reads, parses, checks and hashes chunks of
//  lines while the caller applies the previous chunk to the store, so the
//  two halves of the work use both cores.  Chunks travel as pointers over
//  the actor's pipe: "FILL" + chunk to the parser, the same chunk back.

typedef struct {
    uint64_t number;            //  line number in the file
    int rc;                     //  0 parsed, else why it was rejected
    int outcome;                //  after applying: appended, duplicate or a rule's code
    char *why;                  //  the reason of a rejection (malloc'd), else NULL
    node_store_entry_t entry;
} s_line_t;

typedef struct {
    s_line_t *lines;            //  S_CHUNK_LINES of them
    size_t count;
    //  The lines that parsed, ready for node_store_append_many
    node_store_entry_t **entries;
    size_t *entry_lines;        //  each entry's index in lines
    size_t entry_count;
    uint32_t *by_key;           //  the entries in id-key order
    msgpack_sbuffer packed;     //  the entries' events, packed
    bool last;                  //  the file ends with this chunk
    int rc;                     //  CP_EIO when reading failed
    uint64_t bytes;             //  bytes of the file read up to the chunk's end
} s_chunk_t;

//  A chunk goes from one thread to the other as a pointer over the actor's
//  pipe: libzmq orders the send before the receive, but ThreadSanitizer
//  cannot see that inside an uninstrumented libzmq, so under it the sender
//  releases the chunk and the receiver acquires it (scripts/tsan.sh).
#if defined (__SANITIZE_THREAD__)
#   define S_TSAN 1
#elif defined (__has_feature)
#   if __has_feature (thread_sanitizer)
#       define S_TSAN 1
#   endif
#endif
#ifdef S_TSAN
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#   define s_handing(chunk) __tsan_release (chunk)
#   define s_taken(chunk) __tsan_acquire (chunk)
#else
#   define s_handing(chunk) ((void) (chunk))
#   define s_taken(chunk) ((void) (chunk))
#endif

typedef struct {
    s_reader_t *reader;
    node_store_t *store;        //  only node_store_prepare is called on it
    const cp_catalogue_t *catalogue;
    int32_t today;
} s_parser_args_t;

static void
s_fill (s_chunk_t *chunk, s_parser_args_t *args)
{
    chunk->count = 0;
    chunk->last = false;
    chunk->rc = 0;
    while (chunk->count < S_CHUNK_LINES) {
        const char *text;
        size_t len;
        bool too_long;
        int got = s_reader_next (args->reader, &text, &len, &too_long);
        if (got < 0)
            chunk->rc = CP_EIO;
        if (got <= 0) {
            chunk->last = true;
            break;
        }
        if (len && text [len - 1] == '\r')
            len--;
        if (len == 0 && !too_long)
            continue;           //  a blank line holds no event
        s_line_t *line = &chunk->lines [chunk->count++];
        line->number = args->reader->number;
        line->outcome = 0;
        line->why = NULL;
        char why [S_WHY_SIZE];
        if (too_long) {
            snprintf (why, sizeof why, "line is longer than %d bytes", CP_LINE_MAX);
            line->rc = CP_ETOOBIG;
        }
        else
            line->rc = cp_event_from_json (text, len, args->catalogue, args->today,
                                           &line->entry.event, why, sizeof why);
        if (line->rc)
            line->why = strdup (why);
        else
            node_store_prepare (args->store, &line->entry);
    }
    chunk->bytes = args->reader->bytes;

    //  The writer's work that needs no store: packing and ordering by key.
    chunk->entry_count = 0;
    msgpack_sbuffer_clear (&chunk->packed);
    size_t *offsets = chunk->entry_lines;      //  first the lines, offsets below
    for (size_t index = 0; index < chunk->count; index++) {
        s_line_t *line = &chunk->lines [index];
        if (line->rc)
            continue;
        size_t offset = chunk->packed.size;
        int rc = cp_codec_event_pack (&line->entry.event, &chunk->packed);
        assert (rc == 0);
        line->entry.encoded_size = chunk->packed.size - offset;
        chunk->entries [chunk->entry_count] = &line->entry;
        offsets [chunk->entry_count++] = offset;
    }
    //  The buffer has stopped moving: offsets become pointers.
    for (size_t at = 0; at < chunk->entry_count; at++)
        chunk->entries [at]->encoded = (const uint8_t *) chunk->packed.data + offsets [at];
    for (size_t at = 0, index = 0; index < chunk->count; index++)
        if (chunk->lines [index].rc == 0)
            chunk->entry_lines [at++] = index;
    node_store_order_by_key (chunk->entries, chunk->entry_count, chunk->by_key);
}

static void
s_parser_actor (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    for (;;) {
        char *command = NULL;
        void *chunk = NULL;
        if (zsock_recv (pipe, "sp", &command, &chunk) || !command || streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        zstr_free (&command);
        s_taken (chunk);
        s_fill (chunk, args);
        s_handing (chunk);
        zsock_send (pipe, "p", chunk);
    }
}

//  =====================================================================
//  The import loop

//  In the chunk's transaction: each case_opened appended that names a
//  referral directive takes it up, so the directive is marked done (unless
//  it is already) with the events that say so.  Returns 0 or a store error.
static int
s_take_up_referrals (node_store_t *store, s_chunk_t *chunk, const int *outcomes,
                     int32_t today)
{
    for (size_t at = 0; at < chunk->entry_count; at++) {
        const cp_event_t *event = &chunk->entries [at]->event;
        if (outcomes [at] != NODE_STORE_APPENDED || event->type != CP_EVENT_CASE_OPENED
        ||  event->entry == 0)
            continue;
        char why [S_WHY_SIZE];
        int rc = node_store_directive_done (store, event->entry, today, S_REFERRAL_NOTE, why,
                                            sizeof why);
        if (rc == CP_ESTORE || rc == CP_EMAPFULL)
            return rc;
        //  Done already is fine: another case, or the operator, took it up.
        if (rc != NODE_STORE_APPENDED && rc != CP_EEXISTS)
            zsys_warning ("node_import: directive %llu stays open: %s",
                          (unsigned long long) event->entry, why);
    }
    return 0;
}

//  Applies a chunk of parsed lines in one transaction; redoes it when the
//  map had to grow.  whys has S_WHY_SIZE bytes per line.  Returns 0 or a
//  store error.
static int
s_apply_chunk (node_store_t *store, s_chunk_t *chunk, int *outcomes, char *whys,
               int32_t today)
{
    for (;;) {
        int rc = node_store_begin (store);
        if (rc == 0)
            rc = node_store_append_many (store, chunk->entries, chunk->entry_count,
                                         chunk->by_key, outcomes, whys, S_WHY_SIZE);
        if (rc == 0)
            rc = s_take_up_referrals (store, chunk, outcomes, today);
        if (rc == 0)
            rc = node_store_commit (store);
        else
            node_store_abort (store);
        if (rc == CP_EMAPFULL)
            continue;
        if (rc)
            return rc;
        for (size_t at = 0; at < chunk->entry_count; at++) {
            s_line_t *line = &chunk->lines [chunk->entry_lines [at]];
            line->outcome = outcomes [at];
            if (line->outcome < 0)
                line->why = strdup (whys + at * S_WHY_SIZE);
        }
        return 0;
    }
}

//  Counts and reports a committed chunk, and frees its reasons.
static void
s_report (const char *path, s_chunk_t *chunk, FILE *errors, node_import_stats_t *stats)
{
    for (size_t index = 0; index < chunk->count; index++) {
        s_line_t *line = &chunk->lines [index];
        int outcome = line->rc? line->rc: line->outcome;
        if (outcome == NODE_STORE_APPENDED)
            stats->imported++;
        else
        if (outcome == NODE_STORE_DUPLICATE)
            stats->duplicates++;
        else {
            stats->rejected++;
            fprintf (errors, "%s:%llu: %s\n", path, (unsigned long long) line->number,
                     line->why? line->why: cp_strerror (outcome));
        }
        free (line->why);
        line->why = NULL;
    }
}

static void
s_progress (uint64_t bytes, off_t size, const node_import_stats_t *stats, bool done)
{
    if (done)
        fprintf (stderr, "\r%60s\r", "");
    else
        fprintf (stderr, "\rimporting: %3d%%  %llu lines",
                 size > 0? (int) (bytes * 100 / (uint64_t) size): 0,
                 (unsigned long long) stats->lines);
    fflush (stderr);
}

int
node_import_file (node_store_t *store, const char *path, FILE *errors, bool progress,
                  node_import_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    bool is_stdin = strcmp (path, "-") == 0;
    FILE *file = is_stdin? stdin: fopen (path, "rb");
    if (!file)
        return CP_EIO;
    struct stat info;
    off_t size = fstat (fileno (file), &info) == 0? info.st_size: 0;
    progress = progress && size >= (16 << 20);

    s_reader_t reader = {.file = file, .buffer = malloc (S_BUFFER_SIZE)};
    s_parser_args_t args = {&reader, store, node_store_catalogue (store), cp_date_today ()};
    s_chunk_t chunks [2];
    for (int index = 0; index < 2; index++) {
        s_chunk_t *chunk = &chunks [index];
        *chunk = (s_chunk_t) {
            .lines = malloc (S_CHUNK_LINES * sizeof (s_line_t)),
            .entries = malloc (S_CHUNK_LINES * sizeof (node_store_entry_t *)),
            .entry_lines = malloc (S_CHUNK_LINES * sizeof (size_t)),
            .by_key = malloc (S_CHUNK_LINES * sizeof (uint32_t))
        };
        msgpack_sbuffer_init (&chunk->packed);
        assert (chunk->lines && chunk->entries && chunk->entry_lines && chunk->by_key);
    }
    int *outcomes = malloc (S_CHUNK_LINES * sizeof (int));
    char *whys = malloc ((size_t) S_CHUNK_LINES * S_WHY_SIZE);
    assert (reader.buffer && outcomes && whys);
    zactor_t *parser = zactor_new (s_parser_actor, &args);
    assert (parser);
    s_handing (&chunks [0]);
    zsock_send (parser, "sp", "FILL", &chunks [0]);
    int64_t shown = zclock_mono ();
    int rc = 0;
    bool more = true;
    while (more) {
        s_chunk_t *chunk = NULL;
        if (zsock_recv (parser, "p", &chunk) || !chunk) {
            rc = CP_EIO;        //  interrupted
            break;
        }
        s_taken (chunk);
        more = !chunk->last && chunk->rc == 0;
        if (more) {             //  the parser reads on while we write
            s_chunk_t *next = chunk == &chunks [0]? &chunks [1]: &chunks [0];
            s_handing (next);
            zsock_send (parser, "sp", "FILL", next);
        }
        stats->lines += chunk->count;
        rc = chunk->rc;
        if (rc == 0 && chunk->count)
            rc = s_apply_chunk (store, chunk, outcomes, whys, args.today);
        if (rc == 0)
            s_report (path, chunk, errors, stats);
        else
            for (size_t index = 0; index < chunk->count; index++)
                free (chunk->lines [index].why);
        if (rc) {
            if (more) {         //  take back the chunk the parser is filling
                s_chunk_t *other = NULL;
                zsock_recv (parser, "p", &other);
                if (other)
                    s_taken (other);
                for (size_t index = 0; other && index < other->count; index++)
                    free (other->lines [index].why);
            }
            break;
        }
        if (progress && zclock_mono () - shown > 250) {
            s_progress (chunk->bytes, size, stats, false);
            shown = zclock_mono ();
        }
    }
    zactor_destroy (&parser);
    if (progress)
        s_progress (0, size, stats, true);
    for (int index = 0; index < 2; index++) {
        free (chunks [index].lines);
        free (chunks [index].entries);
        free (chunks [index].entry_lines);
        free (chunks [index].by_key);
        msgpack_sbuffer_destroy (&chunks [index].packed);
    }
    free (outcomes);
    free (whys);
    free (reader.buffer);
    if (!is_stdin)
        fclose (file);
    return rc;
}
