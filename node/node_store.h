/*  node_store: a node's LMDB store, the one module that touches it.

    Layout of DIR (the node's data directory):
        DIR/store/          the LMDB environment
        DIR/keys/index.key  32 random bytes, mode 0600: the key of the keyed
                            hash that indexes event ids and case pseudonyms,
                            so no index key in the store reveals one.
        DIR/keys/data.key   32 random bytes, mode 0600: the data key that
                            seals (cp_seal) every value of log and cases,
                            with the database's letter ('L', 'C') and the
                            record's key as associated data, so the store
                            holds no case data in the clear.
    Databases of the environment:
        meta        "format" ("cpsync-node 8"), "municipality", "catalogue",
                    "head", "acked", "log" (the log's identity), "log_started",
                    "chain" (at the head), "previous_log", "restore_detected",
                    "central_behind", "central_behind_by", "recovered" (the
                    archive position a recovery has reached), "recovery_done",
                    "downlink" (the downlink cursor, u64),
                    "reconciliation" (the last check of the central's figures:
                    node_store_check_figures)
        catalogues  u32 version → the catalogue's JSON text
        log         u64 sequence → a block of consecutive events from that
                    sequence on (encoded by cp_codec, about 16 KiB of
                    them, never more than one append_many call's), sealed:
                    the uplink log (node_store.c has the block's layout)
        ids         cp_index_key of the event id → u64 sequence
        cases       cp_index_key of the case → a case's history (cp_case),
                    sealed (the index key puts ids and cases of one stem
                    side by side, so that writes stay local)
        months      u32 month (from 2000-01) → a tally row (cp_tally)
        chains      u64 sequence of a log block → the log's chain before it
        downlink    u64 seq → a downlink entry applied, as it came (cp_downlink:
                    signed, and no case data, so not sealed)
        downlink_refused
                    i32 cp_error_t → u64: downlink entries refused, by reason
        staffing    u32 day → u32 workers, u32 children: each staffing the
                    node set (staff_set events), by the day it takes effect;
                    a later set for the same day replaces it.  Written when
                    the event is appended, so recover brings it back.
        directives  u64 seq → what the node knows of the directive of that
                    downlink seq (cp_directive_state_t: kind and due date
                    once applied, the days of its receipt and completion,
                    the note), not sealed: a directive names no case

    Appending runs in large write transactions: begin, append many events,
    commit.  Cases and counter rows touched in a transaction are kept in
    memory and written once at commit.  When the map fills up, commit (or
    append) returns CP_EMAPFULL after aborting and growing the map: the
    caller redoes the same appends.  Write transactions of several processes
    are serialised by LMDB, and each one starts from what is committed, so
    two imports into one node at once cannot corrupt it.                    */

#ifndef NODE_STORE_H_INCLUDED
#define NODE_STORE_H_INCLUDED

#include "cp_catalogue.h"
#include "cp_directive.h"
#include "cp_event.h"
#include "cp_figures.h"
#include "cp_index_key.h"
#include "cp_store.h"
#include "cp_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _node_store_t node_store_t;

//  Result of node_store_append besides errors.
#define NODE_STORE_APPENDED 0
#define NODE_STORE_DUPLICATE 1

#define NODE_STORE_LOG_SIZE 16      //  bytes of a log identity (CP_WIRE_LOG_SIZE)
#define NODE_STORE_CHAIN_SIZE 16    //  bytes of a chain (CP_WIRE_CHAIN_SIZE)

//  What a node knows of its uplink log (times in ms since the epoch, 0 =
//  never).
typedef struct {
    uint64_t head;              //  last committed sequence
    uint64_t acked;             //  last acknowledged by the central, on this log
    uint64_t cases;
    uint8_t log [NODE_STORE_LOG_SIZE];          //  the log's identity
    uint8_t previous_log [NODE_STORE_LOG_SIZE]; //  the one it replaced (zeros: none)
    int64_t log_started;        //  when this identity was made
    int64_t restore_detected;   //  when the node found its log was not the central's
    int64_t central_behind;     //  when the central turned out to hold less than acked
    uint64_t central_behind_by; //  by how many events, then
    uint64_t recovered;         //  archive position a recovery reached (0: none)
    int64_t recovery_done;      //  when a recovery from the central ended
} node_store_log_t;

//  Sets up a new node in dir (created if missing; must not hold a node),
//  with fresh index and data keys (cp_store_create: a set-up that fails
//  half way is taken back).  Returns 0, CP_EEXISTS, CP_ECATALOGUE, CP_EIO
//  or CP_ESTORE.
int
    node_store_create (const char *dir, const char *municipality, int catalogue);

//  Opens the node in dir.  Returns NULL with *error CP_ENOTNODE when dir does
//  not hold a node (or one of another format, or without its keys),
//  CP_EINSECURE when a key file may be read by others, CP_EIO or CP_ESTORE
//  otherwise.
node_store_t *
    node_store_open (const char *dir, int *error);

void
    node_store_destroy (node_store_t **self_p);

//  The municipality code (borrowed).
const char *
    node_store_municipality (node_store_t *self);

//  The active catalogue (borrowed; valid until destroy, or until
//  node_store_apply_downlink applies a catalogue revision: take it again
//  after that).
const cp_catalogue_t *
    node_store_catalogue (node_store_t *self);

//  An inotify descriptor (non-blocking, the caller's to close) that turns
//  readable when any process writes the store's data file, as every commit
//  does: a daemon learns of an import at once instead of polling for it.
//  Returns -1 where inotify cannot watch the file (the caller polls).
int
    node_store_watch (node_store_t *self);

//  Reads head (last committed sequence), acked (last acknowledged by the
//  central) and the number of cases.
int
    node_store_counts (node_store_t *self, uint64_t *head, uint64_t *acked, uint64_t *cases);

//  Begins a write transaction for appends.
int
    node_store_begin (node_store_t *self);

//  An event ready to append: the keyed hashes of its id and case are
//  computed by node_store_prepare, which only reads the store's index key
//  and so may run on another thread than the one that appends.
#define NODE_STORE_HASH_SIZE CP_INDEX_HASH_SIZE
typedef struct {
    cp_event_t event;
    uint8_t id_key [NODE_STORE_HASH_SIZE];
    uint8_t case_key [NODE_STORE_HASH_SIZE];
    const uint8_t *encoded;     //  the event as cp_codec packs it, or NULL: packed
    size_t encoded_size;        //  at append (the caller owns these bytes)
} node_store_entry_t;

//  Computes entry's hashes from entry->event and sets encoded to NULL.
//  Safe from any thread.
void
    node_store_prepare (node_store_t *self, node_store_entry_t *entry);

//  Checks an entry's event (codes resolved) against the store and, if it
//  passes, appends it to the log with the next sequence.  Returns
//  NODE_STORE_APPENDED, NODE_STORE_DUPLICATE (id already stored: nothing
//  done), a rule's cp_error_t with why (nothing done), or CP_ESTORE /
//  CP_EMAPFULL (the transaction is dead: call node_store_abort).
int
    node_store_append (node_store_t *self, const node_store_entry_t *entry,
                       char *why, size_t why_size);

//  Appends count entries with the effect of node_store_append on each in
//  turn (outcomes [i] gets its result; whys, when not NULL, holds count
//  messages of why_size bytes), but looks the ids up and inserts them in
//  key order (by_key from node_store_order_by_key, or NULL to sort here),
//  so the id index is swept once per call instead of searched at random
//  per event: the import's fast path.  The events it appends are stored in
//  log blocks of their own, so a call is one block or more (append one by
//  one only when that is what is wanted).  Returns 0, or CP_ESTORE /
//  CP_EMAPFULL (the transaction is dead: call node_store_abort).
int
    node_store_append_many (node_store_t *self, node_store_entry_t *const *entries,
                            size_t count, const uint32_t *by_key, int *outcomes,
                            char *whys, size_t why_size);

//  Appends an event of the node's own kinds (cp_event_is_own), which the
//  node makes in the write transaction that causes it (node_store_begin,
//  or one that applies a downlink entry), in a log block of its own.  Its
//  id names what it reports, so an id stored already is a report made
//  before.  Returns NODE_STORE_APPENDED, NODE_STORE_DUPLICATE, a rule's
//  cp_error_t with why (cp_event_own_check), or CP_ESTORE / CP_EMAPFULL
//  (the transaction is dead).
int
    node_store_append_own (node_store_t *self, const cp_event_t *event, char *why,
                           size_t why_size);

//  Writes into by_key the order of entries by id key (ties by position),
//  as node_store_append_many wants it.  Safe from any thread.
void
    node_store_order_by_key (node_store_entry_t *const *entries, size_t count,
                             uint32_t *by_key);

//  Writes cached cases and rows and commits durably.  Returns 0, CP_ESTORE,
//  or CP_EMAPFULL (aborted and grown: redo the appends).
int
    node_store_commit (node_store_t *self);

//  Abandons the write transaction; after CP_EMAPFULL it also grows the map.
void
    node_store_abort (node_store_t *self);

//  Fills a view (initialised by cp_view_init) from the stored rows.
int
    node_store_view (node_store_t *self, cp_view_t *view);

//  Reads a text setting of meta ("central": the endpoint enrolled with) into
//  buf.  Returns 0, or -1 when it is not set or does not fit.
int
    node_store_setting (node_store_t *self, const char *name, char *buf, size_t size);

//  Stores a text setting of meta.
int
    node_store_set_setting (node_store_t *self, const char *name, const char *value);

//  Records that the central has acknowledged every event up to seq (never
//  moves backwards).  Returns 0 or a store error.
int
    node_store_set_acked (node_store_t *self, uint64_t seq);

//  Reads what the node knows of its log (node_store_log_t).
int
    node_store_log_info (node_store_t *self, node_store_log_t *info);

//  Gives the log a new identity, because the central holds another log
//  under the present one (this store was restored from a copy, or the
//  copy runs elsewhere): acked drops to 0, the old identity is kept as
//  previous_log, and restore_detected is now.  The central will be sent
//  the whole log again, and counts each event once by its id.
int
    node_store_renew_log (node_store_t *self);

//  Lowers acked to seq (when the central holds less of this log than it
//  had acknowledged: it was restored from a backup) and notes when and by
//  how much; a seq at or above acked changes nothing.
int
    node_store_rewind_acked (node_store_t *self, uint64_t seq);

//  The log's chain at seq (NODE_STORE_CHAIN_SIZE bytes).  Returns 0, 1
//  when seq is past the head, or a store error.
int
    node_store_chain_at (node_store_t *self, uint64_t seq, uint8_t *chain);

//  Within an open write transaction: notes the archive position a
//  recovery from the central has reached, committed with its events, and
//  when done, that the recovery is over (a store whose recovery is over,
//  or that holds events it did not recover, takes no recovery).
int
    node_store_recovered (node_store_t *self, uint64_t position, bool done);

//  The downlink (docs/design.md, "Downlink").  The central's downlink log
//  numbers its entries 1, 2, ... for every node, and sends a node only the
//  entries addressed to it, each with prev: the seq of the entry addressed
//  to this node before it in the log (0: none).  The node's downlink cursor
//  is the seq of the last entry it applied (0: none); it applies an entry
//  only when prev is its cursor, in the transaction that moves the cursor,
//  so each entry takes effect once and in order, an entry missed is seen at
//  the next, and an entry at or below the cursor never again.

//  Reads the downlink cursor (for HELLO and status).
int
    node_store_downlink_cursor (node_store_t *self, uint64_t *cursor);

//  Applies a downlink entry (size bytes, in cp_downlink's form) that the
//  central sent with prev.  Verifies it against root (the public key of
//  the root pinned at enrolment, CP_KEY_SIZE bytes), checks that it is
//  addressed to this node (to all, to its county or to it), then in one
//  write transaction that it follows the cursor (seq above it, prev equal
//  to it), records its bytes under seq in downlink, moves the cursor to
//  seq, and makes the entry take effect.  A catalogue revision's effect
//  (CP_DOWNLINK_CATALOGUE, body its JSON text): the next version that
//  cp_catalogue_check_revision accepts is stored in catalogues under its
//  version and becomes meta "catalogue", and after the commit the active
//  catalogue (node_store_catalogue); a version the node holds with the
//  very same text changes nothing but the cursor.  A directive's effect
//  (CP_DOWNLINK_DIRECTIVE, body cp_directive's): its kind and due date are
//  kept in directives and the node appends its receipt, directive_received
//  ("n-dr-SEQ", dated today), in the same transaction.  Returns 0 when applied,
//  or a refusal, with why, that changes nothing but one more count of its
//  code in downlink_refused:
//      cp_downlink_decode's codes (a bad signature is CP_EAUTH, another
//                      signer than root CP_EUNPINNED)
//      CP_ENOTADDRESSED  for another municipality or county
//      CP_EREPLAY      seq at or below the cursor, and the very entry the
//                      node applied under seq: a resend, nothing lost
//      CP_EROLLBACK    seq at or below the cursor, another entry than the
//                      one applied under seq, or one never applied
//      CP_EGAP         prev above the cursor: entries to this node between
//                      the cursor and prev are missing (send from the cursor)
//      CP_EDIVERGED    prev below the cursor: the node applied an entry that
//                      the central's log does not give it
//      CP_ECATALOGUE   a catalogue revision that does not apply: a version
//                      past the next, a version held with another text, or
//                      a text that cp_catalogue_check_revision refuses
//      cp_directive_decode's codes   a directive whose body does not decode
//  or CP_ESTORE (logged; nothing changed or counted).  prev is not signed by
//  the root (it is per node): the caller checks the signature of the
//  message that carried it.  Not within a transaction of node_store_begin.
int
    node_store_apply_downlink (node_store_t *self, const uint8_t *root, uint64_t prev,
                               const uint8_t *bytes, size_t size, char *why,
                               size_t why_size);

//  The downlink entry applied under seq, as it came: 0 with a malloc'd copy
//  in *bytes (caller frees) and *size, 0 with *bytes NULL when none, or a
//  store error.
int
    node_store_downlink_entry (node_store_t *self, uint64_t seq, uint8_t **bytes,
                               size_t *size);

//  Within an open write transaction (node_store_begin): marks directive seq
//  done at the node, on date with note (at most CP_NOTE_MAX bytes, no
//  control characters), by appending directive_done ("n-dd-SEQ"), whose
//  effect keeps the day and note in directives.  Returns
//  NODE_STORE_APPENDED, or with why: CP_ENOTFOUND (no directive of that
//  seq applied at this node), CP_EEXISTS (done already: why says when), a
//  code of cp_event_own_check (the note), or CP_ESTORE / CP_EMAPFULL (the
//  transaction is dead).  A refusal changes nothing.
int
    node_store_directive_done (node_store_t *self, uint64_t seq, int32_t date,
                               const char *note, char *why, size_t why_size);

//  Reads what the node knows of directive seq into *state.  Returns 0, 1
//  when it knows nothing of it (state zeroed), or a store error.  A state
//  whose kind is 0 is one known from the node's own events (recover) whose
//  entry has not come again yet.
int
    node_store_directive_state (node_store_t *self, uint64_t seq,
                                cp_directive_state_t *state);

//  Reads the downlink refusal counts, by code (at most max of them; the
//  codes are far fewer than 64) into refusals and *count.  Returns 0 or a
//  store error (CP_ESTORE also for a count that is not one: logged).
int
    node_store_downlink_refusals (node_store_t *self, cp_store_counter_t *refusals,
                                  size_t max, size_t *count);

//  The node's staffing (docs/design.md, "Workforce coverage"): set by
//  appending a CP_EVENT_STAFF_SET event (node_store_append_own), which
//  also records it here, by the day it takes effect.
typedef struct {
    int32_t date;               //  day number it takes effect
    uint32_t workers;           //  child protection workers
    uint32_t children;          //  the municipality's children
} node_staffing_t;

//  Every staffing set, oldest date first, at most max into items, their
//  number in *count.  Returns 0 or a store error (CP_ESTORE also for a
//  damaged record: logged).
int
    node_store_staffing_history (node_store_t *self, node_staffing_t *items, size_t max,
                                 size_t *count);

//  Builds the payload of a batch (cp_codec's batch form) from the log,
//  starting at sequence first, of at most max_events events and about
//  max_bytes bytes (always at least one event).  Returns 0 with a malloc'd
//  payload (caller frees), its size and the last sequence in it; 0 with
//  *payload NULL when the log has nothing from first on; or a store error
//  (CP_ESTORE also when a block the batch needs does not open or parse, or
//  the log has a gap at first: logged; a batch stops before a gap further
//  on).  The payload is case data in the clear: the caller seals it for
//  the wire.
int
    node_store_read_batch (node_store_t *self, uint64_t first, size_t max_events,
                           size_t max_bytes, uint8_t **payload, size_t *size, uint64_t *last);

//  node_store_read_batch that also gives the log's chain at first - 1
//  (prev) and at the batch's last event (chain), NODE_STORE_CHAIN_SIZE
//  bytes each, when it returns a payload.
int
    node_store_read_chained (node_store_t *self, uint64_t first, size_t max_events,
                             size_t max_bytes, uint8_t **payload, size_t *size,
                             uint64_t *last, uint8_t *prev, uint8_t *chain);

//  Published figures (docs/design.md, 10.7).  The central sends its
//  digests of this municipality's month rows (cp_figures) with as_of, how
//  far it has applied this node's log; when that is the node's head, the
//  node holds what the central holds and compares.

//  What node_store_check_figures found.
#define NODE_STORE_STALE 2          //  the head is not as_of: nothing compared

//  The last check of the central's figures (meta "reconciliation").
typedef struct {
    int verdict;                //  cp_figures_verdict_t; 0: never checked
    uint64_t as_of;             //  the central's as_of then
    int64_t checked;            //  when (ms since the epoch)
    char periods [CP_NOTE_MAX + 1];     //  the months that differ, "YYYY-MM ..."
    uint64_t reports;           //  figures_checked events it has appended
    bool reported;              //  node_store_check_figures: it appended a
                                //  figures_checked
    uint32_t differ_count;      //  node_store_check_figures: the first months
    int32_t differ [CP_FIGURES_ASK_MAX];    //  that differ, to ask the central for
} node_reconciliation_t;

//  In one write transaction (not within node_store_begin's): when the head
//  is theirs->as_of, computes this node's digests, compares them with
//  theirs (a month present on one side only differs too) and records the
//  check in meta; when the verdict, the months that differ or the node's
//  own figures changed since the last check, it appends figures_checked
//  (id "n-fc-AS_OF", entry as_of, the verdict, the months as its note)
//  for the central.  A figures_checked changes no month row, so the
//  central's next FIGURES finds the same figures and nothing is appended
//  again.  Returns 0 with *result, NODE_STORE_STALE (nothing done: a
//  newer FIGURES follows once the central has the rest), or a store error.
int
    node_store_check_figures (node_store_t *self, const cp_month_digests_t *theirs,
                              node_reconciliation_t *result);

//  Reads the last check (verdict 0 when there was none).
int
    node_store_reconciliation (node_store_t *self, node_reconciliation_t *reconciliation);

//  Keeps the central's rows of months that differ (a FIGROWS body, size
//  bytes: decoded first, and refused with nothing changed when it does not
//  decode) in meta "central_rows", with the time it came, replacing what
//  was kept.  A check that finds the figures in sync drops them.  Returns
//  0, a cp_wire decoder's error, or a store error.
int
    node_store_keep_central_rows (node_store_t *self, const uint8_t *body, size_t size);

//  Reads the kept central rows into theirs, this node's rows of the same
//  months into ours (its as_of the node's head) and when the central's came
//  into *received (ms since the epoch), in one read transaction.  Returns
//  0, CP_ENOTFOUND when none are kept, or a store error (a kept record that
//  does not decode is CP_ESTORE).
int
    node_store_central_rows (node_store_t *self, cp_month_rows_t *theirs,
                             cp_month_rows_t *ours, int64_t *received);

#endif
