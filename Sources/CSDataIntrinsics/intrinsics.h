// Processor hints and vector searches Swift has no spelling for, as inline functions the compiler inlines into the
// Swift callers (a header only: nothing is linked).
#ifndef SDATA_INTRINSICS_H
#define SDATA_INTRINSICS_H

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE // O_DIRECT (before the first C library header)
#endif
#include <fcntl.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>

#endif

/// `open(2)`'s `O_DIRECT` (writes from the process's buffer straight to the device, past the page cache), whose value
/// differs between processors and which Swift's Glibc module does not declare; 0 where the system has none.
static inline int sdata_open_direct(void) {
#if defined(O_DIRECT)
    return O_DIRECT;
#else
    return 0;
#endif
}

/// Asks the processor to bring the cache line holding `address` into the caches ahead of a read; never faults.
static inline __attribute__((always_inline)) void sdata_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// The same ahead of a write (the line is fetched for ownership).
static inline __attribute__((always_inline)) void sdata_prefetch_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// The positions of the 64 bytes at `bytes` that equal `a`, `b` or `c`, as the bits of a word (byte i → bit i).
/// Reads exactly 64 bytes. On x86-64, four 16-byte SSE2 compares per byte value and a byte-mask extraction each
/// (`pmovmskb`, which Swift's SIMD types cannot express); elsewhere a byte loop the compiler may vectorize.
static inline __attribute__((always_inline)) uint64_t sdata_match_mask64(const uint8_t *bytes, uint8_t a, uint8_t b,
                                                                         uint8_t c) {
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b), vc = _mm_set1_epi8((char)c);
    uint64_t mask = 0;
    for (int block = 0; block < 4; block++) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(bytes + 16 * block));
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                         _mm_cmpeq_epi8(v, vc));
        mask |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * block);
    }
    return mask;
#else
    uint64_t mask = 0;
    for (int index = 0; index < 64; index++) {
        const uint8_t byte = bytes[index];
        mask |= (uint64_t)(byte == a || byte == b || byte == c) << index;
    }
    return mask;

#endif
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <tmmintrin.h>
#include <immintrin.h>

/// Whether the processor has SSSE3 (`pshufb`), which the validator below needs: every x86-64 made since about 2008.
static inline int sdata_has_ssse3(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSSE3) != 0;
}

/// The three lookup tables of the UTF-8 validators below (Keiser and Lemire's error classes of a two-byte window,
/// by the first byte's high and low nibble and the second byte's high nibble), into `tables[0...2]`.
static inline __attribute__((always_inline)) void sdata_utf8_tables(__m128i *tables) {
    enum {
        TOO_SHORT = 1 << 0, TOO_LONG = 1 << 1, OVERLONG_3 = 1 << 2, TOO_LARGE = 1 << 3, SURROGATE = 1 << 4,
        OVERLONG_2 = 1 << 5, TOO_LARGE_1000 = 1 << 6, OVERLONG_4 = 1 << 6, TWO_CONTS = 1 << 7,
        CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS
    };
    tables[0] = _mm_setr_epi8(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
        TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    tables[1] = _mm_setr_epi8(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
        CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000);
    tables[2] = _mm_setr_epi8(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
}

/// Whether `count` bytes at `bytes` are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
/// U+10FFFF, no truncated sequence at the end), sixteen bytes at a time: the lookup algorithm of Keiser and Lemire,
/// "Validating UTF-8 in less than one instruction per byte" (2021), as simdjson and simdutf implement it. Three
/// table lookups (`pshufb`) on the high and low nibbles of each byte and its predecessor classify every error of a
/// two-byte window; a saturating subtraction finds where a third or fourth continuation byte must follow. A block
/// of ASCII costs one test. Call only when ``sdata_has_ssse3()``.
__attribute__((target("ssse3"))) static inline int sdata_utf8_valid_ssse3(const uint8_t *bytes, long count) {
    __m128i tables[3];
    sdata_utf8_tables(tables);
    const __m128i byte1High = tables[0], byte1Low = tables[1], byte2High = tables[2];
    const __m128i nibble = _mm_set1_epi8(0x0F);
    // A block ending in the first byte of a sequence longer than what is left of it: the next must continue it.
    const __m128i incompleteLimit = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                  (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    __m128i error = _mm_setzero_si128(), previous = _mm_setzero_si128(), incomplete = _mm_setzero_si128();
    long position = 0;
    while (position < count) {
        __m128i input;
        if (position + 16 <= count) {
            input = _mm_loadu_si128((const __m128i *)(bytes + position));
        } else {
            // The tail, padded with NUL (ASCII): a sequence cut off by the end is then too short.
            uint8_t block[16] = {0};
            for (long index = 0; position + index < count; index++) block[index] = bytes[position + index];
            input = _mm_loadu_si128((const __m128i *)block);
        }
        position += 16;
        if (_mm_movemask_epi8(input) == 0) {
            error = _mm_or_si128(error, incomplete);
            incomplete = _mm_setzero_si128();
            previous = input;
            continue;
        }
        const __m128i previous1 = _mm_alignr_epi8(input, previous, 15);
        const __m128i high1 = _mm_shuffle_epi8(byte1High, _mm_and_si128(_mm_srli_epi16(previous1, 4), nibble));
        const __m128i low1 = _mm_shuffle_epi8(byte1Low, _mm_and_si128(previous1, nibble));
        const __m128i high2 = _mm_shuffle_epi8(byte2High, _mm_and_si128(_mm_srli_epi16(input, 4), nibble));
        const __m128i special = _mm_and_si128(_mm_and_si128(high1, low1), high2);
        const __m128i previous2 = _mm_alignr_epi8(input, previous, 14);
        const __m128i previous3 = _mm_alignr_epi8(input, previous, 13);
        // Bytes two after a lead of three or more bytes, or three after one of four: must be continuations.
        const __m128i must23 = _mm_or_si128(_mm_subs_epu8(previous2, _mm_set1_epi8((char)(0xE0 - 0x80))),
                                            _mm_subs_epu8(previous3, _mm_set1_epi8((char)(0xF0 - 0x80))));
        const __m128i must23High = _mm_and_si128(must23, _mm_set1_epi8((char)0x80));
        error = _mm_or_si128(error, _mm_xor_si128(must23High, special));
        incomplete = _mm_subs_epu8(input, incompleteLimit);
        previous = input;
    }
    error = _mm_or_si128(error, incomplete);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xFFFF;
}

/// Whether the processor and the system have AVX2 (the 32-byte form of the validator below): the processor's
/// feature bit and the operating system's saving of the YMM registers (`xgetbv`).
static inline int sdata_has_avx2(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX)) return 0;
    unsigned int xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 0x6) != 0x6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    return (ebx & bit_AVX2) != 0;
}

/// ``sdata_utf8_valid_ssse3`` thirty-two bytes at a time (AVX2): the same tables in both 128-bit halves (`vpshufb`
/// looks up within each half), the bytes before each position taken across the halves with `vperm2i128` and
/// `vpalignr`. Call only when ``sdata_has_avx2()``.
__attribute__((target("avx2"))) static inline int sdata_utf8_valid_avx2(const uint8_t *bytes, long count) {
    __m128i tables[3];
    sdata_utf8_tables(tables);
    const __m256i byte1High = _mm256_broadcastsi128_si256(tables[0]), byte1Low = _mm256_broadcastsi128_si256(tables[1]),
                  byte2High = _mm256_broadcastsi128_si256(tables[2]);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i incompleteLimit = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                     -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                     (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    __m256i error = _mm256_setzero_si256(), previous = _mm256_setzero_si256(), incomplete = _mm256_setzero_si256();
    long position = 0;
    while (position < count) {
        __m256i input;
        if (position + 32 <= count) {
            input = _mm256_loadu_si256((const __m256i *)(bytes + position));
        } else {
            uint8_t block[32] = {0};
            for (long index = 0; position + index < count; index++) block[index] = bytes[position + index];
            input = _mm256_loadu_si256((const __m256i *)block);
        }
        position += 32;
        if (_mm256_movemask_epi8(input) == 0) {
            error = _mm256_or_si256(error, incomplete);
            incomplete = _mm256_setzero_si256();
            previous = input;
            continue;
        }
        // The previous block's upper half next to this block's lower half: `vpalignr` then shifts within halves.
        const __m256i across = _mm256_permute2x128_si256(previous, input, 0x21);
        const __m256i previous1 = _mm256_alignr_epi8(input, across, 15);
        const __m256i high1 = _mm256_shuffle_epi8(byte1High, _mm256_and_si256(_mm256_srli_epi16(previous1, 4), nibble));
        const __m256i low1 = _mm256_shuffle_epi8(byte1Low, _mm256_and_si256(previous1, nibble));
        const __m256i high2 = _mm256_shuffle_epi8(byte2High, _mm256_and_si256(_mm256_srli_epi16(input, 4), nibble));
        const __m256i special = _mm256_and_si256(_mm256_and_si256(high1, low1), high2);
        const __m256i previous2 = _mm256_alignr_epi8(input, across, 14);
        const __m256i previous3 = _mm256_alignr_epi8(input, across, 13);
        const __m256i must23 = _mm256_or_si256(_mm256_subs_epu8(previous2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
                                               _mm256_subs_epu8(previous3, _mm256_set1_epi8((char)(0xF0 - 0x80))));
        const __m256i must23High = _mm256_and_si256(must23, _mm256_set1_epi8((char)0x80));
        error = _mm256_or_si256(error, _mm256_xor_si256(must23High, special));
        incomplete = _mm256_subs_epu8(input, incompleteLimit);
        previous = input;
    }
    error = _mm256_or_si256(error, incomplete);
    return _mm256_testz_si256(error, error);
}
#endif

#endif
