// The system's libzstd (Debian: libzstd-dev), used to compress repository objects.
#include <zstd.h>
