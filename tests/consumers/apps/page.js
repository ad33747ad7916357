// The page half of every browser app: runs `check` with the emulator's URL from `?api=` and
// writes the result (or the error) where the harness reads it.
export function show(check) {
  const api = new URL(location.href).searchParams.get('api');
  const out = document.getElementById('result');
  Promise.resolve()
    .then(() => check(api))
    .then(
      (result) => (out.textContent = JSON.stringify({ ok: true, ...result })),
      (error) => (out.textContent = JSON.stringify({ ok: false, error: `${error.code ?? ''} ${error.message}` })),
    );
}
