#ifndef MIMS_CXML2_SHIM_H
#define MIMS_CXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, so encoding.h would include the system's ICU headers. A
   Swift module that also imports Foundation then sees two different `UErrorCode`s (the system's and
   Foundation's own copy in _FoundationICU) and, depending on the order the module cache is built
   in, fails to compile. mims never touches libxml2's encoding handlers (the only place ICU types
   appear), so the ICU part of the headers is hidden. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif
