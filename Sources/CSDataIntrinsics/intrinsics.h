// Processor hints Swift has no spelling for, as inline functions the compiler inlines into the Swift callers.
#ifndef SDATA_INTRINSICS_H
#define SDATA_INTRINSICS_H

/// Asks the processor to bring the cache line holding `address` into the caches ahead of a read; never faults.
static inline __attribute__((always_inline)) void sdata_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// The same ahead of a write (the line is fetched for ownership).
static inline __attribute__((always_inline)) void sdata_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
