#include <libxml/xmlreader.h>
#include <libxml/encoding.h>
