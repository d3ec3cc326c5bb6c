/* Copyright otelcol-runcontext authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * ProcessPrng for Wine 8.0, which has no bcryptprimitives.dll: Go's
 * Windows runtime (1.24 on) loads it at start for its random numbers, and
 * stops without it. This forwards to RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has. Only the tests that run Windows
 * binaries under Wine use it (scripts/test-windows.sh); Windows itself has
 * the real DLL.
 */
#include <windows.h>

typedef BOOLEAN(WINAPI *rtl_gen_random)(PVOID, ULONG);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	static rtl_gen_random gen;
	if (gen == NULL) {
		HMODULE advapi = LoadLibraryA("advapi32.dll");
		if (advapi == NULL)
			return FALSE;
		gen = (rtl_gen_random)GetProcAddress(advapi, "SystemFunction036");
		if (gen == NULL)
			return FALSE;
	}
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!gen(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
