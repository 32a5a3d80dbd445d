/*  cp_error: messages for the project's error codes.                         */

#include "cp_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *
cp_strerror (int code)
{
    switch ((cp_error_t) code) {
        case CP_OK:             return "success";
        case CP_EMALFORMED:     return "malformed input";
        case CP_ETOOBIG:        return "over a size limit";
        case CP_ETYPE:          return "value of the wrong type";
        case CP_EMISSING:       return "required field missing";
        case CP_EUNKNOWNFIELD:  return "field not allowed for this event type";
        case CP_EBADID:         return "invalid identifier";
        case CP_EBADDATE:       return "invalid date";
        case CP_EDATERANGE:     return "date out of range";
        case CP_EBADTYPE:       return "unknown event type";
        case CP_EBADCODE:       return "code not in the active catalogue";
        case CP_EBADAGE:        return "age out of range";
        case CP_EBADVALUE:      return "value out of range";
        case CP_EUNKNOWNCASE:   return "unknown case";
        case CP_ECASEOPEN:      return "case already opened";
        case CP_ECASECLOSED:    return "case is closed";
        case CP_EBEFOREOPEN:    return "dated before the case was opened";
        case CP_ECLOSEORDER:    return "closing dated before an event already recorded";
        case CP_ENOMEASURE:     return "no earlier measure_taken of this measure";
        case CP_ENOCOURT:       return "measure is not one a court confirms";
        case CP_EHISTORY:       return "case history over its limit";
        case CP_ESTORE:         return "storage failure";
        case CP_ENOTNODE:       return "not a cpsync node data directory";
        case CP_EEXISTS:        return "data directory already set up";
        case CP_ECATALOGUE:     return "catalogue does not load";
        case CP_EIO:            return "input/output error";
        case CP_EBUSY:          return "resource busy";
        case CP_ENOTCENTRAL:    return "not a cpsync central data directory";
        case CP_EMAPFULL:       return "storage map full (grown; transaction must be redone)";
        case CP_EUSAGE:         return "invalid usage";
        case CP_EOTHERSTORE:    return "backup of another store";
        case CP_ENOTFOUND:      return "no such record";
        case CP_EAUTH:          return "authentication failed";
        case CP_EREPLAY:        return "replayed message";
        case CP_EGAP:           return "sequence gap";
        case CP_EREVOKED:       return "key revoked";
        case CP_EUNKNOWNPEER:   return "unknown peer";
        case CP_EPROTOCOL:      return "protocol violation";
        case CP_EVERSION:       return "unsupported protocol version";
        case CP_EDIVERGED:      return "log diverged from the one the central holds";
        case CP_ECONFLICT:      return "event id already applied with other content";
        case CP_EFLOOD:         return "peer sent more than the central holds for one";
        case CP_EIDLE:          return "connection silent for too long";
        case CP_ECROWDED:       return "too many connections from one source in their handshake";
        case CP_EUNKNOWNKEY:    return "key not enrolled";
        case CP_EEXPIRED:       return "key expired";
        case CP_EIMPERSONATION: return "peer speaks as another municipality than its key's";
        case CP_EHANDSHAKE:     return "transport handshake failed";
        case CP_EINSECURE:      return "secret key file readable or writable by others";
        case CP_ENOTENROLLED:   return "not enrolled (no keys)";
        case CP_EROLLBACK:      return "older than the one held (key file, downlink entry)";
        case CP_EKEYCONFLICT:   return "key file of a serial already held, with other keys";
        case CP_ELASTKEY:       return "the central's only valid key of its kind";
        case CP_EUNPINNED:      return "signed by a key other than the pinned root";
        case CP_EBADKIND:       return "unknown downlink entry kind";
        case CP_ENOTADDRESSED:  return "downlink entry addressed to another municipality";
    }
    return "unknown error";
}

int
cp_error_why (int code, char *why, size_t why_size, const char *format, ...)
{
    if (why && why_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (why, why_size, format, args);
        va_end (args);
    }
    return code;
}
