/*  cp_municipality: the 61 municipalities and 12 counties of Albania, and
    the scopes of a view.

    The list is protocol/catalogue/municipalities.csv (code,name,county),
    turned into C at build time by embed_municipalities.cmake, so both
    daemons carry it without a file to install.  A municipality's index is
    its row in the CSV (0-based), a county's index its order of first
    appearance there; both are small, dense integers that the central uses
    in its store keys.  Because stored keys depend on them, rows may only
    be appended to the CSV: the central records the codes it was set up
    with and refuses to open under a list that reorders them.

    A county's code is the code of the municipality that is its seat
    ("berat" is both), so a scope string always says which is meant:
    "national", "county:CODE" or "municipality:CODE".                      */

#ifndef CP_MUNICIPALITY_H_INCLUDED
#define CP_MUNICIPALITY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CP_SCOPE_MAX 64                 //  characters in a scope string, with its NUL

typedef enum {
    CP_SCOPE_NATIONAL,
    CP_SCOPE_COUNTY,
    CP_SCOPE_MUNICIPALITY
} cp_scope_kind_t;

typedef struct {
    cp_scope_kind_t kind;
    int index;                          //  county or municipality index; 0 for national
} cp_scope_t;

//  Number of municipalities (61).
int
    cp_municipality_count (void);

//  The index of a municipality code, or -1 when no municipality has it.
int
    cp_municipality_index (const char *code);

//  The code, the name (UTF-8, as the CSV spells it) and the county index of
//  a municipality; the caller has checked 0 <= index < count.
const char *
    cp_municipality_code (int index);
const char *
    cp_municipality_name (int index);
int
    cp_municipality_county (int index);

//  Number of counties (12).
int
    cp_county_count (void);

//  The index of a county code (its seat's code), or -1.
int
    cp_county_index (const char *code);

//  The code and name of a county (its seat's), and its seat's municipality
//  index; the caller has checked 0 <= county < cp_county_count ().
const char *
    cp_county_code (int county);
const char *
    cp_county_name (int county);
int
    cp_county_seat (int county);

//  Parses "national", "county:CODE" or "municipality:CODE" into scope.
//  Returns 0, or CP_EUSAGE when the text is none of them or names a code
//  that is not a county or municipality.
int
    cp_scope_parse (const char *text, cp_scope_t *scope);

//  Writes the scope's canonical string into buf (CP_SCOPE_MAX bytes).
void
    cp_scope_format (const cp_scope_t *scope, char *buf);

//  True when municipality (an index) lies within scope.
bool
    cp_scope_contains (const cp_scope_t *scope, int municipality);

#endif
