/**
 * The `--filter` syntax as `taboot search --help` shows it, in a module of its own (no imports) so
 * that showing help loads nothing else; `parseFilters` (filters.ts) reads exactly this syntax.
 */
export const filterSyntaxHelp = `Filter expressions (--filter, repeatable, ANDed):
  field=value        equals (an array field matches when it contains the value)
  field=a,b          any of
  field!=value       none of (also field!=a,b); points without the field are kept
  field>=value       range: also >, <, <=; numbers, dates (2024-01-01, the whole UTC day)
                     or ISO datetimes (2024-01-01T12:00:00Z), compared as Unix seconds
  field~text         full-text match (needs a text index on the field)
Quote values with double quotes to include commas, = or spaces: title~"health check".`;
