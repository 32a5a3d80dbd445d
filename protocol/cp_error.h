/*  cp_error: the project's error codes, shared by protocol/, node/ and central/.

    Codes live in their own negative range, clear of errno and of LMDB's codes,
    so that a function can return one int and the caller can always tell what
    it got.  0 is success.  "Not found" is a result, never an error.  Each code
    has one fixed message from cp_strerror (); callers add the field and value
    that were wrong in their own message.                                      */

#ifndef CP_ERROR_H_INCLUDED
#define CP_ERROR_H_INCLUDED

#include <stddef.h>

typedef enum {
    CP_OK = 0,
    //  Input that is not what the format says
    CP_EMALFORMED = -30900,     //  bytes or text that do not parse
    CP_ETOOBIG = -30899,        //  over a size, count, length or depth limit
    CP_ETYPE = -30898,          //  a value of the wrong type
    CP_EMISSING = -30897,       //  a required field is absent
    CP_EUNKNOWNFIELD = -30896,  //  a field the event type does not have
    CP_EBADID = -30895,         //  an id or case pseudonym outside the alphabet/length
    CP_EBADDATE = -30894,       //  not a real YYYY-MM-DD date
    CP_EDATERANGE = -30893,     //  before 2000-01-01 or after today + 1 day
    CP_EBADTYPE = -30892,       //  an unknown event type
    CP_EBADCODE = -30891,       //  a code the active catalogue does not define
    CP_EBADAGE = -30890,        //  age outside 0..18
    CP_EBADVALUE = -30889,      //  a number outside its range (staffing, a verdict)
    //  Event rules that depend on the case's history
    CP_EUNKNOWNCASE = -30880,   //  an event for a case that was never opened
    CP_ECASEOPEN = -30879,      //  case_opened for a case that is already opened
    CP_ECASECLOSED = -30878,    //  an event for a case that is closed
    CP_EBEFOREOPEN = -30877,    //  dated before its case was opened
    CP_ECLOSEORDER = -30876,    //  case_closed dated before an event already recorded
    CP_ENOMEASURE = -30875,     //  measure_confirmed without an earlier measure_taken
    CP_ENOCOURT = -30874,       //  measure_confirmed of a measure courts do not confirm
    CP_EHISTORY = -30873,       //  a case's history is over its limit
    //  Storage and environment
    CP_ESTORE = -30860,         //  LMDB failed (the log line has mdb_strerror)
    CP_ENOTNODE = -30859,       //  a data directory that is not a node's
    CP_EEXISTS = -30858,        //  a data directory that is already set up
    CP_ECATALOGUE = -30857,     //  a catalogue that does not load
    CP_EIO = -30856,            //  a file could not be read or written (see errno)
    CP_EBUSY = -30855,          //  another process holds what we need
    CP_ENOTCENTRAL = -30854,    //  a data directory that is not a central's
    CP_EMAPFULL = -30853,       //  the store's map was full: it has grown, redo the transaction
    CP_EUSAGE = -30852,         //  a command line or option that makes no sense
    CP_EOTHERSTORE = -30851,    //  a backup of another store (kind, municipality or keys)
    CP_ENOTFOUND = -30850,      //  no record under that key (a downlink entry's seq)
    //  Wire and sync
    CP_EAUTH = -30840,          //  authentication or integrity check failed
    CP_EREPLAY = -30839,        //  a message seen before (a downlink entry applied already)
    CP_EGAP = -30838,           //  a batch or downlink entry that does not follow the cursor
    CP_EREVOKED = -30837,       //  a revoked key
    CP_EUNKNOWNPEER = -30836,   //  a municipality the central does not know
    CP_EPROTOCOL = -30835,      //  a command out of place or an unknown command
    CP_EVERSION = -30834,       //  a protocol version we do not speak
    CP_EDIVERGED = -30833,      //  a log that is not the one the central holds under its name
                                //  (or a downlink the node applied that the central's lacks)
    CP_ECONFLICT = -30832,      //  an event id already applied with other content
    CP_EFLOOD = -30831,         //  a peer made the central hold more than its bound (cut)
    CP_EIDLE = -30830,          //  a connection silent for too long (cut)
    CP_ECROWDED = -30829,       //  too many connections of one source in their handshake (cut)
    //  Keys
    CP_EUNKNOWNKEY = -30820,    //  a key that was never enrolled
    CP_EEXPIRED = -30819,       //  a key past the end of its grace period
    CP_EIMPERSONATION = -30818, //  a peer speaking as another municipality than its key's
    CP_EHANDSHAKE = -30817,     //  a CURVE handshake that failed (wrong server key, garbage)
    CP_EINSECURE = -30816,      //  a secret key file others may read or write
    CP_ENOTENROLLED = -30815,   //  a node without keys, or a central without its own
    CP_EROLLBACK = -30814,      //  older than the one held: a key file, a downlink entry
    CP_EKEYCONFLICT = -30813,   //  a key file of a serial held, with other keys than it
    CP_ELASTKEY = -30812,       //  revoking the central's only valid key of its kind
    //  Downlink (cp_downlink, node_store_apply_downlink)
    CP_EUNPINNED = -30800,      //  signed by a key other than the pinned root
    CP_EBADKIND = -30799,       //  a downlink entry of a kind we do not know
    CP_ENOTADDRESSED = -30798,  //  a downlink entry for another municipality or county
} cp_error_t;

//  Returns a fixed English message for a cp_error_t (or "unknown error").
const char *
    cp_strerror (int code);

//  Writes a message (printf format) into why, when why is not NULL, and
//  returns code: `return cp_error_why (CP_EBADID, why, size, "...", ...);`
int
    cp_error_why (int code, char *why, size_t why_size, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

#endif
