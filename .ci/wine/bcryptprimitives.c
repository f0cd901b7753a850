/*
 * bcryptprimitives.dll for Wine 8, built by .ci/windows.sh with MinGW's gcc.
 *
 * Rust's std for Windows fills HashMap keys and other random bytes with ProcessPrng from
 * bcryptprimitives.dll (Windows 10 and later). Wine 8, the version Debian ships, has no such
 * DLL, so every Rust program built for x86_64-pc-windows-gnu stops at its first random number.
 * This DLL exports ProcessPrng and forwards it to advapi32's SystemFunction036 (RtlGenRandom),
 * which Wine has. It exists only so that the tests can run under Wine; Windows has the real one.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `data` with `length` random bytes. Like Windows' own, it always returns TRUE: a
 * failure of the system's generator ends the process instead of handing back weak bytes. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG piece = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, piece)) {
            ExitProcess(0xC0000001); /* STATUS_UNSUCCESSFUL */
        }
        data += piece;
        length -= piece;
    }
    return TRUE;
}
