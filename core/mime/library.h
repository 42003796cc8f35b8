// Process-wide GMime initialisation.
#pragma once

namespace mailvault::mime {

// Initialises GMime once per process (g_mime_init under std::call_once). Safe to call from any
// thread, any number of times; every entry point of core/mime that touches GMime calls it, so
// callers never need to. GMime is never shut down: parsing may still run on other threads
// while the process exits, and the few global tables it keeps live as long as the process
// (tests/sanitizers/lsan.supp covers the GType registrations).
void ensure_gmime_initialized() noexcept;

}  // namespace mailvault::mime
