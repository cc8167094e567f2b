/* libxml2's push parser with SAX2 callbacks and its streaming reader, the parts of libxml2 S-Data uses.
 *
 * Debian builds libxml2 with ICU, and <libxml/encoding.h> then includes the system's <unicode/ucnv.h>, whose
 * declarations clash with the ICU copy inside Foundation (_FoundationICU) when both modules are imported. S-Data never
 * touches the ICU-specific fields of xmlCharEncodingHandler (it only passes pointers to libxml2), so the ICU part of
 * the headers is hidden here; libxml2 itself still converts encodings with ICU or iconv as it was built to. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
