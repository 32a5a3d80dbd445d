/*  central_dashboard: the dashboard's page, style sheet and script
    (central/dashboard/), built into the program by embed_asset.cmake and
    served by central_http at / and under /dashboard/ with the catalogues'
    labels and the list of municipalities.  The page draws its charts itself (SVG) from
    the JSON API, so the browser fetches nothing from anywhere else.      */

#ifndef CENTRAL_DASHBOARD_H_INCLUDED
#define CENTRAL_DASHBOARD_H_INCLUDED

extern const unsigned char central_dashboard_html [];
extern const unsigned char central_dashboard_css [];
extern const unsigned char central_dashboard_js [];
extern const unsigned char central_dashboard_catalogue_v1 [];   //  protocol/catalogue's, for labels
extern const unsigned char central_dashboard_catalogue_v2 [];
extern const unsigned char central_dashboard_municipalities []; //  CSV: code,name,county

#endif
