// The image's HEALTHCHECK: healthy means ready to serve (/readyz answers 200). Plain Node, no curl
// in slim images; exits 0 or 1 within the timeout.
const port = process.env.PORT || '8080';
const path = process.argv[2] || '/readyz';
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), 2500);
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: controller.signal });
  process.exitCode = res.status === 200 ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
}
