#pragma once
/// The one SQL spelling of "in service" (riders may see it, a start may use it), shared by
/// sessiond's start pre-check and the API's rider lists. Macros, because the stores build their
/// SQL constants by pasting string literals; the argument is the table alias used in the query.

/// A station in service: enabled, and its property and provider (if it has them) enabled.
#define PILEHUB_STATION_IN_SERVICE_SQL(st)                                                                             \
    "(" #st ".enabled = 1 AND (" #st ".property_id IS NULL OR EXISTS (SELECT 1 FROM properties p JOIN providers v "    \
    "ON v.id = p.provider_id WHERE p.id = " #st ".property_id AND p.enabled = 1 AND v.enabled = 1)))"

/// A device in service: installed (not in stock, not retired), enabled, in an enabled area (or none).
#define PILEHUB_DEVICE_IN_SERVICE_SQL(d)                                                                               \
    "(" #d ".lifecycle = 'installed' AND " #d ".enabled = 1 AND (" #d                                                  \
    ".area_id IS NULL OR EXISTS (SELECT 1 FROM areas a WHERE a.id = " #d ".area_id AND a.enabled = 1)))"
