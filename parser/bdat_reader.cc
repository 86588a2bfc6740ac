// BdatReader is header-only (a counter); this file keeps the header compiled
// on its own as part of smtp_parser.
#include "parser/bdat_reader.h"
