/*
 * TEST DOUBLE of the private libraries jellyfin-ffmpeg ships in /usr/lib/jellyfin-ffmpeg/lib
 * (Immich v3.2.0's image: its start.sh appends that folder to LD_LIBRARY_PATH, see
 * shared/reference/immich-v3-contract.md §A.4). Simplified: one tiny library, built with
 * SONAME libimmich-double-va.so.2, so the double ffmpeg/ffprobe only start when the loader is
 * told where it is (they carry no RPATH/RUNPATH, like the real binaries).
 */
const char *immich_double_va_version(void) { return "immich-double-va 2.0 (test double)"; }
