/*  central_store: the central's LMDB store, the one module that touches it.

    Layout of DIR (the central's data directory):
        DIR/store/          the LMDB environment
        DIR/keys/index.key  32 random bytes, mode 0600: the key of the keyed
                            hashes (SipHash-2-4, cp_index_key) that index
                            case pseudonyms and event ids, so no key in the
                            store reveals a case or an event; the keys of
                            the ids' SipHash-64 are derived from it.
        DIR/keys/storage.key  32 random bytes, mode 0600: the key that seals
                            (cp_seal) every value of cases, with 'C' and the
                            record's key as associated data, so the store
                            holds no case history in the clear.  (Not "data
                            key": that is the key nodes seal batches to.)
    Databases of the environment (integers big-endian, so that LMDB's byte
    order is numeric order; m is a municipality index of cp_municipality;
    log a node's log identity, 16 bytes, cp_wire.h):
        meta        "format" ("cpsync-central 9"), "listen", "catalogue",
                    "municipalities" (the codes, in index order, at set-up)
        catalogues  u32 version (native) → the catalogue's JSON text
        cursors     u16 m → the municipality's central_cursor_t (its node's
                    downlink cursor last: a record of format 7 without
                    it reads as 0)
        logs        u16 m, log, u64 last → the log's chain at last: one
                    record per batch applied, so the greatest key of a log
                    is its cursor, and a batch sent again can be told from
                    one of another copy of the log
        ids         u16 m, u64 SipHash(stem of an event id) → the ids of that
                    stem the central has taken, whatever log or sequence
                    they came under, applied or quarantined: 16 bytes each,
                    u64 SipHash(id) then u64 SipHash of the event's fields
                    in a fixed form (its content), in the order of the id's
                    hash.  The stem is the id without its last two
                    characters: ids numbered together share it, so a batch
                    of them reads and writes one record instead of a put
                    per event, and a stem holds at most 66 * 66 + 66 ids
                    (two characters of the id alphabet)
        cases       u16 m, cp_index_key of the case → its history (cp_case),
                    sealed; cases of one stem are neighbours.  Written only
                    by folding case_log into it
        case_log    u64 sequence → a case's key (as in cases), then its
                    history sealed as in cases: the cases written since the
                    last fold, appended (cp_case_log); a case's latest
                    record here overrides its record in cases
        months      u32 scope, u32 month → a tally row (cp_tally); one row set
                    per scope (national, each county, each municipality), so
                    a view of any scope reads its own rows and nothing else;
                    scope = kind << 16 | index, kind a cp_scope_kind_t
        archive     u16 m, u64 position (1, 2, ...) → the BATCH header,
                    payload and signature frames as received, of every batch
                    that brought an event the central had not taken
        envelopes   node key id, 0, data key id → the envelope key of that
                    pair (cp_envelope), sealed: the archive stays readable
                    when the data key's secret is gone
        counters    i32 cp_error_t → u64: batches, frames and events refused,
                    by reason
        quarantine  u16 m, log, u64 seq → i32 cp_error_t, u64 ms: events not
                    counted: those the central's own rule check refused
                    (the cursor moves past them) and conflicts (an id taken
                    before with other content, CP_ECONFLICT)
        keys        key id → a central_keys record (every public key the
                    central knows); meta "key_serial" is raised at each change
        downlink    u64 seq → a downlink entry as the root signed it
                    (cp_downlink); meta "downlink_used" is the highest seq
                    a node's HELLO named, so that a store restored from an
                    older copy never numbers two entries alike
        downlink_to u32 scope, u64 seq → nothing: the entries addressed to
                    each scope (all is the national scope), so that the
                    next entry to a municipality after a cursor is three
                    range reads
        arrivals    u16 m, u32 quarter (year * 4 + quarter - 1) → when the
                    events of m dated in that quarter arrived
                    (central_arrival_t: u64 ms of the first and of the last
                    applied, u64 events applied, u64 of them dated after
                    the central's today when they arrived, i32 the latest
                    date among them); summed in memory over a group and
                    merged once per quarter touched at commit.  meta
                    "deadline_days/YYYY" (u64) is a year's reporting
                    deadline when an operator set one
        directive_reports   u64 seq, u16 m → what m's node reported of
                    the directive entry seq: i32 day received, i32 day
                    done (0: not yet), the note (central_directive_report_t)
        staffing    u16 m, u32 day → u32 workers, u32 children, i64 ms it
                    arrived: each staff_set of m by the day it takes effect
                    (a later one for the same day replaces it)
        reconciliation  u16 m → u64 entry, u8 verdict, i32 day, i64 ms it
                    arrived, the periods that differ: m's node's verdict on
                    the latest figures it checked (FIGURES' as_of)

    Events of the nodes' own kinds (cp_event_is_own) are taken by id like
    every other, and then update those three databases, never the month
    rows or the cases.

    Applying follows docs/design.md's replication model: a batch's events, its case
    records, its counter rows and the log's cursor change in the same write
    transaction, so a batch has its whole effect exactly once whatever
    crashes when.  The cursor is per log, and it is an optimisation: what
    makes an event count once is its id, looked up in ids, so a log shipped
    again (restored, set up again, recovered) counts nothing twice.  A
    batch must start right after its log's cursor and name the chain the
    central holds there; a batch that does not is refused with the
    sequence expected (CP_EGAP) or as another copy of the log
    (CP_EDIVERGED), so a node whose store went back in time cannot have
    its new events taken for ones the central already holds.  What the
    store applies is a trusted batch (central_batch_t): central_intake has
    taken its frames apart, checked its keys and signature and decoded it;
    the store decodes nothing of the wire.  The server groups the batches
    it has ready into one transaction (begin, apply, apply, ..., commit) so
    that one fsync serves many; it must not acknowledge any of them before
    commit returns.
    When the map is full, apply or commit returns CP_EMAPFULL: the caller
    aborts (which grows the map) and redoes the whole group.

    Liveness notes (central_store_seen) and refusal counters
    (central_store_count) are kept in memory and written with the next
    commit or flush; losing the last second of them in a crash is harmless.

    Thread and process rules: one process writes (cpsync-central run);
    any number may read at the same time (query, nodes, stats), opening the
    store with CENTRAL_STORE_READONLY.  One central_store_t per process.    */

#ifndef CENTRAL_STORE_H_INCLUDED
#define CENTRAL_STORE_H_INCLUDED

#include "central_keys.h"
#include "cp_batch.h"
#include "cp_catalogue.h"
#include "cp_date.h"
#include "cp_downlink.h"
#include "cp_event.h"
#include "cp_figures.h"
#include "cp_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _central_store_t central_store_t;

//  The store's layout: 2 seals case histories, 3 keeps log identities and
//  chains, 4 keeps ids one record per stem, 5 names the month rows'
//  database "months" (CP_STORE_MONTHS), not "days", 6 keeps the downlink
//  log, 7 the downlink cursor, 8 keys cases by cp_index_key's stem-first
//  hash.  A store of another format is refused rather than misread.
#define CENTRAL_STORE_FORMAT "cpsync-central 9"
#define CENTRAL_STORE_LISTEN "tcp://127.0.0.1:7400"     //  init's default endpoint

//  A quarter's reporting deadline: this many days after its last day,
//  unless an operator set another for its year (central_store_deadline_set).
#define CENTRAL_STORE_DEADLINE_DAYS 15
#define CENTRAL_STORE_DEADLINE_MAX 365  //  more is a mistake, not a deadline
#define CENTRAL_STORE_YEARS (CP_DATE_MAX_YEAR - CP_DATE_MIN_YEAR + 1)

//  Flags of central_store_open.
#define CENTRAL_STORE_READONLY 1        //  readers: query, nodes, stats

//  Results of central_store_apply besides errors.
#define CENTRAL_STORE_APPLIED 0         //  applied (on an overlap, the new events)
#define CENTRAL_STORE_DUPLICATE 1       //  at or below the cursor: acknowledge again

#define CENTRAL_STORE_LOG_SIZE 16       //  CP_WIRE_LOG_SIZE
#define CENTRAL_STORE_CHAIN_SIZE 16     //  CP_WIRE_CHAIN_SIZE

//  What the central knows of one municipality's uplink.
typedef struct {
    uint64_t acked;             //  the cursor of its log: last sequence applied
    uint64_t head;              //  the node's head, as it last reported it
    int64_t last_seen;          //  ms since the epoch of its last message; 0 = never
    uint64_t batches;           //  batches applied (wholly or partly)
    uint64_t events;            //  events applied and counted
    uint64_t duplicates;        //  batches acknowledged again, not applied
    uint64_t quarantined;       //  events set aside by the rule check
    uint64_t duplicate_events;  //  events already taken (by id): not counted again
    uint64_t conflicts;         //  events refused: their id was taken with other content
    uint64_t archived;          //  batches in its archive (the last position)
    int64_t log_changed;        //  ms: when its node last came with another log or
                                //  a restored copy of one; 0 = never
    uint8_t log [CENTRAL_STORE_LOG_SIZE];   //  the log it last spoke for (zeros: none)
    uint64_t downlink;          //  its node's downlink cursor, as its last HELLO or
                                //  DOWNACK named it: the entries up to it are delivered
} central_cursor_t;

//  When the events of a municipality dated in a quarter (or a period)
//  arrived: only events applied and counted, not duplicates or those
//  quarantined.  All zeros when none has.
typedef struct {
    int64_t first;              //  ms since the epoch: the first batch that brought one
    int64_t last;               //  ms: the last batch that brought one
    uint64_t events;            //  how many
    uint64_t ahead;             //  of them, dated after the central's today
                                //  (cp_date_today) when they arrived
    int32_t latest;             //  the latest date (day number) among them
} central_arrival_t;

//  An event's identity in ids: its id's stem and id hashed, its content's
//  digest, and where it is in its batch.
typedef struct {
    uint64_t stem;
    uint64_t id;
    uint64_t digest;
    uint32_t index;
} central_identity_t;

//  A batch the central may apply, as central_intake makes it: its sender
//  proven by its connection's key, its header decoded once and proven by
//  the node's signature, its events decoded and found to be the ones the
//  header names, then resolved and identified (central_store_prepare).
//  The store reads nothing of the wire: it applies the events and
//  archives the frames as they came.
typedef struct {
    int municipality;           //  the sender's index: the one the header names
    cp_batch_header_t header;
    cp_batch_frames_t frames;   //  as received (borrowed for the call): archived
    const uint8_t *envelope_key;    //  the key the payload opened with, recorded
                                    //  (sealed) for the archive; NULL: none
    cp_event_t *events;         //  header.last - header.first + 1 events (owned)
    size_t count;
    int *resolved;              //  per event: cp_event_resolve's answer (owned)
    central_identity_t *by_key; //  the events' identities in order of stem, id
                                //  and index (owned)
} central_batch_t;

//  Resolves a batch's events against the store's catalogue and computes
//  their identities (resolved, by_key).  Reads only what does not change
//  while the store is open: any thread may call it while another applies.
void
    central_store_prepare (central_store_t *self, central_batch_t *batch);

//  Wipes and frees a batch's events, resolved and by_key (what
//  central_store_prepare and the decoding gave it); the rest stays.
void
    central_store_batch_clear (central_batch_t *batch);

//  What central_store_apply did with a batch.
typedef struct {
    int municipality;           //  the batch's (index)
    uint64_t first, last;       //  from its header
    uint64_t seq;               //  ACK: the batch's last sequence;
                                //  NACK CP_EGAP, CP_EDIVERGED: the one expected
    size_t applied;             //  events applied by this call
    size_t quarantined;         //  events set aside by this call
    size_t duplicates;          //  events already taken, by id
    size_t conflicts;           //  events whose id was taken with other content
} central_result_t;

//  One refusal counter.
typedef struct {
    int code;                   //  a cp_error_t
    uint64_t count;
} central_counter_t;

//  Sets up a new central in dir (created if missing; must not hold one):
//  the store with catalogues 1..catalogue of the built-in texts, the listen
//  endpoint, and fresh index and storage keys (cp_store_create: a set-up
//  that fails half way is taken back).  Returns 0, CP_EEXISTS,
//  CP_ECATALOGUE, CP_EUSAGE (no listen endpoint, or one of 256 bytes or
//  more), CP_EIO or CP_ESTORE.
int
    central_store_create (const char *dir, const char *listen, int catalogue);

//  Opens the central in dir (flags 0 to write, CENTRAL_STORE_READONLY to
//  read).  Returns NULL with *error: CP_ENOTCENTRAL when dir holds no central
//  or one set up under another municipality list (or of another format, or
//  without its keys), CP_EINSECURE when the index or storage key file may
//  be read by others, CP_ECATALOGUE, CP_EIO or CP_ESTORE.  Only a store
//  opened to write loads the keys: readers never read the cases.
central_store_t *
    central_store_open (const char *dir, int flags, int *error);

//  Aborts an open transaction (nothing is written) and closes the store.
void
    central_store_destroy (central_store_t **self_p);

//  The endpoint recorded at set-up (borrowed).
const char *
    central_store_listen (central_store_t *self);

//  The central's catalogue, its newest version (borrowed; valid until destroy).
const cp_catalogue_t *
    central_store_catalogue (central_store_t *self);

//  Reads one municipality's cursor: within the open write transaction if
//  there is one (so it includes the batches applied so far), else from
//  what is committed.  Returns 0 or CP_ESTORE.
int
    central_store_cursor (central_store_t *self, int municipality, central_cursor_t *cursor);

//  Reads every municipality's cursor, committed state, into cursors
//  (cp_municipality_count () entries).  Returns 0 or CP_ESTORE.
int
    central_store_cursors (central_store_t *self, central_cursor_t *cursors);

//  Reads the refusal counters, committed state, into counters (at most max;
//  *count says how many).  Returns 0 or CP_ESTORE.
int
    central_store_counters (central_store_t *self, central_counter_t *counters, size_t max,
                            size_t *count);

//  Reads the quarantine code of one event of a log, or 0 when it is not
//  there.
int
    central_store_quarantined (central_store_t *self, int municipality, const uint8_t *log,
                               uint64_t seq, int *code);

//  One event not counted (central_store_refused_list).
typedef struct {
    int municipality;
    uint8_t log [CENTRAL_STORE_LOG_SIZE];
    uint64_t seq;
    int code;                   //  CP_ECONFLICT or a rule's cp_error_t
    int64_t when;               //  ms since the epoch
} central_refused_t;

//  Lists up to max events not counted, of one municipality (or all: -1),
//  committed state.  Returns 0 with *count, or CP_ESTORE.
int
    central_store_refused_list (central_store_t *self, int municipality,
                                central_refused_t *refused, size_t max, size_t *count);

//  Reads a log's cursor: the last sequence applied of it and the chain
//  there (CENTRAL_STORE_CHAIN_SIZE bytes; zeros and 0 for a log never
//  seen), within the open write transaction if there is one.  Returns 0
//  or CP_ESTORE.
int
    central_store_log_cursor (central_store_t *self, int municipality, const uint8_t *log,
                              uint64_t *acked, uint8_t *chain);

//  Begins the write transaction of a group of batches.  Returns 0 or CP_ESTORE.
int
    central_store_begin (central_store_t *self);

//  Applies one trusted batch (central_intake made it, or a test built it
//  and called central_store_prepare) within the open transaction, against
//  the cursor of its log:
//    last <= cursor, and the chain the log had at last is the batch's
//                                  → CENTRAL_STORE_DUPLICATE, result->seq = last
//    first = cursor + 1, prev = the chain at the cursor
//                                  → CENTRAL_STORE_APPLIED, result->seq = last
//    last <= cursor with another chain there, or first = cursor + 1 with
//    another prev                  → CP_EDIVERGED, result->seq = cursor + 1
//    otherwise                     → CP_EGAP, result->seq = cursor + 1
//  An applied batch's events are taken one by one by id: an id taken
//  before with the same content is a duplicate (not counted again), with
//  other content a conflict (quarantined as CP_ECONFLICT, counted in the
//  refusal counters); an event that fails cp_event_resolve or
//  cp_case_check is quarantined; the cursor moves past both, no row counts
//  them.  CP_EGAP and CP_EDIVERGED change nothing and leave the
//  transaction usable.  CP_ESTORE and CP_EMAPFULL mean the transaction is
//  dead: call central_store_abort (and after CP_EMAPFULL redo the group).
//  Nothing of the batch is decoded or checked here: a batch that is not
//  what central_batch_t says is the caller's mistake (asserted).  The
//  store does not count refusals; its caller does.
int
    central_store_apply (central_store_t *self, const central_batch_t *batch,
                         central_result_t *result);

//  Writes cached cases, rows, cursors, pending notes and counters, and
//  commits durably.  Returns 0, CP_ESTORE (aborted: nothing of the group is
//  stored, notes and counters stay pending), or CP_EMAPFULL (aborted and
//  grown: redo the group).
int
    central_store_commit (central_store_t *self);

//  The municipalities' and counties' tallies the store holds now.  They
//  go with their transaction (docs/design.md, section 16), so between
//  transactions this is 0.  For tests.
size_t
    central_store_tallies_held (central_store_t *self);

//  Abandons the write transaction; after CP_EMAPFULL it also grows the map.
void
    central_store_abort (central_store_t *self);

//  The cases the write transaction has looked up so far: what its commit
//  rewrites, and what it holds in memory until then, grow with them.
size_t
    central_store_cases_touched (central_store_t *self);

//  Notes that a municipality's node was heard from now, reporting head.
//  Kept in memory until the next commit or flush.
void
    central_store_seen (central_store_t *self, int municipality, uint64_t head);

//  Notes that a municipality's node said HELLO for log (reporting head):
//  it becomes the municipality's log; when changed is true (another log
//  than the one before, or a restored copy of it) log_changed is now.
//  Kept in memory until the next commit or flush.
void
    central_store_hello (central_store_t *self, int municipality, const uint8_t *log,
                         uint64_t head, bool changed);

//  Reads the archived batch of a municipality at position from or the
//  first after it: *record gets the stored record (malloc'd, the caller
//  frees) and *frames its three frames as received, pointing into it
//  (central_intake opens them); *position where it was and *end the
//  position after the archive's last batch (positions start at 1).
//  Returns 0 (*record NULL and *position *end when there is nothing from
//  from on), or CP_ESTORE (a record that is not three frames: logged).
int
    central_store_archive_read (central_store_t *self, int municipality, uint64_t from,
                                uint64_t *position, uint64_t *end, uint8_t **record,
                                cp_batch_frames_t *frames);

//  The envelope key recorded for a pair of keys (a node key id, a central
//  data key id) when a batch sealed under them was archived, unsealed into
//  key (CP_ENVELOPE_KEY_SIZE bytes of guarded memory, the caller's): the
//  archive opens after the data key's secret is gone.  Returns 0, or
//  CP_EAUTH (logged) when none is recorded or it does not open.  The store
//  must be open to write (it holds the storage key).
int
    central_store_envelope_key (central_store_t *self, const char *node_key,
                                const char *data_key, uint8_t *key);

//  Notes a municipality's node's downlink cursor, as its HELLO or DOWNACK
//  named it (central_downlink), for the cursor's downlink field: what
//  "delivered" is read from.  Kept in memory until the next commit or
//  flush, like the liveness notes.
void
    central_store_downlink_reached (central_store_t *self, int municipality,
                                    uint64_t cursor);

//  Adds one to the refusal counter of code (a cp_error_t); kept in memory
//  until the next commit or flush.
void
    central_store_count (central_store_t *self, int code);

//  True when notes or counters wait to be written.
bool
    central_store_pending (central_store_t *self);

//  Writes pending notes and counters in a transaction of their own (no
//  write transaction may be open).  Returns 0, CP_ESTORE or CP_EMAPFULL
//  (grown: call again).
int
    central_store_flush (central_store_t *self);

//  Fills a view (initialised by cp_view_init) with the rows of scope
//  ("national", "county:CODE", "municipality:CODE") up to the period's end,
//  sets its scope string and municipalities_reporting (municipalities of
//  the scope that have had a batch applied, ever).  Returns 0, CP_EUSAGE (no such scope)
//  or CP_ESTORE.
int
    central_store_view (central_store_t *self, const char *scope, cp_view_t *view);

//  When the events of each municipality dated in period arrived, its
//  quarters merged (first: the earliest; last: the latest; the sums),
//  committed state, into arrivals (cp_municipality_count () entries).
//  Returns 0 or CP_ESTORE.
int
    central_store_arrivals (central_store_t *self, const cp_period_t *period,
                            central_arrival_t *arrivals);

//  What a node reported of a directive (a downlink entry).
typedef struct {
    int32_t received;           //  day its node applied the entry (0: no receipt yet)
    int32_t done;               //  day an operator marked it done there (0: not)
    char note [CP_NOTE_MAX + 1];    //  the operator's note, with done
} central_directive_report_t;

//  What municipality's node reported of the directive entry seq, committed
//  state.  Returns 0, CP_ENOTFOUND (nothing yet: *report zeroed) or
//  CP_ESTORE.
int
    central_store_directive_report (central_store_t *self, uint64_t seq, int municipality,
                                    central_directive_report_t *report);

//  A municipality's staffing from the day it takes effect.
typedef struct {
    int32_t date;               //  day number
    uint32_t workers;
    uint32_t children;
    int64_t arrived;            //  ms since the epoch
} central_staffing_t;

//  The staffing of municipality in effect on day: the one set for the
//  latest date on or before it.  Returns 0, CP_ENOTFOUND (none: zeroed)
//  or CP_ESTORE.
int
    central_store_staffing (central_store_t *self, int municipality, int32_t day,
                            central_staffing_t *staffing);

//  Every staffing set of municipality, oldest date first, at most max into
//  items, their number in *count.  Returns 0 or CP_ESTORE.
int
    central_store_staffing_history (central_store_t *self, int municipality,
                                    central_staffing_t *items, size_t max, size_t *count);

//  A node's verdict on the figures the central published to it.
typedef struct {
    uint64_t entry;             //  the FIGURES checked: its as_of, the sequence
                                //  of the node's log the figures were as of
    int verdict;                //  cp_figures_verdict_t
    int32_t date;               //  day the node checked
    int64_t arrived;            //  ms since the epoch
    char periods [CP_NOTE_MAX + 1];     //  the periods that differ, with diverged
} central_reconciliation_t;

//  The latest verdict of municipality's node.  Returns 0, CP_ENOTFOUND
//  (none yet: zeroed) or CP_ESTORE.
int
    central_store_reconciliation (central_store_t *self, int municipality,
                                  central_reconciliation_t *reconciliation);

//  The central's figures of municipality as its node can check them
//  (docs/design.md, 10.7), as committed, in one read transaction: as_of
//  gets its cursor (acked), *head the head its node last reported, and
//  when the two are equal and not 0 (the node caught up), figures the
//  digest of each month row of the municipality's scope
//  (cp_store_months_figures); else no month.  Returns 0 or CP_ESTORE.
int
    central_store_figures (central_store_t *self, int municipality, uint64_t *head,
                           cp_month_digests_t *figures);

//  Reads the municipality's stored rows of the months rows names (its
//  count of them; cp_store_months_rows), and as_of, how far its log is
//  applied.  Returns 0 or CP_ESTORE.
int
    central_store_month_rows (central_store_t *self, int municipality, cp_month_rows_t *rows);

//  Reads the reporting deadline of each year CP_DATE_MIN_YEAR ..
//  CP_DATE_MAX_YEAR into days (CENTRAL_STORE_YEARS entries, the first for
//  CP_DATE_MIN_YEAR): the days after a quarter's last day, the default
//  where none is set; set (NULL: not wanted) says which were.  Returns 0 or
//  CP_ESTORE.
int
    central_store_deadlines (central_store_t *self, int *days, bool *set);

//  Sets a year's reporting deadline to days (0 .. CENTRAL_STORE_DEADLINE_MAX)
//  after each quarter's last day, or back to the default with -1, in a
//  durable write transaction of its own (no write transaction may be open;
//  the store must be open to write).  Returns 0, CP_EUSAGE (a year outside
//  CP_DATE_MIN_YEAR .. CP_DATE_MAX_YEAR, or days out of range), CP_ESTORE,
//  or CP_EMAPFULL after a second full map.
int
    central_store_deadline_set (central_store_t *self, int year, int days);

//  The key serial: raised by every change of the key table.  A cheap read,
//  so that the server can poll it.  Returns 0 or CP_ESTORE.
int
    central_store_key_serial (central_store_t *self, uint64_t *serial);

//  Reads the whole key table (a new central_keys_t, the caller's) with the
//  serial it was read at.  Corrupt records are logged and left out.
//  Returns 0 or CP_ESTORE.
int
    central_store_keys_read (central_store_t *self, central_keys_t **keys);

//  Writes count key records (new or changed) and raises the key serial, in
//  a durable transaction of its own (no write transaction may be open; the
//  store must be open to write).  *serial gets the new serial.  Returns 0,
//  CP_ESTORE, or CP_EMAPFULL after a second full map.  Records that depend
//  on what the table holds are written with central_store_keys_edit.
int
    central_store_keys_put (central_store_t *self, const central_key_t *keys,
                            size_t count, uint64_t *serial);

//  A change of the key table that depends on what the table holds (enrol,
//  rotate, revoke), decided inside the write transaction that makes it.
//  keys is the table as that transaction sees it (borrowed, for the call
//  only).  The edit writes each new or changed record with
//  central_store_keys_change and returns 0 to commit, or an error to write
//  nothing.  It may be called twice (after a full map the transaction is
//  redone), so it does nothing that cannot be done again: keys are made
//  and secret files written before the edit, files signed after it.
typedef int (central_store_keys_edit_fn) (central_store_t *store, central_keys_t *keys,
                                          void *argument);

//  Runs edit (with argument) in a durable write transaction of its own and
//  raises the key serial when it returns 0 (no write transaction may be
//  open; the store must be open to write).  LMDB lets one write
//  transaction run at a time, across processes, so no other change of the
//  table can fall between what the edit reads and what it writes: two
//  cpsync-admin commands racing cannot undo each other's changes.  *serial
//  gets the new serial.  Returns 0, the edit's error, CP_ESTORE, or
//  CP_EMAPFULL after a second full map.
int
    central_store_keys_edit (central_store_t *self, central_store_keys_edit_fn *edit,
                             void *argument, uint64_t *serial);

//  Within an edit only: writes one key record, new (sequence 0: it gets the
//  serial this change raises the table to) or changed.  Returns 0, or
//  CP_EMAPFULL or CP_ESTORE, which the edit returns.
int
    central_store_keys_change (central_store_t *self, const central_key_t *key);

//  =====================================================================
//  The downlink log (docs/design.md, "Downlink")

//  Signs an entry of kind, addressed to address, with root_secret (the
//  root's Ed25519 secret key, which the caller has checked is the pinned
//  root) and appends it under the next seq, in one write transaction; a
//  catalogue revision (CP_DOWNLINK_CATALOGUE, body its JSON text) is
//  checked against the central's catalogue and becomes its newest in the
//  same transaction.  Returns 0 with *seq, or an error with why:
//  CP_ECATALOGUE (a revision that does not apply: why says what is
//  wrong), CP_ETOOBIG, CP_EUSAGE, CP_ESTORE, CP_EMAPFULL.  Not readonly.
int
    central_store_downlink_publish (central_store_t *self, int kind, const cp_scope_t *address,
                                    const uint8_t *body, size_t size, const uint8_t *root_secret,
                                    uint64_t *seq, char *why, size_t why_size);

//  The highest seq the log has used: its last entry's, or a higher cursor
//  a node named (central_store_downlink_seen).  0 for an empty log.
int
    central_store_downlink_last (central_store_t *self, uint64_t *last);

//  The first entry addressed to municipality with a seq above after: 0
//  with *seq, *prev (the seq of the entry addressed to municipality just
//  before it in the log, 0 for none) and a malloc'd copy of its bytes
//  (*entry, *size; the caller frees), or 0 with *seq 0 when there is none.
//  CP_ESTORE (logged) on a failed read, or when the index names an entry
//  the log does not hold (a damaged store).
int
    central_store_downlink_next (central_store_t *self, int municipality, uint64_t after,
                                 uint64_t *seq, uint64_t *prev, uint8_t **entry, size_t *size);

//  The entry under seq, as signed: 0 with a malloc'd copy, CP_ENOTFOUND.
int
    central_store_downlink_entry (central_store_t *self, uint64_t seq, uint8_t **entry,
                                  size_t *size);

//  The first entry of the log with a seq above after, whatever its address:
//  0 with *seq and a malloc'd copy of its bytes (*entry, *size; the caller
//  frees), or 0 with *seq 0 past the log's end.  Returns CP_ESTORE on a
//  failed read.  For walking the whole log (directive list).
int
    central_store_downlink_after (central_store_t *self, uint64_t after, uint64_t *seq,
                                  uint8_t **entry, size_t *size);

//  Takes up a catalogue that another process installed (a published
//  revision): when meta "catalogue" names another version than the one in
//  memory, it is loaded.  Returns 0, CP_ECATALOGUE or CP_ESTORE.
int
    central_store_catalogue_refresh (central_store_t *self);

//  Notes a node's downlink cursor: one past the log's last is remembered
//  (meta "downlink_used") so that new entries are numbered after it.
int
    central_store_downlink_seen (central_store_t *self, uint64_t cursor);

#endif
